package export

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/cognito-export/cognito-export/cognito"
	"github.com/cognito-export/cognito-export/fault"
	"github.com/cognito-export/cognito-export/identity"
	"github.com/cognito-export/cognito-export/sink"
)

// attributePlan is what a run knows of the identity attributes it exports, settled
// before the first row: the columns, the extractor that fills them, and
// what ListUsers is asked for.
type attributePlan struct {
	columns []identity.Column
	extract *identity.Extractor
	// attributesToGet is ListUsers' AttributesToGet, or nil for every
	// attribute (see listAttributes).
	attributesToGet []string
}

// identify resolves --attributes against the pool's schema (DescribeUserPool)
// and checks what is done to them; an unknown name is refused before any
// user is listed.
func (e *Env) identify(ctx context.Context) (*attributePlan, error) {
	list := e.cfg.Attributes
	var schema []identity.SchemaAttribute
	required := map[string]bool{"sub": true}
	if !none(list) {
		pool, err := e.describePool(ctx)
		switch {
		case err != nil && fault.Denied(err) && !slices.Contains(list, "all") && !slices.Contains(list, "standard"):
			// A policy without DescribeUserPool still exports the attributes
			// named, typed as Cognito defines the standard ones.
			e.log.Warn("DescribeUserPool denied: the attributes named are not checked against the pool's schema (grant cognito-idp:DescribeUserPool to check them)",
				"phase", "plan", "attributes", strings.Join(list, ","))
			schema = assumedSchema(list)
		case err != nil:
			return nil, fmt.Errorf("read the pool's attributes for --attributes: %w", cognito.Explain("DescribeUserPool", err))
		default:
			for _, a := range pool.SchemaAttributes {
				name := aws.ToString(a.Name)
				schema = append(schema, identity.SchemaAttribute{Name: name, DataType: string(a.AttributeDataType)})
				required[name] = aws.ToBool(a.Required)
			}
		}
	}
	cols, err := identity.Select(list, schema)
	if err != nil {
		return nil, fault.Usagef(err.Error())
	}
	if cols, err = identity.Treat(cols, e.cfg.Pseudonymize, e.cfg.Redact); err != nil {
		return nil, fault.Usagef(err.Error())
	}
	x, err := identity.NewExtractor(cols, e.cfg.Key)
	if err != nil {
		return nil, fault.Usagef(err.Error())
	}
	w := &attributePlan{columns: cols, extract: x}
	w.attributesToGet = listAttributes(cols, required, e.cfg.Filter)
	return w, nil
}

// listAttributes is ListUsers' AttributesToGet: the columns and sub, when
// Cognito can answer it. Cognito refuses the whole page when a listed user
// lacks a requested attribute ("Amazon Cognito returns an error if not all
// users in the results have set a value for the attribute you request"),
// so it is sent only when every column is a required attribute, which
// every user has; otherwise all attributes come and the extractor keeps
// the columns. A filter may select users without some attribute too.
func listAttributes(cols []identity.Column, required map[string]bool, filter string) []string {
	if filter != "" {
		return nil
	}
	get := []string{"sub"}
	for _, c := range cols {
		if !required[c.Attribute] {
			return nil
		}
		get = append(get, c.Attribute)
	}
	return get
}

func none(list []string) bool {
	for _, a := range list {
		if a = strings.TrimSpace(a); a != "" && a != "none" {
			return false
		}
	}
	return true
}

// assumedSchema types the attributes named as Cognito defines them, for a
// run that may not read the pool's schema.
func assumedSchema(list []string) []identity.SchemaAttribute {
	var s []identity.SchemaAttribute
	for _, name := range list {
		t := "String"
		switch name {
		case "email_verified", "phone_number_verified":
			t = "Boolean"
		case "updated_at":
			t = "Number"
		}
		s = append(s, identity.SchemaAttribute{Name: name, DataType: t})
	}
	return s
}

// params are what a checkpoint of this run records of the identity
// columns: a resume with other columns, treatments, key or filter would
// write parts that disagree with the committed ones.
func (w *attributePlan) params(cfg *Config) map[string]string {
	var attrs, pseudo, redact []string
	for _, c := range w.columns {
		attrs = append(attrs, c.Attribute)
		switch c.Treatment {
		case identity.Pseudonymize:
			pseudo = append(pseudo, c.Attribute)
		case identity.Redact:
			redact = append(redact, c.Attribute)
		}
	}
	return map[string]string{
		"attributes":   strings.Join(attrs, ","),
		"pseudonymize": strings.Join(pseudo, ","),
		"redact":       strings.Join(redact, ","),
		"key_id":       w.keyID(cfg),
		"filter":       cfg.Filter,
		"csv_raw":      fmt.Sprint(cfg.CSVRaw && cfg.Format == "csv"),
	}
}

// keyID identifies the key of the pseudonymised columns; "" when none is.
func (w *attributePlan) keyID(cfg *Config) string {
	if !identity.Pseudonymized(w.columns) {
		return ""
	}
	return cfg.Key.ID()
}

// manifestAttributes describe the columns in the manifest.
func (w *attributePlan) manifestAttributes() []sink.ManifestAttribute {
	out := []sink.ManifestAttribute{}
	for _, c := range w.columns {
		out = append(out, sink.ManifestAttribute{Attribute: c.Attribute, Column: c.Name, Type: string(c.Type), Treatment: string(c.Treatment)})
	}
	return out
}
