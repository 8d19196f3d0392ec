package sink

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/apache/thrift/lib/go/thrift"
	"github.com/xitongsys/parquet-go/common"
	"github.com/xitongsys/parquet-go/layout"
	"github.com/xitongsys/parquet-go/parquet"
	"github.com/xitongsys/parquet-go/schema"
	"github.com/xitongsys/parquet-go/writer"
)

// Compressions lists the accepted --compression values for Parquet; the
// first is the default.
var Compressions = []string{"snappy", "zstd", "gzip", "none"}

func parquetCodec(name string) (parquet.CompressionCodec, error) {
	switch name {
	case "", "snappy":
		return parquet.CompressionCodec_SNAPPY, nil
	case "zstd":
		return parquet.CompressionCodec_ZSTD, nil
	case "gzip":
		return parquet.CompressionCodec_GZIP, nil
	case "none":
		return parquet.CompressionCodec_UNCOMPRESSED, nil
	}
	return 0, fmt.Errorf("unknown parquet compression %q: use one of %v", name, Compressions)
}

// ParquetGroupRows is the most rows a row group of an export holds: a
// reader refuses a part whose footer declares more, rather than allocate
// a column of them.
const ParquetGroupRows = 128 << 10

const (
	// parquetBatchRows rows are marshalled together; it also sets the
	// smallest data page, so it trades memory for fewer, fuller pages.
	parquetBatchRows = 8192
	// A row group ends at parquetGroupSize bytes of compressed pages or
	// parquetGroupRows rows, whichever comes first: the row cap lets a
	// reader parallelise a part of small, well-compressed rows. The group
	// is held in memory until it is cut, so the caps are the encoder's
	// memory: 131,072 rows (DuckDB writes groups of 122,880) of ~55 bytes
	// is ~7 MB, whatever the size of the pool.
	parquetGroupRows = ParquetGroupRows
	parquetGroupSize = 64 << 20
)

// parquetEncoder writes one Parquet file of rows R, buffered as B (a copy
// that owns what R points to). Memory is bounded by one row group:
// parquet-go keeps a group's compressed pages until the group is written.
type parquetEncoder[R, B any] struct {
	pw        *writer.ParquetWriter
	batch     []B
	groupRows int64
	groupMax  int64 // parquetGroupRows, lowered by tests
	err       error // sticky: after a failure the file is unusable

	width  int // leaf columns of the schema
	buffer func(*R) B
	// fill appends one buffered row's values to the column tables.
	fill func(c *boxCache, cols []*layout.Table, b *B) error

	tables    map[string]*layout.Table // the batch marshal built last
	nullFixes []string                 // paths of the OPTIONAL columns
}

// bufferedRow owns copies of what a Row points to, because the caller may
// reuse its rows before the batch is marshalled.
type bufferedRow struct {
	Row
	desc, role              string
	prec                    int32
	hasDesc, hasRole, hasPr bool
}

// newParquetEncoder writes membership rows with attrs after the fixed
// columns.
func newParquetEncoder(w io.Writer, compression string, attrs []AttrColumn) (*parquetEncoder[Row, bufferedRow], error) {
	schema, err := parquetSchemaJSON(attrs)
	if err != nil {
		return nil, err
	}
	return newParquetCore(w, compression, schema, len(Columns)+len(attrs), bufferRow,
		func(c *boxCache, cols []*layout.Table, r *bufferedRow) error { return fillRow(c, cols, r, attrs) })
}

func newParquetCore[R, B any](w io.Writer, compression, schema string, width int, buffer func(*R) B,
	fill func(*boxCache, []*layout.Table, *B) error) (*parquetEncoder[R, B], error) {
	codec, err := parquetCodec(compression)
	if err != nil {
		return nil, err
	}
	// One marshalling goroutine: with more, parquet-go splits each batch
	// into smaller pages and serialises the dictionary columns on a lock.
	pw, err := writer.NewParquetWriterFromWriter(w, schema, 1)
	if err != nil {
		return nil, err
	}
	pw.CompressionType = codec
	// Row groups are cut by flush, which must first repair the pages'
	// statistics; parquet-go would otherwise cut them inside Flush(false).
	pw.RowGroupSize = math.MaxInt64
	e := &parquetEncoder[R, B]{
		pw:       pw,
		batch:    make([]B, 0, parquetBatchRows),
		groupMax: parquetGroupRows,
		width:    width,
		buffer:   buffer,
		fill:     fill,
	}
	pw.MarshalFunc = e.marshal
	for i, el := range pw.SchemaHandler.SchemaElements {
		if el.GetRepetitionType() == parquet.FieldRepetitionType_OPTIONAL {
			e.nullFixes = append(e.nullFixes, pw.SchemaHandler.IndexMap[int32(i)])
		}
	}
	return e, nil
}

