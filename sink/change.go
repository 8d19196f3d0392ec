package sink

import (
	"bufio"
	"fmt"
	"io"
	"time"

	"github.com/xitongsys/parquet-go/layout"
)

// Change is one row of a diff between two exports: one fact that changed
// (a user, a membership, a field of a user or a group). Empty strings are
// absent values.
type Change struct {
	Change     string
	UserPoolID string
	Username   string
	UserSub    string
	// Attrs are the identity attribute columns both exports have, as text,
	// in the order of the writer's ChangeAttributes.
	Attrs         []Attr
	GroupName     string
	GroupRoleArn  string
	Field         string
	OldValue      string
	NewValue      string
	OldExportedAt time.Time
	NewExportedAt time.Time
}

// ChangesTable is the manifest parameter "table" of a diff: its columns
// are ChangeColumnsWith, not a membership export's.
const ChangesTable = "changes"

// ChangeTextColumn says whether a diff's CSV neutralises column c.
func ChangeTextColumn(c string) bool {
	switch c {
	case "change", "user_pool_id", "old_exported_at", "new_exported_at":
		return false
	}
	return true
}

// ChangeColumnsWith are a diff's columns: attrs sit after the user's
// columns, so that a person is named before what changed.
func ChangeColumnsWith(attrs []string) []string {
	cols := []string{"change", "user_pool_id", "username", "user_sub"}
	cols = append(cols, attrs...)
	return append(cols, "group_name", "group_role_arn", "field", "old_value", "new_value", "old_exported_at", "new_exported_at")
}

// NewChangeWriter writes a diff's rows in the format of opts; attrs name
// the attribute columns (all text).
func NewChangeWriter(dest Destination, opts WriterOptions, attrs []string) (*PartWriter[Change], error) {
	if err := checkOptions(opts); err != nil {
		return nil, err
	}
	cols := ChangeColumnsWith(attrs)
	return &PartWriter[Change]{dest: dest, opts: opts, newEnc: func(w io.Writer) (encoderOf[Change], error) {
		if opts.Format == "parquet" {
			schema, err := changeSchemaJSON(cols)
			if err != nil {
				return nil, err
			}
			return newParquetCore(w, opts.Compression, schema, len(cols), bufferChange, fillChange)
		}
		return newChangeCSVEncoder(w, cols, opts.CSVRaw)
	}}, nil
}

// changeSchemaJSON: every column is optional text but the two timestamps.
func changeSchemaJSON(cols []string) (string, error) {
	fields := make([]field, 0, len(cols))
	for i, c := range cols {
		tag := "name=" + c + ", repetitiontype=OPTIONAL, type=BYTE_ARRAY, convertedtype=UTF8"
		switch {
		case i == 0 || c == "user_pool_id" || c == "field":
			tag += ", encoding=PLAIN_DICTIONARY"
		case i >= len(cols)-2:
			tag = "name=" + c + ", repetitiontype=OPTIONAL, type=INT64, convertedtype=TIMESTAMP_MILLIS, logicaltype=TIMESTAMP, logicaltype.isadjustedtoutc=true, logicaltype.unit=MILLIS"
		}
		fields = append(fields, field{tag})
	}
	return schemaJSON(fields)
}

// bufferChange copies the attributes: the caller may reuse them.
func bufferChange(c *Change) Change {
	b := *c
	b.Attrs = append([]Attr(nil), c.Attrs...)
	return b
}

func fillChange(c *boxCache, cols []*layout.Table, r *Change) error {
	text := func(i int, s string) { optional(cols[i], s, s != "") }
	optional(cols[0], c.str(0, r.Change), true)
	optional(cols[1], c.str(1, r.UserPoolID), r.UserPoolID != "")
	text(2, r.Username)
	text(3, r.UserSub)
	n := len(cols) - 11 // attribute columns
	if len(r.Attrs) != n {
		return fmt.Errorf("change row has %d attributes, the schema %d", len(r.Attrs), n)
	}
	for i, a := range r.Attrs {
		optional(cols[4+i], a.Value, a.Set && a.Value != "")
	}
	k := 4 + n
	optional(cols[k], c.str(2, r.GroupName), r.GroupName != "")
	optional(cols[k+1], c.str(3, r.GroupRoleArn), r.GroupRoleArn != "")
	optional(cols[k+2], c.str(4, r.Field), r.Field != "")
	text(k+3, r.OldValue)
	text(k+4, r.NewValue)
	optionalTime(cols[k+5], c, 0, r.OldExportedAt)
	optionalTime(cols[k+6], c, 1, r.NewExportedAt)
	return nil
}

// changeCSVEncoder writes a diff as CSV, neutralising every text cell but
// the change kind and the timestamps.
type changeCSVEncoder struct {
	csv  *csvEncoder
	rec  []string
	cols int
}

func newChangeCSVEncoder(w io.Writer, cols []string, raw bool) (*changeCSVEncoder, error) {
	e := &csvEncoder{w: bufio.NewWriter(w), record: make([]string, len(cols)), raw: raw}
	if err := e.write(cols); err != nil {
		return nil, err
	}
	return &changeCSVEncoder{csv: e, rec: make([]string, len(cols)), cols: len(cols)}, nil
}

func (e *changeCSVEncoder) Encode(r *Change) error {
	rec := e.rec[:0]
	rec = append(rec, r.Change, r.UserPoolID, r.Username, r.UserSub)
	for _, a := range r.Attrs {
		rec = append(rec, a.Value)
	}
	rec = append(rec, r.GroupName, r.GroupRoleArn, r.Field, r.OldValue, r.NewValue)
	if len(rec) != e.cols-2 {
		return fmt.Errorf("change row has %d attributes, the header %d", len(r.Attrs), e.cols-11)
	}
	if !e.csv.raw {
		for i := 2; i < len(rec); i++ {
			rec[i] = Neutralize(rec[i])
		}
	}
	rec = append(rec, csvTime(r.OldExportedAt), csvTime(r.NewExportedAt))
	return e.csv.write(rec)
}

func (e *changeCSVEncoder) Close() error { return e.csv.Close() }
