package sink

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/cognito-export/cognito-export/internal/duckdb"
)

func ptr[T any](v T) *T { return &v }

// parquetRows covers every NULL rule and strings a naive encoder would break.
// Usernames start with a sortable prefix so DuckDB's ORDER BY matches.
func parquetRows() []Row {
	exported := time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)
	full := hostileRow(0) // precedence 0: must stay 0, not NULL
	full.Username = "u0 " + full.Username
	two := hostileRow(1)
	two.Username = "u1 line\nbreak \"q\" , ; \t 🚀 Ω 名前"
	two.UserSub = "sub-ü-\u2028"
	return []Row{
		full,
		two,
		{UserPoolID: "us-east-1_X", Username: "u2 nogroups", UserStatus: "FORCE_CHANGE_PASSWORD", ExportedAt: exported},
		{
			// A group without description, role or precedence, zero times,
			// and instants a millisecond encoder could round the wrong way.
			UserPoolID: "us-east-1_X", Username: "u3 bare-group", UserSub: "s3", UserStatus: "CONFIRMED",
			UserEnabled:          true,
			UserCreateDate:       time.Date(1969, 12, 31, 23, 59, 59, 999_500_000, time.UTC),
			UserLastModifiedDate: time.Date(2024, 2, 29, 12, 0, 0, 123_456_789, time.FixedZone("m", -7*3600)),
			GroupName:            "\"quoted\",group\n", GroupDescription: ptr(""), GroupPrecedence: ptr(int32(-5)),
		},
		{
			UserPoolID: "us-east-1_X", Username: "u4 max", UserStatus: "CONFIRMED",
			GroupName: "g", GroupRoleArn: ptr("arn:aws:iam::1:role/é"), GroupPrecedence: ptr(int32(2147483647)),
			GroupLastModifiedDate: time.Date(9999, 12, 31, 23, 59, 59, 999e6, time.UTC), ExportedAt: exported,
		},
	}
}

// duckValue is what query.mjs prints for the column value v holds in Row.
func duckValues(r Row) []any {
	str := func(s string, present bool) any {
		if !present {
			return nil
		}
		return s
	}
	ts := func(t time.Time) any {
		if t.IsZero() {
			return nil
		}
		return time.UnixMilli(t.UnixMilli()).UTC().Format("2006-01-02T15:04:05.000000Z")
	}
	var prec any
	if r.GroupPrecedence != nil {
		prec = float64(*r.GroupPrecedence)
	}
	return []any{
		r.UserPoolID, r.Username, str(r.UserSub, r.UserSub != ""), r.UserStatus, r.UserEnabled,
		ts(r.UserCreateDate), ts(r.UserLastModifiedDate),
		str(r.GroupName, r.GroupName != ""), str(deref(r.GroupDescription), r.GroupDescription != nil),
		str(deref(r.GroupRoleArn), r.GroupRoleArn != nil), prec,
		ts(r.GroupCreationDate), ts(r.GroupLastModifiedDate), ts(r.ExportedAt),
	}
}

// isAdjustedToUTC=true is an instant, which DuckDB maps to TIMESTAMPTZ;
// false would be a wall-clock TIMESTAMP.
var wantParquetTypes = []string{
	"VARCHAR", "VARCHAR", "VARCHAR", "VARCHAR", "BOOLEAN",
	"TIMESTAMP WITH TIME ZONE", "TIMESTAMP WITH TIME ZONE",
	"VARCHAR", "VARCHAR", "VARCHAR", "INTEGER",
	"TIMESTAMP WITH TIME ZONE", "TIMESTAMP WITH TIME ZONE", "TIMESTAMP WITH TIME ZONE",
}

func writeParquetDir(t *testing.T, opts WriterOptions, rows []Row) (string, *Writer) {
	t.Helper()
	dir := t.TempDir()
	dest, err := openTestDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	opts.Format, opts.Name = "parquet", testName("parquet")
	w, err := NewWriter(dest, opts)
	if err != nil {
		t.Fatal(err)
	}
	writeRolling(t, w, rows)
	return dir, w
}

