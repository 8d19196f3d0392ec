package rowscan

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"
	"unsafe"

	"github.com/xitongsys/parquet-go/parquet"

	"github.com/cognito-export/cognito-export/reader"
)

// A Parquet part is read column chunk by column chunk, decoding straight
// into the scan's text values. parquet-go's readers box every value in an
// interface and took 2.7 s for the 1.7M rows of a 1M-user export, more than
// DuckDB needs for a whole diff; this reads only what the export writes
// (flat schema, data pages v1, PLAIN or dictionary values, RLE levels) and
// says so when a file holds anything else.

// parquetFile is an open part: its footer and where its bytes are.
type parquetFile struct {
	r    io.ReaderAt
	size int64
	meta *parquet.FileMetaData
	// leaves are the flat schema's columns, in column-chunk order.
	leaves []*parquet.SchemaElement
}

func openParquet(ctx context.Context, r io.ReaderAt, size int64) (*parquetFile, error) {
	if size < 12 {
		return nil, errors.New("too short for a Parquet file")
	}
	var tail [8]byte
	if _, err := r.ReadAt(tail[:], size-8); err != nil {
		return nil, err
	}
	if string(tail[4:]) != "PAR1" {
		return nil, errors.New("no Parquet footer")
	}
	n := int64(binary.LittleEndian.Uint32(tail[:4]))
	if n <= 0 || n > size-12 {
		return nil, fmt.Errorf("footer length %d does not fit the file", n)
	}
	buf := make([]byte, n)
	if _, err := r.ReadAt(buf, size-8-n); err != nil {
		return nil, err
	}
	meta, err := reader.DecodeFooter(ctx, buf)
	if err != nil {
		return nil, fmt.Errorf("decode footer: %w", err)
	}
	f := &parquetFile{r: r, size: size, meta: meta}
	for _, el := range meta.Schema[1:] {
		if el.GetNumChildren() > 0 || el.GetRepetitionType() == parquet.FieldRepetitionType_REPEATED {
			return nil, fmt.Errorf("column %q: nested or repeated columns are not an export's", el.GetName())
		}
		f.leaves = append(f.leaves, el)
	}
	return f, nil
}

// column finds a leaf column by name; -1 when the file has none.
func (f *parquetFile) column(name string) int {
	for i, el := range f.leaves {
		if el.GetName() == name {
			return i
		}
	}
	return -1
}

// columnBuffers are one column's buffers, reused from row group to row
// group: the values of a row group point into them until the next.
type columnBuffers struct {
	chunk, pages []byte
}

// readColumn decodes column c of row group g into dst (one Value per row).
// The values' strings point into buf until it decodes the next row group.
func (f *parquetFile) readColumn(ctx context.Context, g, c int, dst []Value, buf *columnBuffers) error {
	rg := f.meta.RowGroups[g]
	if c >= len(rg.Columns) || rg.Columns[c].MetaData == nil {
		return fmt.Errorf("row group %d has no column %d", g, c)
	}
	md := rg.Columns[c].MetaData
	el := f.leaves[c]
	// parquet-go v1.6.2 writes a garbage dictionary_page_offset; a chunk
	// starts at the column chunk's file_offset, with its dictionary page.
	start, length := md.DataPageOffset, md.TotalCompressedSize
	if fo := rg.Columns[c].FileOffset; fo >= 4 && fo < start {
		start = fo
	}
	if start < 4 || length < 0 || start > f.size || length > f.size-start { // start+length may overflow
		return fmt.Errorf("column %s: chunk [%d, +%d) outside the file", el.GetName(), start, length)
	}
	buf.chunk = grow(buf.chunk, int(length))
	chunk := buf.chunk
	if _, err := f.r.ReadAt(chunk, start); err != nil {
		return err
	}
	// Pages decode into one arena per column, sized by the chunk's total
	// (headers included), so that it rarely needs to grow midway.
	dec := decompressor{codec: md.Codec, budget: chunkBudget(length)}
	buf.pages = grow(buf.pages, int(min(max(0, md.TotalUncompressedSize), dec.budget)))
	arena := buf.pages[:0]
	d := columnDecoder{el: el, optional: el.GetRepetitionType() == parquet.FieldRepetitionType_OPTIONAL}
	row := 0
	for len(chunk) > 0 && row < len(dst) {
		if err := ctx.Err(); err != nil {
			return err
		}
		h, headerLen, err := readPageHeader(chunk)
		if err != nil {
			return fmt.Errorf("column %s: %w", el.GetName(), err)
		}
		size := int(h.compressedSize)
		if size < 0 || headerLen+size > len(chunk) {
			return fmt.Errorf("column %s: page runs past its chunk", el.GetName())
		}
		body := chunk[headerLen : headerLen+size]
		chunk = chunk[headerLen+size:]
		var data []byte
		if data, arena, err = dec.page(body, h.uncompressedSize, arena); err != nil {
			return fmt.Errorf("column %s: decompress: %w", el.GetName(), err)
		}
		switch {
		case h.typ == pageDictionary && h.hasDict:
			if err := d.dictionary(data, h.numValues); err != nil {
				return fmt.Errorf("column %s: dictionary: %w", el.GetName(), err)
			}
		case h.typ == pageData && h.hasData:
			if h.numValues < 0 || int(h.numValues) > len(dst)-row {
				return fmt.Errorf("column %s: data page holds more rows than its row group", el.GetName())
			}
			if err := d.page(data, parquet.Encoding(h.encoding), dst[row:row+int(h.numValues)]); err != nil {
				return fmt.Errorf("column %s: %w", el.GetName(), err)
			}
			row += int(h.numValues)
		default:
			return fmt.Errorf("column %s: page type %d is not an export's", el.GetName(), h.typ)
		}
	}
	if row != len(dst) {
		return fmt.Errorf("column %s: %d values in a row group of %d rows", el.GetName(), row, len(dst))
	}
	return nil
}