func bufferRow(r *Row) bufferedRow {
	b := bufferedRow{Row: *r}
	b.GroupDescription, b.GroupRoleArn, b.GroupPrecedence = nil, nil, nil
	if r.GroupDescription != nil {
		b.desc, b.hasDesc = *r.GroupDescription, true
	}
	if r.GroupRoleArn != nil {
		b.role, b.hasRole = *r.GroupRoleArn, true
	}
	if r.GroupPrecedence != nil {
		b.prec, b.hasPr = *r.GroupPrecedence, true
	}
	return b
}

func (e *parquetEncoder[R, B]) Encode(r *R) error {
	if e.err != nil {
		return e.err
	}
	b := e.buffer(r)
	e.batch = append(e.batch, b)
	e.groupRows++
	switch {
	case e.groupRows >= e.groupMax:
		e.err = e.flush(true)
	case len(e.batch) == cap(e.batch):
		e.err = e.flush(false)
	}
	return e.err
}

// flush hands the batch to parquet-go, which marshals it into pages, and
// writes a row group when endGroup is set or the group is large enough. The
// batch is passed as pointers, bypassing ParquetWriter.Write, which would
// box a copy of every row and reflect over it to estimate its size.
func (e *parquetEncoder[R, B]) flush(endGroup bool) error {
	pw := e.pw
	before := make([]int, len(e.nullFixes))
	for i, path := range e.nullFixes {
		before[i] = len(pw.PagesMapBuf[path])
	}
	pw.Objs = pw.Objs[:0]
	for i := range e.batch {
		pw.Objs = append(pw.Objs, &e.batch[i])
	}
	err := pw.Flush(false)
	clear(e.batch) // drop references to the caller's strings
	e.batch = e.batch[:0]
	if err != nil {
		return err
	}
	if err := e.fixNullCounts(before); err != nil {
		return err
	}
	e.tables = nil
	if endGroup || pw.Size >= parquetGroupSize || e.groupRows >= e.groupMax {
		e.groupRows = 0
		return pw.Flush(true)
	}
	return nil
}

// fixNullCounts repairs the null_count statistics of the pages just made.
// parquet-go v1.6.2 gets them wrong: dictionary pages test the page's first
// value instead of each value (so report 0 or all values NULL), and plain
// pages skip their first value. Readers that prune on statistics
// (parquet-mr, hence Spark, Trino, Athena) would then drop row groups on IS
// NULL / IS NOT NULL filters. The page header is already serialised in
// RawData, so it is re-serialised; the column chunk statistics are summed
// from these pages when the row group is cut.
func (e *parquetEncoder[R, B]) fixNullCounts(before []int) error {
	pw := e.pw
	for i, path := range e.nullFixes {
		table := e.tables[path]
		if table == nil {
			continue
		}
		dl := table.DefinitionLevels
		for _, page := range pw.PagesMapBuf[path][before[i]:] {
			h := page.Header.DataPageHeader
			if h == nil || int(h.NumValues) > len(dl) || page.NullCount == nil {
				return fmt.Errorf("parquet: unexpected page layout in %s", path)
			}
			n := int(h.NumValues)
			var nulls int64
			for _, l := range dl[:n] {
				if l == 0 {
					nulls++
				}
			}
			dl = dl[n:]
			if *page.NullCount == nulls {
				continue
			}
			*page.NullCount = nulls // shared with h.Statistics.NullCount
			data := page.RawData[len(page.RawData)-int(page.Header.CompressedPageSize):]
			ts := thrift.NewTSerializer()
			ts.Protocol = thrift.NewTCompactProtocolFactoryConf(nil).GetProtocol(ts.Transport)
			head, err := ts.Write(context.Background(), page.Header)
			if err != nil {
				return err
			}
			pw.Size += int64(len(head) + len(data) - len(page.RawData))
			page.RawData = append(head, data...)
		}
	}
	return nil
}

// Close writes the last row group and the footer; the writer stays open.
// WriteStop's error is the footer's, so it is always returned.
func (e *parquetEncoder[R, B]) Close() error {
	if e.err != nil {
		return e.err
	}
	err := e.flush(true)
	if err == nil {
		err = e.pw.WriteStop()
	}
	e.err = errParquetClosed
	if err != nil {
		e.err = err
	}
	return err
}

