package rowscan_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/cognito-export/cognito-export/reader"
	"github.com/cognito-export/cognito-export/rowscan"
	"github.com/cognito-export/cognito-export/sink"
	"github.com/cognito-export/cognito-export/sink/localdest"
)

// TestScanReadsEveryCompression reads back Parquet parts in each
// compression an export offers, past one data page of each column (8,192
// values), through the scan's own decompressors, which hold every page to
// the size its header declares.
func TestScanReadsEveryCompression(t *testing.T) {
	const rows = 20_000
	attrs := []sink.AttrColumn{{Name: "email", Type: sink.AttrString}, {Name: "email_verified", Type: sink.AttrBoolean}}
	for _, codec := range sink.Compressions {
		t.Run(codec, func(t *testing.T) {
			dir, err := localdest.Open(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			m := writeRowsCompressed(t, dir, codec, attrs, rows)
			i := 0
			err = rowscan.Scan(context.Background(), dir, m, scanColumns, rowscan.Options{}, func(row []rowscan.Value) error {
				if want := wantValues(hostileRow(i)); !slices.Equal(row, want) {
					return fmt.Errorf("row %d:\n got %v\nwant %v", i, row, want)
				}
				i++
				return nil
			})
			if err != nil || i != rows {
				t.Fatalf("scanned %d rows of %d: %v", i, rows, err)
			}
		})
	}
}

// writeRowsCompressed writes rows hostile rows in Parquet with codec, as
// writeRows does in snappy.
func writeRowsCompressed(t *testing.T, d *localdest.Dir, codec string, attrs []sink.AttrColumn, rows int) reader.Manifest {
	t.Helper()
	ctx := context.Background()
	w, err := sink.NewWriter(d, sink.WriterOptions{Format: "parquet", Compression: codec, Attributes: attrs,
		Name: func(seq int) string { return fmt.Sprintf("%s%05d.parquet", reader.PartPrefix, seq) }})
	if err != nil {
		t.Fatal(err)
	}
	batch := make([]sink.Row, 0, 1000)
	for i := range rows {
		batch = append(batch, hostileRow(i))
		if len(batch) == cap(batch) {
			if err := w.Write(ctx, batch); err != nil {
				t.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	if err := w.Write(ctx, batch); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	return writeRowsManifest("parquet", false, w.Parts())
}
