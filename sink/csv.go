package sink

import (
	"bufio"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// csvEncoder writes RFC 4180 CSV with a header and RFC 3339 UTC timestamps.
// Absent values are empty fields: CSV has no NULL.
//
// Not encoding/csv: with UseCRLF its Writer also turns a "\n" inside a quoted
// field into "\r\n", so a description would not read back as Cognito
// returned it (DuckDB and Python keep the "\r"). Here records end in CRLF and
// field contents are written unchanged.
type csvEncoder struct {
	w      *bufio.Writer
	record []string
	attrs  []AttrColumn
	// text marks the fields a user or an admin chose (names, descriptions,
	// text attributes): the ones neutralised for spreadsheets.
	text []bool
	raw  bool
}

func newCSVEncoder(w io.Writer, attrs []AttrColumn, raw bool) (*csvEncoder, error) {
	cols := ColumnsWith(attrs)
	e := &csvEncoder{w: bufio.NewWriter(w), record: make([]string, len(cols)), attrs: attrs, raw: raw}
	e.text = make([]bool, len(cols))
	for _, i := range []int{1, 7, 8, 9} { // username, group name, description, role ARN
		e.text[i] = true
	}
	for i, a := range attrs {
		e.text[len(Columns)+i] = a.Type == AttrString
	}
	if err := e.write(cols); err != nil {
		return nil, err
	}
	return e, nil
}

// Neutralize makes a cell that a spreadsheet would evaluate (it starts
// with =, +, -, @, a tab or a carriage return: OWASP's CSV injection
// list) plain text, by putting a single quote before it. Spreadsheets show
// the quote-prefixed cell as text and hide nothing; other readers see the
// quote, which --csv-raw leaves out. A cell that already starts with a
// quote gets one more, so that Unneutralize can always tell the two apart.
func Neutralize(f string) string {
	if f != "" && strings.IndexByte(neutralized, f[0]) >= 0 {
		return "'" + f
	}
	return f
}

const neutralized = "=+-@\t\r'"

// Unneutralize is the cell as it was before Neutralize.
func Unneutralize(f string) string {
	if len(f) >= 2 && f[0] == '\'' && strings.IndexByte(neutralized, f[1]) >= 0 {
		return f[1:]
	}
	return f
}

func (e *csvEncoder) write(rec []string) error { return WriteCSVRecord(e.w, rec) }

// WriteCSVRecord writes rec as one RFC 4180 record ending in CRLF, as the
// export's CSV is written: fields quoted where encoding/csv would quote
// them, their contents unchanged. It neutralises nothing: callers choose
// the fields to pass through Neutralize.
func WriteCSVRecord(w *bufio.Writer, rec []string) error {
	for i, f := range rec {
		if i > 0 {
			w.WriteByte(',')
		}
		if !csvNeedsQuotes(f) {
			w.WriteString(f)
			continue
		}
		w.WriteByte('"')
		w.WriteString(strings.ReplaceAll(f, `"`, `""`))
		w.WriteByte('"')
	}
	_, err := w.WriteString("\r\n")
	return err
}

// csvNeedsQuotes quotes what encoding/csv quotes, so that only the line
// breaks inside fields differ from its output.
func csvNeedsQuotes(f string) bool {
	if f == "" {
		return false
	}
	if f == `\.` || strings.ContainsAny(f, ",\"\r\n") {
		return true
	}
	r, _ := utf8.DecodeRuneInString(f)
	return unicode.IsSpace(r)
}

func (e *csvEncoder) Encode(r *Row) error {
	rec := e.record
	rec[0] = r.UserPoolID
	rec[1] = r.Username
	rec[2] = r.UserSub
	rec[3] = r.UserStatus
	rec[4] = strconv.FormatBool(r.UserEnabled)
	rec[5] = csvTime(r.UserCreateDate)
	rec[6] = csvTime(r.UserLastModifiedDate)
	rec[7] = r.GroupName
	rec[8] = deref(r.GroupDescription)
	rec[9] = deref(r.GroupRoleArn)
	rec[10] = ""
	if r.GroupPrecedence != nil {
		rec[10] = strconv.FormatInt(int64(*r.GroupPrecedence), 10)
	}
	rec[11] = csvTime(r.GroupCreationDate)
	rec[12] = csvTime(r.GroupLastModifiedDate)
	rec[13] = csvTime(r.ExportedAt)
	for i := range e.attrs {
		rec[len(Columns)+i] = ""
		if i < len(r.Attrs) && r.Attrs[i].Set {
			rec[len(Columns)+i] = r.Attrs[i].Value
		}
	}
	if !e.raw {
		for i, t := range e.text {
			if t {
				rec[i] = Neutralize(rec[i])
			}
		}
	}
	return e.write(rec)
}

// Close flushes buffered records; the underlying writer stays open.
func (e *csvEncoder) Close() error {
	return e.w.Flush()
}

func csvTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z07:00")
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
