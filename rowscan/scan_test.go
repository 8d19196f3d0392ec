package rowscan_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/cognito-export/cognito-export/reader"
	"github.com/cognito-export/cognito-export/rowscan"
	"github.com/cognito-export/cognito-export/sink"
	"github.com/cognito-export/cognito-export/sink/localdest"
	"github.com/cognito-export/cognito-export/sink/memdest"
)

// hostileRow varies every column a scan reads, with the text a CSV must
// quote or neutralise and the NULLs either format may hold.
func hostileRow(i int) sink.Row {
	names := []string{"=cmd|' /C calc'!A0", "'quoted", "''twice", "plain", "a,b\r\nc", "-1", "\"q\"", "@sum", "\tTab", "名前"}
	r := sink.Row{
		UserPoolID: "us-east-1_X", Username: fmt.Sprintf("%s%07d", names[i%len(names)], i),
		UserSub: fmt.Sprintf("sub-%d", i), UserStatus: []string{"CONFIRMED", "UNCONFIRMED"}[i%2], UserEnabled: i%3 != 0,
		UserCreateDate: time.UnixMilli(1_600_000_000_000 + int64(i)*1001).UTC(),
		ExportedAt:     time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC),
		Attrs:          []sink.Attr{{Value: names[(i+3)%len(names)], Set: i%5 != 0}, {Value: strconv.FormatBool(i%2 == 0), Set: i%7 != 0}},
	}
	if i%4 != 0 {
		desc := names[(i+1)%len(names)] + "\r\nline 2"
		role := fmt.Sprintf("arn:aws:iam::123456789012:role/r%d", i%4)
		prec := int32(i%4 - 2)
		r.GroupName, r.GroupDescription, r.GroupRoleArn, r.GroupPrecedence = names[i%4], &desc, &role, &prec
	}
	return r
}

var scanColumns = []string{"username", "user_sub", "user_status", "user_enabled", "user_create_date",
	"group_name", "group_description", "group_role_arn", "group_precedence", "exported_at", "email", "email_verified"}

func wantValues(r sink.Row) []rowscan.Value {
	v := func(s string) rowscan.Value { return rowscan.Value{S: s, Valid: s != ""} }
	deref := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	prec := ""
	if r.GroupPrecedence != nil {
		prec = strconv.Itoa(int(*r.GroupPrecedence))
	}
	attr := func(a sink.Attr) rowscan.Value {
		if !a.Set {
			return rowscan.Value{}
		}
		return v(a.Value)
	}
	return []rowscan.Value{v(r.Username), v(r.UserSub), v(r.UserStatus), v(strconv.FormatBool(r.UserEnabled)),
		v(rowscan.TimeText(r.UserCreateDate)), v(r.GroupName), v(deref(r.GroupDescription)), v(deref(r.GroupRoleArn)),
		v(prec), v(rowscan.TimeText(r.ExportedAt)), attr(r.Attrs[0]), attr(r.Attrs[1])}
}

// TestScanReadsBackWhatTheSinkWrote reads both formats, raw and
// neutralised CSV, past one Parquet row group and one data page, and gets
// every value back as written, as the same text in either format.
func TestScanReadsBackWhatTheSinkWrote(t *testing.T) {
	const rows = 140_000 // more than one 131,072-row group
	if testing.Short() {
		t.Skip("writes 140,000 rows in each format")
	}
	attrs := []sink.AttrColumn{{Name: "email", Type: sink.AttrString}, {Name: "email_verified", Type: sink.AttrBoolean}}
	for _, tc := range []struct {
		format string
		raw    bool
	}{{"parquet", false}, {"csv", false}, {"csv", true}} {
		t.Run(fmt.Sprintf("%s raw=%v", tc.format, tc.raw), func(t *testing.T) {
			ctx := context.Background()
			dir, err := localdest.Open(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			m := writeRows(t, dir, tc.format, tc.raw, attrs, rows)
			i := 0
			err = rowscan.Scan(ctx, dir, m, scanColumns, rowscan.Options{}, func(row []rowscan.Value) error {
				want := wantValues(hostileRow(i))
				if tc.format == "parquet" && !want[0].Valid {
					t.Fatal("a username is never empty")
				}
				if !slices.Equal(row, want) {
					return fmt.Errorf("row %d:\n got %v\nwant %v", i, row, want)
				}
				i++
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if i != rows {
				t.Fatalf("scanned %d rows, wrote %d", i, rows)
			}
		})
	}
}

// TestScanSpoolsAPartThatCannotSeek reads Parquet from a source whose
// files are streams, as S3's are.
func TestScanSpoolsAPartThatCannotSeek(t *testing.T) {
	ctx := context.Background()
	d := memdest.New()
	attrs := []sink.AttrColumn{{Name: "email", Type: sink.AttrString}, {Name: "email_verified", Type: sink.AttrBoolean}}
	m := writeRows(t, d, "parquet", false, attrs, 1000)
	tmp := t.TempDir()
	n := 0
	err := rowscan.Scan(ctx, d, m, []string{"username", "group_precedence"}, rowscan.Options{TempDir: tmp}, func(row []rowscan.Value) error {
		if want := wantValues(hostileRow(n)); row[0] != want[0] || row[1] != want[8] {
			return fmt.Errorf("row %d: %v", n, row)
		}
		n++
		return nil
	})
	if err != nil || n != 1000 {
		t.Fatalf("scanned %d rows: %v", n, err)
	}
	if left, _ := localdest.OpenExisting(tmp); left != nil {
		if names, _ := left.List(ctx); len(names) > 0 {
			t.Fatalf("spooled copies left behind: %v", names)
		}
	}
	if err := rowscan.Scan(ctx, d, m, []string{"no_such_column"}, rowscan.Options{}, func([]rowscan.Value) error { return nil }); err == nil {
		t.Fatal("a column the export lacks was scanned")
	}
}

func writeRows(t *testing.T, d interface {
	sink.Destination
	sink.Putter
}, format string, raw bool, attrs []sink.AttrColumn, rows int) reader.Manifest {
	t.Helper()
	ctx := context.Background()
	w, err := sink.NewWriter(d, sink.WriterOptions{
		Format: format, PartRows: int64(rows/2 + 1), Attributes: attrs, CSVRaw: raw,
		Name: func(seq int) string { return fmt.Sprintf("%s%05d.%s", reader.PartPrefix, seq, format) },
	})
	if err != nil {
		t.Fatal(err)
	}
	batch := make([]sink.Row, 0, 1000)
	for i := range rows {
		batch = append(batch, hostileRow(i))
		if len(batch) == cap(batch) || i == rows-1 {
			if err := w.Write(ctx, batch); err != nil {
				t.Fatal(err)
			}
			batch = batch[:0]
			if w.Full() {
				if err := w.Flush(ctx); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	m := sink.Manifest{Format: format, Columns: sink.ColumnsWith(attrs), Parts: w.Parts(),
		Parameters: map[string]string{"csv_raw": strconv.FormatBool(raw)},
		Attributes: []sink.ManifestAttribute{{Attribute: "email", Column: "email", Type: "string"}, {Attribute: "email_verified", Column: "email_verified", Type: "boolean"}}}
	return reader.Manifest{Manifest: m}
}