func TestParquetRoundTripsThroughDuckDB(t *testing.T) {
	duckdb.Require(t)
	rows := parquetRows()
	for _, comp := range append([]string{""}, Compressions...) {
		t.Run("compression="+comp, func(t *testing.T) {
			dir, _ := writeParquetDir(t, WriterOptions{Compression: comp}, rows)
			src := "read_parquet(" + duckdb.Quote(filepath.Join(dir, "*.parquet")) + ", hive_partitioning = false)"

			desc := duckdb.Query(t, "DESCRIBE SELECT * FROM "+src)
			for i, col := range Columns {
				if got := desc.Rows[i][0:2]; got[0] != col || got[1] != wantParquetTypes[i] {
					t.Errorf("column %d = %v, want [%s %s]", i, got, col, wantParquetTypes[i])
				}
			}

			res := duckdb.Query(t, "SELECT * FROM "+src+" ORDER BY username")
			if !reflect.DeepEqual(res.Columns, Columns) || !reflect.DeepEqual(res.Types, wantParquetTypes) {
				t.Fatalf("columns %v types %v", res.Columns, res.Types)
			}
			if len(res.Rows) != len(rows) {
				t.Fatalf("read %d rows, wrote %d", len(res.Rows), len(rows))
			}
			for i, r := range rows {
				want := duckValues(r)
				for j := range want {
					if !reflect.DeepEqual(res.Rows[i][j], want[j]) {
						t.Errorf("row %d %s = %#v, want %#v", i, Columns[j], res.Rows[i][j], want[j])
					}
				}
			}
		})
	}
}

// Many batches and row groups, NULLs scattered through dictionary pages: the
// counts a reader derives must match, including the null_count statistics
// that parquet-mr based engines prune row groups with.
func TestParquetRowGroupsAndNullCounts(t *testing.T) {
	duckdb.Require(t)
	var buf bytes.Buffer
	enc, err := newParquetEncoder(&buf, "zstd", nil)
	if err != nil {
		t.Fatal(err)
	}
	enc.batch = make([]bufferedRow, 0, 7) // several pages per row group
	enc.groupMax = 50
	const n = 123
	nulls := map[string][]int{"group_name": make([]int, 3), "group_description": make([]int, 3), "user_sub": make([]int, 3)}
	sum := 0
	for i := 0; i < n; i++ {
		r := hostileRow(i)
		r.Username = fmt.Sprintf("u%03d", i)
		g := i / 50
		if (i*7919)%5 < 3 {
			r.GroupDescription = nil
			nulls["group_description"][g]++
		}
		if i%4 == 1 {
			r.GroupName, r.GroupPrecedence = "", nil
			nulls["group_name"][g]++
		} else {
			sum += int(*r.GroupPrecedence)
		}
		if i%9 == 0 {
			r.UserSub = ""
			nulls["user_sub"][g]++
		}
		if err := enc.Encode(&r); err != nil {
			t.Fatal(err)
		}
	}
	if err := enc.Close(); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "x.parquet")
	if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	src := duckdb.Quote(file)
	res := duckdb.Query(t, `SELECT count(*), count(group_description), sum(group_precedence),
		(SELECT count(*) FROM read_parquet(`+src+`) WHERE group_description IS NULL)
		FROM read_parquet(`+src+`)`)
	gd := nulls["group_description"]
	nd := gd[0] + gd[1] + gd[2]
	want := []any{float64(n), float64(n - nd), float64(sum), float64(nd)}
	if !reflect.DeepEqual(res.Rows[0], want) {
		t.Fatalf("count, non-null, sum, IS NULL = %v, want %v", res.Rows[0], want)
	}
	for col, perGroup := range nulls {
		stats := duckdb.Query(t, `SELECT row_group_id, stats_null_count FROM parquet_metadata(`+src+`)
			WHERE path_in_schema = '`+col+`' ORDER BY row_group_id`)
		if len(stats.Rows) != 3 {
			t.Fatalf("%s: %d row groups, want 3", col, len(stats.Rows))
		}
		for g, row := range stats.Rows {
			if row[1] != float64(perGroup[g]) {
				t.Errorf("%s row group %d: null_count statistic %v, want %d", col, g, row[1], perGroup[g])
			}
		}
	}
}

func TestParquetPartsRollAndEachIsValid(t *testing.T) {
	duckdb.Require(t)
	var rows []Row
	for i := 0; i < 7; i++ {
		rows = append(rows, hostileRow(i))
	}
	dir, w := writeParquetDir(t, WriterOptions{PartRows: 3}, rows)
	parts := w.Parts()
	if len(parts) != 3 {
		t.Fatalf("parts = %+v, want 3", parts)
	}
	for i, p := range parts {
		if want := fmt.Sprintf("part-%05d.parquet", i); p.Name != want {
			t.Errorf("part %d named %s, want %s", i, p.Name, want)
		}
		file := filepath.Join(dir, p.Name)
		if st, err := os.Stat(file); err != nil || st.Size() != p.Bytes {
			t.Errorf("%s: stat %v, want %d bytes", p.Name, err, p.Bytes)
		}
		res := duckdb.Query(t, "SELECT count(*) FROM read_parquet("+duckdb.Quote(file)+")")
		if got := res.Rows[0][0]; got != float64(p.Rows) {
			t.Errorf("%s: DuckDB reads %v rows, manifest says %d", p.Name, got, p.Rows)
		}
	}
}

