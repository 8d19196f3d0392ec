package rowscan_test

import (
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/thrift/lib/go/thrift"
	"github.com/xitongsys/parquet-go/parquet"

	"github.com/cognito-export/cognito-export/internal/fuzzcheck"
	"github.com/cognito-export/cognito-export/reader"
	"github.com/cognito-export/cognito-export/rowscan"
	"github.com/cognito-export/cognito-export/sink"
	"github.com/cognito-export/cognito-export/sink/localdest"
	"github.com/cognito-export/cognito-export/sink/memdest"
)

var fuzzAttrs = []sink.AttrColumn{{Name: "email", Type: sink.AttrString}, {Name: "email_verified", Type: sink.AttrBoolean}}

// seedParts writes a small export of hostile rows and returns its
// manifest and the bytes of its parts.
func seedParts(f *testing.F, format, compression string, raw bool) (reader.Manifest, [][]byte) {
	ctx := context.Background()
	d := memdest.New()
	w, err := sink.NewWriter(d, sink.WriterOptions{Format: format, Compression: compression, PartRows: 30, Attributes: fuzzAttrs, CSVRaw: raw,
		Name: func(seq int) string { return reader.PartPrefix + string(rune('0'+seq)) + "." + format }})
	if err != nil {
		f.Fatal(err)
	}
	rows := hugeRows()
	for i := range 45 {
		rows = append(rows, hostileRow(i))
	}
	for _, r := range rows {
		if err := w.Write(ctx, []sink.Row{r}); err != nil {
			f.Fatal(err)
		}
		if w.Full() {
			if err := w.Flush(ctx); err != nil {
				f.Fatal(err)
			}
		}
	}
	if err := w.Flush(ctx); err != nil {
		f.Fatal(err)
	}
	m := writeRowsManifest(format, raw, w.Parts())
	var parts [][]byte
	for _, p := range w.Parts() {
		data, err := d.Get(ctx, p.Name)
		if err != nil || data == nil {
			f.Fatalf("part %s: %v", p.Name, err)
		}
		parts = append(parts, data)
	}
	return m, parts
}

func writeRowsManifest(format string, raw bool, parts []sink.PartInfo) reader.Manifest {
	m := sink.Manifest{Format: format, Columns: sink.ColumnsWith(fuzzAttrs), Parts: parts,
		Parameters: map[string]string{"csv_raw": map[bool]string{true: "true", false: "false"}[raw]},
		Attributes: []sink.ManifestAttribute{{Attribute: "email", Column: "email", Type: "string"}, {Attribute: "email_verified", Column: "email_verified", Type: "boolean"}}}
	return reader.Manifest{Manifest: m}
}

// scanPart scans data as the one part of an export in format, from a
// local directory (so that a Parquet part is read in place, by ReadAt).
func scanPart(t *testing.T, dir, format string, raw bool, data []byte, bound fuzzcheck.Bound) (rows int, err error) {
	name := reader.PartPrefix + "00000." + format
	if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
		t.Fatal(err)
	}
	src, err := localdest.OpenExisting(dir)
	if err != nil {
		t.Fatal(err)
	}
	m := writeRowsManifest(format, raw, []sink.PartInfo{{Name: name, Bytes: int64(len(data))}})
	bound.Check(t, len(data), func() {
		err = rowscan.Scan(context.Background(), src, m, scanColumns, rowscan.Options{}, func(row []rowscan.Value) error {
			rows++
			for _, v := range row {
				if len(v.S) > 64*len(data) {
					t.Fatalf("a value of %d bytes from a part of %d", len(v.S), len(data))
				}
			}
			return nil
		})
	})
	if err != nil && !strings.Contains(err.Error(), name) {
		t.Fatalf("the error does not name the part %s: %v", name, err)
	}
	if err != nil && !printable(err.Error()) {
		t.Fatalf("the error is not one printable line: %q", err.Error())
	}
	return rows, err
}

// printable reports whether s is one line a terminal shows as it is.
func printable(s string) bool {
	for _, r := range s {
		if !strconv.IsPrint(r) {
			return false
		}
	}
	return true
}

// realParts adds the parts of the seed exports in format as seeds, with
// whether the export's CSV is raw when args asks for it.
func realParts(f *testing.F, format string, withRaw bool) {
	for _, e := range fuzzcheck.Exports(f) {
		for _, p := range e.Parts {
			if !strings.HasSuffix(p.Name, "."+format) {
				continue
			}
			if withRaw {
				f.Add(p.Data, strings.HasSuffix(e.Name, "-raw"))
			} else {
				f.Add(p.Data)
			}
		}
	}
}

