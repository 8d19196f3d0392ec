package rowscan_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
	for i := range 45 {
		if err := w.Write(ctx, []sink.Row{hostileRow(i)}); err != nil {
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
	return rows, err
}

// FuzzScanParquet scans a Parquet part of any bytes: its footer, column
// chunks, Thrift page headers, pages (snappy, gzip, zstd or none), levels
// and values. A part that is not an export's is an error naming it, never
// a panic, and a length it declares is not allocated before it is checked
// against the bytes that are there.
func FuzzScanParquet(f *testing.F) {
	for _, codec := range sink.Compressions {
		_, parts := seedParts(f, "parquet", codec, false)
		for _, p := range parts {
			f.Add(p)
		}
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
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte, raw bool) {
		scanPart(t, dir, "csv", raw, data, fuzzcheck.Bound{PerByte: 64, Fixed: 2 << 20})
	})
}

var parquetBound = fuzzcheck.Bound{PerByte: 1 << 20, Fixed: 4 << 20}