func TestParquetUnknownCompression(t *testing.T) {
	_, err := newParquetEncoder(io.Discard, "lz4", nil)
	if err == nil || !strings.Contains(err.Error(), `"lz4"`) {
		t.Fatalf("err = %v", err)
	}
	for _, c := range Compressions {
		if !strings.Contains(err.Error(), c) {
			t.Errorf("error %q does not name %q", err, c)
		}
	}
	if _, err := NewWriter(fullDest{&fullDisk{left: 1 << 20}}, WriterOptions{Format: "parquet", Name: testName("parquet"), Compression: "brotli"}); err == nil || !strings.Contains(err.Error(), "brotli") {
		t.Fatalf("NewWriter err = %v", err)
	}
}

func TestParquetFooterErrorIsReturned(t *testing.T) {
	enc, err := newParquetEncoder(&partWriter{part: &fullDisk{left: 4}, ctx: context.Background()}, "none", nil) // room for the magic only
	if err != nil {
		t.Fatal(err)
	}
	r := hostileRow(0)
	if err := enc.Encode(&r); err != nil {
		t.Fatal(err)
	}
	if err := enc.Close(); err == nil || !strings.Contains(err.Error(), "no space left") {
		t.Fatalf("Close err = %v, want the write error", err)
	}
}

// benchRows look like a real pool: one pool, few statuses and groups,
// distinct users, one export time.
func benchRows() []Row {
	exported := time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)
	statuses := []string{"CONFIRMED", "FORCE_CHANGE_PASSWORD", "UNCONFIRMED"}
	rows := make([]Row, 4096)
	for i := range rows {
		g := i % 20
		created := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * 37 * time.Minute)
		rows[i] = Row{
			UserPoolID: "us-east-1_AbCdEfGhI", Username: fmt.Sprintf("user%06d@example.com", i),
			UserSub: fmt.Sprintf("%08x-1234-4abc-8def-%012x", i, i*7919), UserStatus: statuses[i%3],
			UserEnabled: i%10 != 0, UserCreateDate: created, UserLastModifiedDate: created.Add(time.Hour),
			GroupName: fmt.Sprintf("group-%02d", g), GroupDescription: ptr(fmt.Sprintf("Group number %d", g)),
			GroupRoleArn: ptr(fmt.Sprintf("arn:aws:iam::123456789012:role/g%02d", g)), GroupPrecedence: ptr(int32(g)),
			GroupCreationDate: time.Date(2019, 1, g+1, 0, 0, 0, 0, time.UTC), GroupLastModifiedDate: time.Date(2019, 2, g+1, 0, 0, 0, 0, time.UTC),
			ExportedAt: exported,
		}
	}
	return rows
}

func benchEncoder(b *testing.B, newEnc func(io.Writer) (encoder, error)) {
	rows := benchRows()
	var out countWriter
	b.ReportAllocs()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	enc, err := newEnc(&out)
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < b.N; i++ {
		if err := enc.Encode(&rows[i%len(rows)]); err != nil {
			b.Fatal(err)
		}
	}
	if err := enc.Close(); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	runtime.ReadMemStats(&after)
	n := float64(b.N)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/n, "ns/row")
	b.ReportMetric(n/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/n, "allocs/row")
	b.ReportMetric(float64(out)/n, "bytes/row")
}

type countWriter int64

func (c *countWriter) Write(p []byte) (int, error) { *c += countWriter(len(p)); return len(p), nil }

func BenchmarkParquetEncoder(b *testing.B) {
	for _, comp := range Compressions {
		b.Run(comp, func(b *testing.B) {
			benchEncoder(b, func(w io.Writer) (encoder, error) { return newParquetEncoder(w, comp, nil) })
		})
	}
}

func BenchmarkCSVEncoder(b *testing.B) {
	benchEncoder(b, func(w io.Writer) (encoder, error) { return newCSVEncoder(w, nil, false) })
}