var errParquetClosed = errors.New("parquet encoder is closed")

// marshal replaces parquet-go's reflection-based marshaller: it
// builds the column tables straight from the buffered rows. Values must have
// the Go type parquet-go expects for the physical type (string for
// BYTE_ARRAY, int64 for INT64, ...), and a NULL is a nil value with
// definition level 0.
func (e *parquetEncoder[R, B]) marshal(src []any, sh *schema.SchemaHandler) (*map[string]*layout.Table, error) {
	n := len(src)
	width := e.width
	tables := make(map[string]*layout.Table, width)
	cols := make([]*layout.Table, 0, width)
	for i, el := range sh.SchemaElements {
		if el.GetNumChildren() > 0 {
			continue
		}
		path := sh.IndexMap[int32(i)]
		t := layout.NewEmptyTable()
		t.Path = common.StrToPath(path)
		t.MaxDefinitionLevel, _ = sh.MaxDefinitionLevel(t.Path)
		t.RepetitionType = el.GetRepetitionType()
		t.Schema = el
		t.Info = sh.Infos[i]
		t.Values = make([]any, 0, n)
		t.DefinitionLevels = make([]int32, 0, n)
		t.RepetitionLevels = make([]int32, n) // flat schema: all zero
		tables[path] = t
		cols = append(cols, t)
	}
	if len(cols) != width {
		return nil, fmt.Errorf("parquet schema has %d columns, want %d", len(cols), width)
	}
	var c boxCache
	for _, o := range src {
		b, ok := o.(*B)
		if !ok {
			return nil, fmt.Errorf("parquet marshal: unexpected %T", o)
		}
		if err := e.fill(&c, cols, b); err != nil {
			return nil, err
		}
	}
	e.tables = tables
	return &tables, nil
}

// fillRow appends a membership row in Columns order, then its attributes.
func fillRow(c *boxCache, cols []*layout.Table, r *bufferedRow, attrs []AttrColumn) error {
	required(cols[0], c.str(0, r.UserPoolID))
	required(cols[1], r.Username)
	optional(cols[2], r.UserSub, r.UserSub != "")
	required(cols[3], c.str(1, r.UserStatus))
	required(cols[4], r.UserEnabled)
	optionalTime(cols[5], c, 0, r.UserCreateDate)
	optionalTime(cols[6], c, 1, r.UserLastModifiedDate)
	optional(cols[7], c.str(2, r.GroupName), r.GroupName != "")
	optional(cols[8], c.str(3, r.desc), r.hasDesc)
	optional(cols[9], c.str(4, r.role), r.hasRole)
	optional(cols[10], r.prec, r.hasPr)
	optionalTime(cols[11], c, 2, r.GroupCreationDate)
	optionalTime(cols[12], c, 3, r.GroupLastModifiedDate)
	optionalTime(cols[13], c, 4, r.ExportedAt)
	for i, a := range attrs {
		if err := optionalAttr(cols[len(Columns)+i], a, r.Attrs, i); err != nil {
			return err
		}
	}
	return nil
}

func required(t *layout.Table, v any) {
	t.Values = append(t.Values, v)
	t.DefinitionLevels = append(t.DefinitionLevels, 0)
}

func optional(t *layout.Table, v any, present bool) {
	if !present {
		t.Values = append(t.Values, nil)
		t.DefinitionLevels = append(t.DefinitionLevels, 0)
		return
	}
	t.Values = append(t.Values, v)
	t.DefinitionLevels = append(t.DefinitionLevels, 1)
}

func optionalTime(t *layout.Table, c *boxCache, slot int, v time.Time) {
	if v.IsZero() {
		optional(t, nil, false)
		return
	}
	optional(t, c.millis(slot, v.UnixMilli()), true)
}

// boxCache reuses the interface value of a column's previous value: boxing a
// string or int64 allocates, and repetitive columns (pool, status, group,
// exported_at) mostly repeat the previous row.
type boxCache struct {
	s  [5]string
	sv [5]any
	m  [5]int64
	mv [5]any
}

func (c *boxCache) str(slot int, s string) any {
	if c.sv[slot] == nil || c.s[slot] != s {
		c.s[slot], c.sv[slot] = s, s
	}
	return c.sv[slot]
}

func (c *boxCache) millis(slot int, m int64) any {
	if c.mv[slot] == nil || c.m[slot] != m {
		c.m[slot], c.mv[slot] = m, m
	}
	return c.mv[slot]
}