type columnDecoder struct {
	el       *parquet.SchemaElement
	optional bool
	dict     []Value
	levels   []int32
	indexes  []int32
	// last caches the text of the previous integer, since timestamps
	// such as exported_at mostly repeat.
	lastInt  int64
	lastText string
}

// dictionary decodes a dictionary page of n PLAIN values. n is the page
// header's word, so it is held to the values the page's bytes can hold
// before a slice of them is made.
func (d *columnDecoder) dictionary(data []byte, n int32) error {
	bits := int64(32) // a byte array's length, an int32
	switch d.el.GetType() {
	case parquet.Type_BOOLEAN:
		bits = 1
	case parquet.Type_INT64:
		bits = 64
	}
	if n < 0 || int64(n)*bits > 8*int64(len(data)) {
		return fmt.Errorf("%d values declared in %d bytes", n, len(data))
	}
	dict := make([]Value, n)
	if _, err := d.plain(data, dict); err != nil {
		return err
	}
	d.dict = dict
	return nil
}

// page decodes one v1 data page into dst, one value per row.
func (d *columnDecoder) page(data []byte, enc parquet.Encoding, dst []Value) error {
	present := len(dst)
	if d.optional {
		if len(data) < 4 {
			return errors.New("definition levels cut short")
		}
		n := int(binary.LittleEndian.Uint32(data))
		if n > len(data)-4 {
			return errors.New("definition levels run past the page")
		}
		d.levels = growInt32(d.levels, len(dst))
		if err := hybrid(data[4:4+n], 1, d.levels); err != nil {
			return fmt.Errorf("definition levels: %w", err)
		}
		data = data[4+n:]
		present = 0
		for _, l := range d.levels {
			if l > 1 {
				return errors.New("definition level above 1 in a flat schema")
			}
			present += int(l)
		}
	}
	vals := dst
	if present != len(dst) {
		vals = make([]Value, present)
	}
	switch enc {
	case parquet.Encoding_PLAIN:
		if _, err := d.plain(data, vals); err != nil {
			return err
		}
	case parquet.Encoding_PLAIN_DICTIONARY, parquet.Encoding_RLE_DICTIONARY:
		if len(data) < 1 {
			return errors.New("dictionary indexes cut short")
		}
		d.indexes = growInt32(d.indexes, present)
		if err := hybrid(data[1:], int(data[0]), d.indexes); err != nil {
			return fmt.Errorf("dictionary indexes: %w", err)
		}
		for i, ix := range d.indexes {
			if int(ix) >= len(d.dict) || ix < 0 {
				return fmt.Errorf("dictionary index %d of %d", ix, len(d.dict))
			}
			vals[i] = d.dict[ix]
		}
	default:
		return fmt.Errorf("%s encoding is not an export's", enc)
	}
	if present != len(dst) {
		j := 0
		for i, l := range d.levels {
			if l == 0 {
				dst[i] = Value{}
				continue
			}
			dst[i] = vals[j]
			j++
		}
	}
	return nil
}

