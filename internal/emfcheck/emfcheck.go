// Package emfcheck holds a line of CloudWatch's Embedded Metric Format to
// the specification: its JSON Schema (emf-schema.json, with its source
// named in it) through a JSON Schema validator, and the rules across
// members that a schema cannot say. Imported only by tests.
package emfcheck

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

//go:embed emf-schema.json
var schemaJSON []byte

// MaxLine is the largest log event CloudWatch Logs takes as EMF (the
// specification's 256 KB, the smaller of the limits it has stated).
const MaxLine = 256 << 10

// Doc is one EMF line, read back.
type Doc struct {
	Root       map[string]any
	Timestamp  time.Time
	Namespace  string
	Dimensions [][]string
	Units      map[string]string // metric name -> unit ("None" when unset)
}

// Metric is the value of a metric target of the document.
func (d Doc) Metric(name string) (float64, bool) {
	v, ok := d.Root[name].(float64)
	return v, ok
}

func compile() (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schemaJSON))
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("emf-schema.json", doc); err != nil {
		return nil, err
	}
	return c.Compile("emf-schema.json")
}

// Check reads one line as an EMF document and checks it: the schema, then
// that every dimension reference names a string member of the root and
// every metric a number or an array of at most 100 numbers, that a name
// is defined once, the size, and that the timestamp is in milliseconds
// (within a day of now: one in seconds is a thousand times too small).
func Check(line []byte, now time.Time) (Doc, error) {
	if len(line) > MaxLine {
		return Doc{}, fmt.Errorf("%d bytes, over %d", len(line), MaxLine)
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return Doc{}, fmt.Errorf("not JSON: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Doc{}, errors.New("data after the JSON object")
	}
	sch, err := compile()
	if err != nil {
		return Doc{}, fmt.Errorf("the schema: %w", err)
	}
	if err := sch.Validate(v); err != nil {
		return Doc{}, fmt.Errorf("against the schema: %w", err)
	}
	var doc struct {
		AWS struct {
			Timestamp         int64 `json:"Timestamp"`
			CloudWatchMetrics []struct {
				Namespace  string     `json:"Namespace"`
				Dimensions [][]string `json:"Dimensions"`
				Metrics    []struct{ Name, Unit string }
			} `json:"CloudWatchMetrics"`
		} `json:"_aws"`
	}
	if err := json.Unmarshal(line, &doc); err != nil {
		return Doc{}, err
	}
	var root map[string]any
	if err := json.Unmarshal(line, &root); err != nil {
		return Doc{}, err
	}
	out := Doc{Root: root, Timestamp: time.UnixMilli(doc.AWS.Timestamp), Units: map[string]string{}}
	if d := now.Sub(out.Timestamp); d > 24*time.Hour || d < -24*time.Hour {
		return Doc{}, fmt.Errorf("timestamp %d is not milliseconds of now (%s away)", doc.AWS.Timestamp, d)
	}
	if len(doc.AWS.CloudWatchMetrics) != 1 {
		return Doc{}, fmt.Errorf("%d metric directives, want one", len(doc.AWS.CloudWatchMetrics))
	}
	dir := doc.AWS.CloudWatchMetrics[0]
	out.Namespace, out.Dimensions = dir.Namespace, dir.Dimensions
	for _, set := range dir.Dimensions {
		for _, key := range set {
			s, ok := root[key].(string)
			if !ok {
				return Doc{}, fmt.Errorf("dimension %q: the root has no string member of that name", key)
			}
			if len(s) == 0 || len(s) > 1024 {
				return Doc{}, fmt.Errorf("dimension %q: value of %d characters (CloudWatch takes 1 to 1024)", key, len(s))
			}
		}
	}
	for _, m := range dir.Metrics {
		if _, dup := out.Units[m.Name]; dup {
			return Doc{}, fmt.Errorf("metric %q defined twice", m.Name)
		}
		switch t := root[m.Name].(type) {
		case float64:
		case []any:
			if len(t) > 100 {
				return Doc{}, fmt.Errorf("metric %q: %d values, over 100", m.Name, len(t))
			}
			for _, x := range t {
				if _, ok := x.(float64); !ok {
					return Doc{}, fmt.Errorf("metric %q: a value that is not a number", m.Name)
				}
			}
		default:
			return Doc{}, fmt.Errorf("metric %q: the root has no number of that name", m.Name)
		}
		unit := m.Unit
		if unit == "" {
			unit = "None"
		}
		out.Units[m.Name] = unit
	}
	return out, nil
}
