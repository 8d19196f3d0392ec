package decisions

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/cognito-export/cognito-export/sink"
)

// LineError is a decisions file refused for what is on one of its lines.
type LineError struct {
	Line int
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }
func (e *LineError) Unwrap() error { return e.Err }

// Read reads a decisions file and returns its decided rows (keep or
// revoke) in file order; rows left undecided (a template's) are passed
// over. The whole file is refused at its first row that cannot be taken:
// a missing column, a field count other than the header's, a decision
// other than keep or revoke, a decided row without reviewer or with a
// decided_at that is not RFC 3339, a row of another pool than the first,
// or two different decisions for one membership. A refused file yields no
// decisions at all, so that a run never acts on part of a review.
func Read(r io.Reader) ([]Decision, error) {
	var out []Decision
	if err := Scan(r, func(d Decision) error { out = append(out, d); return nil }); err != nil {
		return nil, err
	}
	return out, nil
}

// Scan reads a decisions file as Read does, handing each decided row to
// fn as it is read instead of keeping them, for a reader that keeps less
// of each. Rows are refused as by Read; fn has seen the rows before the
// refused one, so a caller that must not act on part of a review acts
// only once Scan returned nil. An error of fn stops Scan and is returned.
func Scan(r io.Reader, fn func(Decision) error) error {
	cr := &csvReader{r: bufio.NewReader(r), line: 1}
	cr.skipBOM()
	start, header, err := cr.record()
	if errors.Is(err, io.EOF) {
		return &LineError{1, errors.New("the file is empty: want the header " + strings.Join(Columns, ","))}
	}
	if err != nil {
		return &LineError{start, err}
	}
	col, err := columnIndex(header)
	if err != nil {
		return &LineError{start, err}
	}
	width := len(header)
	// seen holds each decided membership's verdict and line, to refuse a
	// second, different decision of it.
	type seenRow struct {
		verdict Verdict
		line    int
	}
	seen := map[Key]seenRow{}
	pool, poolLine := "", 0
	for {
		start, rec, err := cr.record()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return &LineError{start, err}
		}
		if len(rec) == 1 && rec[0] == "" {
			continue // a blank line, as spreadsheets leave at the end
		}
		if len(rec) != width {
			return &LineError{start, fmt.Errorf("%d fields, the header has %d", len(rec), width)}
		}
		d, err := parseRow(rec, col)
		if err != nil {
			return &LineError{start, err}
		}
		d.Line = start
		if pool == "" {
			pool, poolLine = d.PoolID, start
		} else if d.PoolID != pool {
			return &LineError{start, fmt.Errorf("user pool %q, line %d has %q: a decisions file is about one pool", d.PoolID, poolLine, pool)}
		}
		d.PoolID = pool // one string for every row
		if d.Verdict == Undecided {
			continue
		}
		if prev, ok := seen[d.Key()]; ok {
			if prev.verdict != d.Verdict {
				return &LineError{start, fmt.Errorf("%s of %q in %q, line %d says %s: decide each membership once", d.Verdict, d.Username, d.Group, prev.line, prev.verdict)}
			}
			continue
		}
		seen[d.Key()] = seenRow{d.Verdict, d.Line}
		if err := fn(d); err != nil {
			return err
		}
	}
}

// columnIndex maps each of Columns to its position in header. Columns may
// come in any order (a spreadsheet may have moved them); one missing is
// refused, and other columns are ignored.
func columnIndex(header []string) ([]int, error) {
	col := make([]int, len(Columns))
	var missing []string
	for i, c := range Columns {
		col[i] = slices.Index(header, c)
		if col[i] < 0 {
			missing = append(missing, c)
		}
	}
	if missing != nil {
		return nil, fmt.Errorf("missing column %s: want the header %s", strings.Join(missing, ", "), strings.Join(Columns, ","))
	}
	return col, nil
}

func parseRow(rec []string, col []int) (Decision, error) {
	f := func(i int) string { return sink.Unneutralize(rec[col[i]]) }
	d := Decision{PoolID: f(0), Group: f(1), Username: f(2), Sub: f(3), Verdict: Verdict(f(4)), Reviewer: f(5),
		Comment: f(7), ManifestSHA256: f(8)}
	for i, v := range []string{d.PoolID, d.Group, d.Username} {
		if v == "" {
			return d, fmt.Errorf("empty %s", Columns[[]int{0, 1, 2}[i]])
		}
	}
	switch d.Verdict {
	case Undecided:
		return d, nil
	case Keep:
		d.Verdict = Keep // the constant, not a copy per row
	case Revoke:
		d.Verdict = Revoke
	default:
		return d, fmt.Errorf("decision %q: want keep or revoke (or empty for a row not decided yet)", string(d.Verdict))
	}
	if strings.TrimSpace(d.Reviewer) == "" {
		return d, errors.New("a decision without a reviewer: name who decided it")
	}
	at, err := time.Parse(time.RFC3339Nano, f(6))
	if err != nil {
		return d, fmt.Errorf("decided_at %q: want an RFC 3339 time such as 2026-12-05T16:30:00Z", f(6))
	}
	d.DecidedAt = at
	return d, nil
}

// csvReader reads RFC 4180 records as sink writes them, fields exactly as
// written ("\r\n" inside a quoted field included, which encoding/csv would
// turn into "\n"), and counts lines so that a refusal names its line.
type csvReader struct {
	r    *bufio.Reader
	line int // the line of the next byte
	// field and fields are reused from record to record: a field's string
	// is made once, at its final size.
	field  []byte
	fields []string
}

func (c *csvReader) skipBOM() {
	if b, err := c.r.Peek(3); err == nil && string(b) == "\xef\xbb\xbf" {
		c.r.Discard(3)
	}
}

func (c *csvReader) next() (byte, error) {
	b, err := c.r.ReadByte()
	if b == '\n' && err == nil {
		c.line++
	}
	return b, err
}

// record returns the line the next record starts on and its fields; io.EOF
// after the last record.
func (c *csvReader) record() (int, []string, error) {
	start := c.line
	b, err := c.next()
	if err != nil {
		return start, nil, err
	}
	fields := c.fields[:0]
	defer func() { c.fields = fields[:0] }()
	for {
		c.field = c.field[:0]
		if b == '"' {
			for {
				if b, err = c.next(); err != nil {
					return start, nil, errors.New("a quoted field is not closed")
				}
				if b == '"' {
					if b, err = c.next(); err != nil || b != '"' {
						break // the closing quote; b is what follows it
					}
				}
				c.field = append(c.field, b)
			}
		} else {
			for b != ',' && b != '\r' && b != '\n' {
				if b == '"' {
					return start, nil, errors.New(`a quote inside an unquoted field: quote the field and double the quote ("")`)
				}
				c.field = append(c.field, b)
				if b, err = c.next(); err != nil {
					break
				}
			}
		}
		fields = append(fields, string(c.field))
		if err != nil { // the last record has no line break
			return start, fields, nil
		}
		switch b {
		case ',':
			if b, err = c.next(); err != nil {
				return start, append(fields, ""), nil
			}
			if b == '\r' || b == '\n' {
				return start, append(fields, ""), c.endLine(b)
			}
		case '\r', '\n':
			return start, fields, c.endLine(b)
		default:
			return start, nil, fmt.Errorf("%q after a quoted field", b)
		}
	}
}

func (c *csvReader) endLine(b byte) error {
	if b == '\r' {
		if n, err := c.next(); err != nil || n != '\n' {
			c.line++ // a lone "\r" ends a line too (old Mac spreadsheets)
			if err == nil {
				c.r.UnreadByte()
			}
		}
	}
	return nil
}
