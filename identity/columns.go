// Package identity decides which of a user's attributes an export carries,
// and how: the columns and their names and types, taken from the pool's
// schema, and the values pseudonymised (keyed HMAC) or redacted on the way.
package identity

import (
	"fmt"
	"slices"
	"strings"

	"github.com/cognito-export/cognito-export/internal/spelling"
)

// Type is a column's type in the output.
type Type string

const (
	String  Type = "string"
	Boolean Type = "boolean" // Cognito's Boolean attributes: "true" or "false"
	Integer Type = "integer" // Cognito's Number attributes (whole numbers)
)

// Treatment is what happens to a column's values on the way out.
type Treatment string

const (
	Plain        Treatment = ""
	Pseudonymize Treatment = "pseudonymized" // HMAC-SHA-256, hex
	Redact       Treatment = "redacted"      // always NULL
)

// Column is one attribute column of an export.
type Column struct {
	Attribute string    `json:"attribute"` // Cognito's name: email, custom:department
	Name      string    `json:"column"`    // the column's name: email, custom_department
	Type      Type      `json:"type"`
	Treatment Treatment `json:"treatment,omitempty"`
}

// SchemaAttribute is one attribute of the pool's schema, as DescribeUserPool
// gives it.
type SchemaAttribute struct {
	Name     string // as Cognito names it; custom ones start with "custom:"
	DataType string // String, Number, DateTime or Boolean
}

// Standard are the OIDC standard attributes Cognito defines, in the order
// its schema lists them; sub is not among them, as every export has it in
// user_sub.
var Standard = []string{
	"name", "given_name", "family_name", "middle_name", "nickname", "preferred_username",
	"profile", "picture", "website", "email", "email_verified", "gender", "birthdate",
	"zoneinfo", "locale", "phone_number", "phone_number_verified", "address", "updated_at",
}

// DefaultAttributes is what a plain export carries: enough to name the
// person when the username is a generated UUID.
const DefaultAttributes = "email"

// ColumnName maps a Cognito attribute name to a column name that Athena,
// Glue, Spark and DuckDB take without quoting: lower case, and every
// character other than a letter, digit or underscore (the ":" of custom
// attributes, a "-" or a ".") becomes "_". custom:department is
// custom_department; dev:custom:x is dev_custom_x.
func ColumnName(attribute string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(attribute) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	name := b.String()
	if name == "" || name[0] >= '0' && name[0] <= '9' {
		name = "attr_" + name
	}
	return name
}

// reserved are the export's own columns, which no attribute may shadow.
var reserved = []string{
	"user_pool_id", "username", "user_sub", "user_status", "user_enabled",
	"user_create_date", "user_last_modified_date",
	"group_name", "group_description", "group_role_arn", "group_precedence",
	"group_creation_date", "group_last_modified_date", "exported_at",
}

// Select resolves an --attributes list against the pool's schema: names,
// "standard", "all" or "none". An unknown name is refused with the nearest
// names the schema has. sub is left out: every row has it as user_sub.
func Select(list []string, schema []SchemaAttribute) ([]Column, error) {
	types := make(map[string]string, len(schema))
	var all []string
	for _, a := range schema {
		types[a.Name] = a.DataType
		if a.Name != "sub" {
			all = append(all, a.Name)
		}
	}
	var names []string
	for _, raw := range list {
		name := strings.TrimSpace(raw)
		switch name {
		case "", "none":
			continue
		case "all":
			names = append(names, all...)
		case "standard":
			for _, s := range Standard {
				if _, ok := types[s]; ok {
					names = append(names, s)
				}
			}
		case "sub":
			// Already user_sub.
		default:
			if _, ok := types[name]; !ok {
				return nil, fmt.Errorf("--attributes: the pool has no attribute %q%s", name, nearest(name, all))
			}
			names = append(names, name)
		}
	}
	if slices.Contains(list, "none") && len(names) > 0 {
		return nil, fmt.Errorf("--attributes: none means no attributes; it cannot be combined with %v", names)
	}
	var cols []Column
	seen := map[string]string{}
	for _, name := range names {
		col := Column{Attribute: name, Name: ColumnName(name), Type: typeOf(types[name])}
		if other, dup := seen[col.Name]; dup {
			if other == name {
				continue // named twice, or by "all" and by name
			}
			return nil, fmt.Errorf("--attributes: %q and %q would both be column %s", other, name, col.Name)
		}
		if slices.Contains(reserved, col.Name) {
			return nil, fmt.Errorf("--attributes: %q would be column %s, which the export already has", name, col.Name)
		}
		seen[col.Name] = name
		cols = append(cols, col)
	}
	return cols, nil
}

