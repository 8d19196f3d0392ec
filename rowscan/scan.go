// Package rowscan streams the rows of an export back as text: part after
// part in the manifest's order, Parquet or CSV alike, each cell the string a
// CSV export would hold. Its Parquet side is a decoder of its own (the
// column chunks, pages and their Thrift headers), reading only what an
// export writes; opening the export and trusting its manifest are
// package reader's.
package rowscan

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/cognito-export/cognito-export/reader"
	"github.com/cognito-export/cognito-export/sink"
)

// readBuffer is the read size of a CSV part: large enough that a local
// read runs at disk speed.
const readBuffer = 1 << 20

// Value is one cell as text: the string a CSV export holds (booleans
// "true"/"false", integers in decimal, timestamps as TimeText), whichever
// format the export is in. Valid is false for a NULL; CSV has no NULL, so
// there an empty cell is not Valid either.
type Value struct {
	S     string
	Valid bool
}

// Options says where a scan may keep temporary files.
type Options struct {
	// TempDir receives a Parquet part read from a source that cannot seek
	// (S3) while it is read; "" is the system's. Each copy is removed
	// before the next part.
	TempDir string
}

// Scan calls fn with the values of the named columns of every row of the
// export, part after part, in the order of the manifest. row and the
// memory its strings point to are reused: a string is valid only until fn
// returns, so clone (strings.Clone) what you keep. A column the export
// does not have is an error.
//
// CSV cells that the export neutralised for spreadsheets are read back as
// they were (the manifest's csv_raw says whether it did), so that the two
// formats of one pool read the same.
func Scan(ctx context.Context, src reader.Source, m reader.Manifest, columns []string, opts Options, fn func(row []Value) error) error {
	for _, c := range columns {
		if !containsString(m.Columns, c) {
			return fmt.Errorf("%s has no column %q", src, c)
		}
	}
	for _, p := range m.Parts {
		if !reader.IsPart(p.Name) {
			return fmt.Errorf("%s lists %q, which is not a part", reader.ManifestName, p.Name)
		}
		var err error
		switch m.Format {
		case "parquet":
			err = scanParquetPart(ctx, src, p, columns, opts, fn)
		case "csv":
			err = scanCSVPart(ctx, src, p, m, columns, fn)
		default:
			err = fmt.Errorf("format %q: want parquet or csv", m.Format)
		}
		if err != nil {
			return fmt.Errorf("read %s of %s: %w", p.Name, src, err)
		}
	}
	return nil
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func scanParquetPart(ctx context.Context, src reader.Source, p sink.PartInfo, columns []string, opts Options, fn func([]Value) error) error {
	rc, err := src.Open(ctx, p.Name)
	if err != nil {
		return err
	}
	defer rc.Close()
	ra, ok := rc.(interface {
		io.ReaderAt
		Stat() (os.FileInfo, error)
	})
	var size int64
	if ok {
		st, err := ra.Stat()
		if err != nil {
			return err
		}
		size = st.Size()
	} else {
		tmp, err := os.CreateTemp(opts.TempDir, "cognito-export-part-*.parquet")
		if err != nil {
			return fmt.Errorf("spool: %w", err)
		}
		defer os.Remove(tmp.Name())
		defer tmp.Close()
		if size, err = io.Copy(tmp, rc); err != nil {
			return fmt.Errorf("spool: %w", err)
		}
		ra = tmp
	}
	if size != p.Bytes {
		return fmt.Errorf("%d bytes, %s says %d: verify the export", size, reader.ManifestName, p.Bytes)
	}
	f, err := openParquet(ctx, ra, size)
	if err != nil {
		return err
	}
	idx := make([]int, len(columns))
	for i, c := range columns {
		if idx[i] = f.column(c); idx[i] < 0 {
			return fmt.Errorf("no column %q", c)
		}
	}
	cols := make([][]Value, len(columns))
	bufs := make([]columnBuffers, len(columns))
	row := make([]Value, len(columns))
	for g, rg := range f.meta.RowGroups {
		// The footer's word: a column of n values is allocated for it.
		if rg.NumRows < 0 || rg.NumRows > sink.ParquetGroupRows {
			return fmt.Errorf("row group %d declares %d rows; an export writes at most %d", g, rg.NumRows, sink.ParquetGroupRows)
		}
		n := int(rg.NumRows)
		// The columns of a row group decode side by side: a scan is the
		// CPU-bound half of a diff or a report.
		dec, dctx := errgroup.WithContext(ctx)
		dec.SetLimit(runtime.GOMAXPROCS(0))
		for i := range cols {
			if cap(cols[i]) < n {
				cols[i] = make([]Value, n)
			}
			cols[i] = cols[i][:n]
			dec.Go(func() error { return f.readColumn(dctx, g, idx[i], cols[i], &bufs[i]) })
		}
		if err := dec.Wait(); err != nil {
			return fmt.Errorf("row group %d: %w", g, err)
		}
		for r := range n {
			for i := range cols {
				row[i] = cols[i][r]
			}
			if err := fn(row); err != nil {
				return err
			}
		}
	}
	return nil
}

func scanCSVPart(ctx context.Context, src reader.Source, p sink.PartInfo, m reader.Manifest, columns []string, fn func([]Value) error) error {
	rc, err := src.Open(ctx, p.Name)
	if err != nil {
		return err
	}
	defer rc.Close()
	cr := newCSVReader(rc)
	header, err := cr.record()
	if err != nil {
		return fmt.Errorf("header: %w", err)
	}
	header = append([]string(nil), header...)
	idx := make([]int, len(columns))
	text := make([]bool, len(columns))
	neutralised := m.Parameters["csv_raw"] != "true"
	for i, c := range columns {
		idx[i] = indexOf(header, c)
		if idx[i] < 0 {
			return fmt.Errorf("no column %q in the header", c)
		}
		text[i] = neutralised && isTextColumn(m, c)
	}
	row := make([]Value, len(columns))
	for n := 0; ; n++ {
		if n%4096 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		rec, err := cr.record()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if len(rec) != len(header) {
			return fmt.Errorf("record %d has %d fields, the header %d", n+1, len(rec), len(header))
		}
		for i, j := range idx {
			s := rec[j]
			if text[i] {
				s = sink.Unneutralize(s)
			}
			row[i] = Value{S: s, Valid: s != ""}
		}
		if err := fn(row); err != nil {
			return err
		}
	}
}

func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}

