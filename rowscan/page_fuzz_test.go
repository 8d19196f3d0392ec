package rowscan

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/apache/thrift/lib/go/thrift"
	"github.com/xitongsys/parquet-go/parquet"

	"github.com/cognito-export/cognito-export/internal/fuzzcheck"
)

// realPage is a page of a real export: its header's bytes, and its data
// decompressed, with the column it belongs to.
type realPage struct {
	header []byte
	h      pageHeader
	data   []byte
	el     *parquet.SchemaElement
}

// realPages walks every page of the seed exports' Parquet parts.
func realPages(tb testing.TB) []realPage {
	var out []realPage
	for _, e := range fuzzcheck.Exports(tb) {
		for _, p := range e.Parts {
			if !strings.HasSuffix(p.Name, ".parquet") {
				continue
			}
			f, err := openParquet(context.Background(), bytes.NewReader(p.Data), int64(len(p.Data)))
			if err != nil {
				tb.Fatal(err)
			}
			for _, rg := range f.meta.RowGroups {
				for c, cc := range rg.Columns {
					md := cc.MetaData
					start := md.DataPageOffset
					if fo := cc.FileOffset; fo >= 4 && fo < start {
						start = fo
					}
					chunk := p.Data[start : start+md.TotalCompressedSize]
					dec := decompressor{codec: md.Codec, budget: chunkBudget(md.TotalCompressedSize)}
					for len(chunk) > 0 {
						h, n, err := readPageHeader(chunk)
						if err != nil {
							tb.Fatal(err)
						}
						data, _, err := dec.page(chunk[n:n+int(h.compressedSize)], h.uncompressedSize, nil)
						if err != nil {
							tb.Fatal(err)
						}
						out = append(out, realPage{header: chunk[:n], h: h, data: data, el: f.leaves[c]})
						chunk = chunk[n+int(h.compressedSize):]
					}
				}
			}
		}
	}
	if len(out) == 0 {
		tb.Fatal("no Parquet pages in the seed exports")
	}
	return out
}

// FuzzReadPageHeader decodes a Parquet page header of any bytes with the
// scan's own Thrift reader: never a panic, a loop or an allocation, a
// length within the bytes given; and a header that it and Thrift's
// generated decoder both read has the same fields and length to both.
func FuzzReadPageHeader(f *testing.F) {
	seen := map[string]bool{}
	for _, p := range realPages(f) {
		if !seen[string(p.header)] {
			seen[string(p.header)] = true
			f.Add(p.header)
		}
	}
	// A header with the fields the scan skips: statistics, CRC, an index
	// page header, a list of booleans in an unknown field.
	ser := thrift.NewTSerializer()
	ser.Protocol = thrift.NewTCompactProtocolFactoryConf(nil).GetProtocol(ser.Transport)
	crc := int32(-7)
	h := &parquet.PageHeader{Type: parquet.PageType_DATA_PAGE, UncompressedPageSize: 10, CompressedPageSize: 9, Crc: &crc,
		DataPageHeader: &parquet.DataPageHeader{NumValues: 3, Encoding: parquet.Encoding_RLE_DICTIONARY,
			Statistics: &parquet.Statistics{Max: []byte("=cmd|' /C calc'!A0"), MinValue: []byte("名前")}},
		IndexPageHeader: &parquet.IndexPageHeader{}}
	b, err := ser.Write(context.Background(), h)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add(append([]byte{0x19, 0x31, 0x01, 0x00, 0x01}, b...))
	f.Fuzz(func(t *testing.T, b []byte) {
		var h pageHeader
		var n int
		var err error
		fuzzcheck.Bound{PerByte: 0, Fixed: 64 << 10}.Check(t, len(b), func() { h, n, err = readPageHeader(b) })
		if err == nil && (n < 1 || n > len(b)) {
			t.Fatalf("a header of %d bytes read from %d", n, len(b))
		}
		buf := &thrift.TMemoryBuffer{Buffer: bytes.NewBuffer(b)}
		want := parquet.NewPageHeader()
		// Thrift's reader is laxer (skipping a struct, it takes a field of
		// an unknown type for the struct's end), so only a header both
		// read is compared.
		if err != nil || want.Read(context.Background(), thrift.NewTCompactProtocolConf(buf, &thrift.TConfiguration{})) != nil {
			return
		}
		if wantLen := len(b) - buf.Len(); n != wantLen {
			t.Fatalf("a header of %d bytes to Thrift, %d to the scan", wantLen, n)
		}
		got := []int32{h.typ, h.uncompressedSize, h.compressedSize}
		exp := []int32{int32(want.Type), want.UncompressedPageSize, want.CompressedPageSize}
		if d := want.DataPageHeader; d != nil {
			got, exp = append(got, h.numValues, h.encoding), append(exp, d.NumValues, int32(d.Encoding))
		} else if d := want.DictionaryPageHeader; d != nil {
			got, exp = append(got, h.numValues, h.encoding), append(exp, d.NumValues, int32(d.Encoding))
		}
		if h.hasData != (want.DataPageHeader != nil) || h.hasDict != (want.DictionaryPageHeader != nil) || !slices.Equal(got, exp) {
			t.Fatalf("the scan reads %+v, Thrift %+v", h, want)
		}
	})
}

// FuzzDecodePage decodes a data page of any bytes, after a dictionary page
// of any bytes, as a column of each type an export writes, required or
// optional: definition levels, the RLE/bit-packed hybrid, PLAIN values and
// dictionary indexes. Never a panic, never more than the bytes justify; a
// value is a string of the page's bytes or the text of a number.
func FuzzDecodePage(f *testing.F) {
	var dict []byte
	var dictN int32
	var dictEl *parquet.SchemaElement
	for _, p := range realPages(f) {
		optional := p.el.GetRepetitionType() == parquet.FieldRepetitionType_OPTIONAL
		switch {
		case p.h.typ == pageDictionary:
			dict, dictN, dictEl = p.data, p.h.numValues, p.el
		case p.el == dictEl:
			f.Add(dict, uint16(dictN), p.data, uint8(p.el.GetType()), optional, uint8(p.h.encoding), uint16(p.h.numValues))
		default:
			f.Add([]byte{}, uint16(0), p.data, uint8(p.el.GetType()), optional, uint8(p.h.encoding), uint16(p.h.numValues))
		}
	}
	f.Fuzz(func(t *testing.T, dict []byte, dictN uint16, data []byte, typ uint8, optional bool, enc uint8, rows uint16) {
		pt := parquet.Type(typ % 8)
		rep := parquet.FieldRepetitionType_REQUIRED
		if optional {
			rep = parquet.FieldRepetitionType_OPTIONAL
		}
		d := columnDecoder{el: &parquet.SchemaElement{Type: &pt, RepetitionType: &rep}, optional: optional}
		dst := make([]Value, rows)
		var err error
		// dst is the row group's, sized by its row count (an export's
		// holds at most 131,072): not the page's to justify.
		fuzzcheck.Bound{PerByte: 64, Fixed: 64 << 10}.Check(t, len(dict)+len(data), func() {
			if len(dict) > 0 {
				if err = d.dictionary(dict, int32(dictN)); err != nil {
					return
				}
			}
			err = d.page(data, parquet.Encoding(enc), dst)
		})
		if err != nil {
			return
		}
		for _, v := range dst {
			if len(v.S) > len(dict)+len(data) && len(v.S) > 32 {
				t.Fatalf("a value of %d bytes from pages of %d", len(v.S), len(dict)+len(data))
			}
		}
	})
}