// plain decodes len(dst) PLAIN values as text; it returns the bytes used.
// Strings point into data, which is never reused.
func (d *columnDecoder) plain(data []byte, dst []Value) (int, error) {
	off := 0
	switch d.el.GetType() {
	case parquet.Type_BYTE_ARRAY:
		for i := range dst {
			if off+4 > len(data) {
				return 0, errors.New("byte array cut short")
			}
			n := int(binary.LittleEndian.Uint32(data[off:]))
			off += 4
			if n > len(data)-off {
				return 0, errors.New("byte array runs past the page")
			}
			dst[i] = Value{S: unsafe.String(unsafe.SliceData(data[off:]), n), Valid: true}
			off += n
		}
	case parquet.Type_BOOLEAN:
		if (len(dst)+7)/8 > len(data) {
			return 0, errors.New("booleans cut short")
		}
		for i := range dst {
			dst[i] = Value{S: strconv.FormatBool(data[i/8]>>(i%8)&1 == 1), Valid: true}
		}
		off = (len(dst) + 7) / 8
	case parquet.Type_INT32:
		if 4*len(dst) > len(data) {
			return 0, errors.New("int32 values cut short")
		}
		for i := range dst {
			dst[i] = Value{S: d.intText(int64(int32(binary.LittleEndian.Uint32(data[4*i:])))), Valid: true}
		}
		off = 4 * len(dst)
	case parquet.Type_INT64:
		if 8*len(dst) > len(data) {
			return 0, errors.New("int64 values cut short")
		}
		for i := range dst {
			dst[i] = Value{S: d.intText(int64(binary.LittleEndian.Uint64(data[8*i:]))), Valid: true}
		}
		off = 8 * len(dst)
	default:
		return 0, fmt.Errorf("%s values are not an export's", d.el.GetType())
	}
	return off, nil
}

// intText is an integer as the CSV of the same export writes it: decimal,
// or a timestamp's RFC 3339 text in UTC with milliseconds.
func (d *columnDecoder) intText(v int64) string {
	if d.lastText != "" && v == d.lastInt {
		return d.lastText
	}
	t := strconv.FormatInt(v, 10)
	if lt := d.el.LogicalType; lt != nil && lt.IsSetTIMESTAMP() {
		t = TimeText(time.UnixMilli(v))
	} else if d.el.ConvertedType != nil && *d.el.ConvertedType == parquet.ConvertedType_TIMESTAMP_MILLIS {
		t = TimeText(time.UnixMilli(v))
	}
	d.lastInt, d.lastText = v, t
	return t
}

// TimeText is a timestamp as an export's CSV writes it.
func TimeText(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z07:00") }

// hybrid decodes Parquet's RLE/bit-packed hybrid into len(dst) values.
func hybrid(data []byte, width int, dst []int32) error {
	if width < 0 || width > 32 {
		return fmt.Errorf("bit width %d", width)
	}
	byteWidth := (width + 7) / 8
	n := 0
	for n < len(dst) {
		h, k := binary.Uvarint(data)
		if k <= 0 {
			return errors.New("run header cut short")
		}
		data = data[k:]
		if h&1 == 0 { // a run of one value
			count := int(h >> 1)
			if byteWidth > len(data) {
				return errors.New("run value cut short")
			}
			var v uint32
			for b := range byteWidth {
				v |= uint32(data[b]) << (8 * b)
			}
			data = data[byteWidth:]
			count = min(count, len(dst)-n)
			for i := range count {
				dst[n+i] = int32(v)
			}
			n += count
			continue
		}
		// Bit-packed groups of eight values, width bytes a group: a count
		// the bytes cannot hold is refused before it is multiplied (2^60
		// groups times eight overflowed into a negative count and a
		// slice before the data). Groups of width 0 take no byte, and
		// yield no more values than dst takes.
		groups := h >> 1
		if width > 0 && groups > uint64(len(data))/uint64(width) {
			return errors.New("bit-packed run cut short")
		}
		count := int(min(groups, uint64(len(dst)))) * 8
		mask := uint64(math.MaxUint32) >> (32 - width)
		if width == 0 {
			mask = 0
		}
		bit := 0
		for i := 0; i < count && n < len(dst); i++ {
			var v uint64
			byteAt, shift := bit/8, bit%8
			for j := 0; j*8 < width+shift && byteAt+j < len(data); j++ {
				v |= uint64(data[byteAt+j]) << (8 * j)
			}
			dst[n] = int32((v >> shift) & mask)
			n++
			bit += width
		}
		data = data[(count*width+7)/8:]
	}
	return nil
}

func grow(b []byte, n int) []byte {
	if cap(b) < n {
		return make([]byte, n)
	}
	return b[:n]
}

func growInt32(s []int32, n int) []int32 {
	if cap(s) < n {
		return make([]int32, n)
	}
	return s[:n]
}
