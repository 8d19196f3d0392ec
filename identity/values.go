package identity

import (
	"encoding/json"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cognito-export/cognito-export/sink"
)

// UnparsedColumn holds, as a JSON object of column name to value, the
// values of typed columns that did not parse as their type: they are kept
// as Cognito returned them, never dropped. It is there whenever a typed
// column is, so that every part has the same columns.
const UnparsedColumn = "unparsed_attributes"

// Extractor turns a user's attributes, as ListUsers or ListUsersInGroup
// return them, into the row's attribute values: typed, pseudonymised or
// redacted as the columns say. It is safe for concurrent use.
type Extractor struct {
	cols     []Column
	index    map[string]int // attribute name -> column
	pseudo   *Pseudonymizer
	unparsed int // the UnparsedColumn's index in the values, or -1
}

// NewExtractor returns the extractor of cols; key is needed when a column
// is pseudonymised.
func NewExtractor(cols []Column, key Key) (*Extractor, error) {
	x := &Extractor{cols: cols, index: make(map[string]int, len(cols)), unparsed: -1}
	for i, c := range cols {
		x.index[c.Attribute] = i
		if c.Type != String && c.Treatment != Redact {
			x.unparsed = len(cols)
		}
	}
	if Pseudonymized(cols) {
		if key.Empty() {
			return nil, ErrNoKey
		}
		x.pseudo = NewPseudonymizer(key)
	}
	return x, nil
}

// Columns are the sink's attribute columns: one per column, then the
// UnparsedColumn when a column is typed.
func (x *Extractor) Columns() []sink.AttrColumn {
	out := make([]sink.AttrColumn, 0, len(x.cols)+1)
	for _, c := range x.cols {
		t := sink.AttrString
		switch c.Type {
		case Boolean:
			t = sink.AttrBoolean
		case Integer:
			t = sink.AttrInteger
		}
		out = append(out, sink.AttrColumn{Name: c.Name, Type: t})
	}
	if x.unparsed >= 0 {
		out = append(out, sink.AttrColumn{Name: UnparsedColumn, Type: sink.AttrString})
	}
	return out
}

// Wanted reports whether attribute is one of the columns: the by-group
// strategy's member lists return every attribute and keep only these.
func (x *Extractor) Wanted(attribute string) bool {
	_, ok := x.index[attribute]
	return ok
}

// Values are the attribute values of one user, one per Columns entry; nil
// when there are no columns.
func (x *Extractor) Values(attrs []types.AttributeType) []sink.Attr {
	n := len(x.cols)
	if x.unparsed >= 0 {
		n++
	}
	if n == 0 {
		return nil
	}
	out := make([]sink.Attr, n)
	var unparsed map[string]string
	for _, a := range attrs {
		i, ok := x.index[aws.ToString(a.Name)]
		if !ok || a.Value == nil {
			continue
		}
		c, v := x.cols[i], *a.Value
		switch {
		case c.Treatment == Redact:
			continue
		case c.Treatment == Pseudonymize:
			out[i] = sink.Attr{Value: x.pseudo.Pseudonym(c.Attribute, v), Set: true}
			continue
		}
		canonical, ok := parse(c.Type, v)
		if !ok {
			if unparsed == nil {
				unparsed = map[string]string{}
			}
			unparsed[c.Name] = v
			continue
		}
		out[i] = sink.Attr{Value: canonical, Set: true}
	}
	if unparsed != nil {
		data, _ := json.Marshal(unparsed) // a map of strings always marshals
		out[x.unparsed] = sink.Attr{Value: string(data), Set: true}
	}
	return out
}

// parse returns v in the canonical text of its type, or false.
func parse(t Type, v string) (string, bool) {
	switch t {
	case Boolean:
		switch v {
		case "true", "false":
			return v, true
		}
		return "", false
	case Integer:
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return "", false
		}
		return strconv.FormatInt(n, 10), true
	}
	return v, true
}