// hugeRows are rows of values of 16 KiB and more, hostile throughout: a
// page of one value, a CSV field longer than a read.
func hugeRows() []sink.Row {
	desc := strings.Repeat("=cmd|' /C calc'!A0,\r\n\"名前\"\u202e ", 700)
	rows := make([]sink.Row, 3)
	for i := range rows {
		rows[i] = hostileRow(i)
		rows[i].GroupDescription = &desc
		rows[i].Username = strings.Repeat("@", 16<<10+i)
	}
	return rows
}

// FuzzScanParquet scans a Parquet part of any bytes: its footer, column
// chunks, Thrift page headers, pages (snappy, gzip, zstd or none), levels
// and values. A part that is not an export's is an error naming it, never
// a panic, and a length it declares is not allocated before it is checked
// against the bytes that are there.
func FuzzScanParquet(f *testing.F) {
	var parts [][]byte
	for _, codec := range sink.Compressions {
		_, parts = seedParts(f, "parquet", codec, false)
		for _, p := range parts {
			f.Add(p)
		}
	}
	realParts(f, "parquet", false)
	for _, p := range rewrittenFooters(f, parts[0]) {
		f.Add(p)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		scanPart(t, dir, "parquet", false, data, parquetBound)
	})
}

// FuzzScanCSV scans a CSV part of any bytes, raw or neutralised: quoted
// fields, line breaks inside them, ragged records.
func FuzzScanCSV(f *testing.F) {
	for _, raw := range []bool{false, true} {
		_, parts := seedParts(f, "csv", "", raw)
		for _, p := range parts {
			f.Add(p, raw)
		}
	}
	f.Add([]byte("username\n\"a"), false)
	f.Add([]byte("username,user_sub\r\na,b,c\r\n"), true)
	realParts(f, "csv", true)
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte, raw bool) {
		scanPart(t, dir, "csv", raw, data, fuzzcheck.Bound{PerByte: 64, Fixed: 2 << 20})
	})
}

// parquetBound: a row group of an export holds up to 131,072 rows, and a
// scan holds a column of them for each column it reads (24 bytes a value,
// 36 MiB for the 12 of scanColumns) whatever the part's size: the footer
// says how many, and a page of dictionary indexes or of NULLs encodes a
// run of any length in a few bytes. A page decompresses to at most 1,024
// times its bytes, into a buffer per column.
var parquetBound = fuzzcheck.Bound{PerByte: 16 << 10, Fixed: 48 << 20}

// rewrittenFooters are part with its footer saying what a writer never
// would, each once crashing the scan or making it allocate gigabytes: a
// row group of -1 or 2^31 rows (a column of them was made), a column
// chunk at 2^62 of 2^62 bytes (the sum overflowed past the check).
func rewrittenFooters(f *testing.F, part []byte) [][]byte {
	ctx := context.Background()
	n := int(binary.LittleEndian.Uint32(part[len(part)-8:]))
	body := part[:len(part)-8-n]
	var out [][]byte
	for _, change := range []func(*parquet.FileMetaData){
		func(m *parquet.FileMetaData) { m.RowGroups[0].NumRows = -1 },
		func(m *parquet.FileMetaData) { m.RowGroups[0].NumRows = 1 << 31 },
		func(m *parquet.FileMetaData) {
			md := m.RowGroups[0].Columns[1].MetaData
			md.DataPageOffset, md.TotalCompressedSize, m.RowGroups[0].Columns[1].FileOffset = 1<<62, 1<<62, 1<<62
		},
	} {
		meta, err := reader.DecodeFooter(ctx, part[len(part)-8-n:len(part)-8])
		if err != nil {
			f.Fatal(err)
		}
		change(meta)
		ser := thrift.NewTSerializer()
		ser.Protocol = thrift.NewTCompactProtocolFactoryConf(nil).GetProtocol(ser.Transport)
		footer, err := ser.Write(ctx, meta)
		if err != nil {
			f.Fatal(err)
		}
		b := append(append([]byte(nil), body...), footer...)
		b = binary.LittleEndian.AppendUint32(b, uint32(len(footer)))
		out = append(out, append(b, "PAR1"...))
	}
	return out
}