// isTextColumn says whether the export's CSV neutralised column c: the
// text a user or an admin chose.
func isTextColumn(m reader.Manifest, c string) bool {
	if m.Parameters["table"] == sink.ChangesTable {
		return sink.ChangeTextColumn(c)
	}
	switch c {
	case "username", "group_name", "group_description", "group_role_arn":
		return true
	}
	for _, a := range m.Attributes {
		if a.Column == c {
			return a.Type == string(sink.AttrString)
		}
	}
	return false
}

// csvReader reads RFC 4180 records as the sink writes them: fields are
// returned exactly as written, "\r\n" inside a quoted field included
// (encoding/csv would turn it into "\n", and a description read back would
// differ from the Parquet export of the same pool).
type csvReader struct {
	r      *bufio.Reader
	fields []string
	field  strings.Builder
}

func newCSVReader(r io.Reader) *csvReader {
	return &csvReader{r: bufio.NewReaderSize(r, readBuffer)}
}

// record returns the next record; io.EOF after the last.
func (c *csvReader) record() ([]string, error) {
	c.fields = c.fields[:0]
	b, err := c.r.ReadByte()
	if err != nil {
		return nil, err
	}
	for {
		c.field.Reset()
		quoted := b == '"'
		if quoted {
			for {
				b, err = c.r.ReadByte()
				if err != nil {
					return nil, errors.New("quoted field not closed")
				}
				if b == '"' {
					if b, err = c.r.ReadByte(); err != nil || b != '"' {
						break // closing quote; b is what follows it
					}
				}
				c.field.WriteByte(b)
			}
		} else {
			for b != ',' && b != '\r' && b != '\n' {
				c.field.WriteByte(b)
				if b, err = c.r.ReadByte(); err != nil {
					break
				}
			}
		}
		c.fields = append(c.fields, c.field.String())
		if err != nil { // the last record has no line break
			return c.fields, nil
		}
		switch b {
		case ',':
			if b, err = c.r.ReadByte(); err != nil {
				return append(c.fields, ""), nil
			}
			if b == '\r' || b == '\n' {
				c.fields = append(c.fields, "")
				return c.fields, c.endLine(b)
			}
		case '\r', '\n':
			return c.fields, c.endLine(b)
		default:
			return nil, fmt.Errorf("unexpected %q after a quoted field", b)
		}
	}
}

func (c *csvReader) endLine(b byte) error {
	if b == '\r' {
		if n, err := c.r.ReadByte(); err == nil && n != '\n' {
			c.r.UnreadByte()
		}
	}
	return nil
}