// typeOf is the column type of a Cognito data type. DateTime attributes
// stay strings: Cognito stores them as text in no one format.
func typeOf(dataType string) Type {
	switch dataType {
	case "Boolean":
		return Boolean
	case "Number":
		return Integer
	}
	return String
}

// nearest names up to three schema attributes closest to name, for the
// refusal of an unknown one.
func nearest(name string, schema []string) string {
	type scored struct {
		name string
		d    int
	}
	var s []scored
	for _, n := range schema {
		s = append(s, scored{n, spelling.Distance(strings.ToLower(name), strings.ToLower(n))})
	}
	slices.SortStableFunc(s, func(a, b scored) int { return a.d - b.d })
	var out []string
	for _, c := range s {
		if len(out) == 3 || c.d > max(3, len(name)/2) {
			break
		}
		out = append(out, c.name)
	}
	if len(out) == 0 {
		return " (see DescribeUserPool's SchemaAttributes, or use all)"
	}
	return "; did you mean " + strings.Join(out, ", ") + "?"
}

// Treat marks the columns named by pseudonymize and redact (by attribute
// or column name). A name that is not an exported column is refused, and
// so is pseudonymising a column that is not a string.
func Treat(cols []Column, pseudonymize, redact []string) ([]Column, error) {
	cols = slices.Clone(cols)
	mark := func(flag string, names []string, t Treatment) error {
		for _, raw := range names {
			name := strings.TrimSpace(raw)
			if name == "" {
				continue
			}
			i := slices.IndexFunc(cols, func(c Column) bool { return c.Attribute == name || c.Name == name })
			switch {
			case i < 0:
				return fmt.Errorf("%s %s: not an exported attribute; add it to --attributes (exported: %s)", flag, name, list(cols))
			case cols[i].Treatment != Plain && cols[i].Treatment != t:
				return fmt.Errorf("%s %s: the column is already %s", flag, name, cols[i].Treatment)
			case t == Pseudonymize && cols[i].Type != String:
				return fmt.Errorf("%s %s: only text attributes can be pseudonymised (this one is %s); use --redact to drop it", flag, name, cols[i].Type)
			}
			cols[i].Treatment = t
		}
		return nil
	}
	if err := mark("--pseudonymize", pseudonymize, Pseudonymize); err != nil {
		return nil, err
	}
	if err := mark("--redact", redact, Redact); err != nil {
		return nil, err
	}
	return cols, nil
}

func list(cols []Column) string {
	if len(cols) == 0 {
		return "none"
	}
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.Attribute
	}
	return strings.Join(names, ",")
}

// Pseudonymized reports whether any column is pseudonymised: the run needs
// a key.
func Pseudonymized(cols []Column) bool {
	return slices.ContainsFunc(cols, func(c Column) bool { return c.Treatment == Pseudonymize })
}

// Keyword reports whether an --attributes entry stands for several
// attributes (standard, all) rather than naming one.
func Keyword(entry string) bool {
	entry = strings.TrimSpace(entry)
	return entry == "standard" || entry == "all"
}

// Named are the columns an --attributes list names one by one, as
// strings: enough to check --pseudonymize and --redact against it before
// the pool's schema is read.
func Named(list []string) []Column {
	var cols []Column
	for _, raw := range list {
		if name := strings.TrimSpace(raw); name != "" && name != "none" && !Keyword(name) {
			cols = append(cols, Column{Attribute: name, Name: ColumnName(name), Type: String})
		}
	}
	return cols
}
