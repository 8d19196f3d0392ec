package diff_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/cognito-export/cognito-export/diff"
	"github.com/cognito-export/cognito-export/reader"
	"github.com/cognito-export/cognito-export/rowscan"
	"github.com/cognito-export/cognito-export/sink"
	"github.com/cognito-export/cognito-export/sink/memdest"
)

// synthetic writes an export of users 0..n-1 in memory: user i is in
// groups g(i%5) and, when extra says so, g5. Status and email follow i.
func synthetic(t *testing.T, n int, started time.Time, extra func(i int) bool, status func(i int) string) diff.Side {
	t.Helper()
	ctx := context.Background()
	d := memdest.New()
	attrs := []sink.AttrColumn{{Name: "email", Type: sink.AttrString}}
	w, err := sink.NewWriter(d, sink.WriterOptions{Format: "parquet", Attributes: attrs, PartRows: int64(n/2 + 1),
		Name: func(seq int) string { return fmt.Sprintf("part-%05d.parquet", seq) }})
	if err != nil {
		t.Fatal(err)
	}
	role := "arn:aws:iam::123456789012:role/admin"
	var rows []sink.Row
	for i := range n {
		base := sink.Row{UserPoolID: "eu-west-1_Syn", Username: "user" + strconv.Itoa(i), UserSub: fmt.Sprintf("sub-%d", i),
			UserStatus: status(i), UserEnabled: true, ExportedAt: started,
			Attrs: []sink.Attr{{Value: fmt.Sprintf("u%d@example.com", i), Set: true}}}
		r := base
		r.GroupName = fmt.Sprintf("g%d", i%5)
		rows = append(rows, r)
		if extra(i) {
			r := base
			r.GroupName, r.GroupRoleArn = "g5", &role
			rows = append(rows, r)
		}
	}
	if err := w.Write(ctx, rows); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	m := sink.Manifest{Format: "parquet", Columns: sink.ColumnsWith(attrs), Parts: w.Parts(), StartedAt: started,
		Parameters: map[string]string{"user_pool_id": "eu-west-1_Syn", "csv_raw": "false"},
		Attributes: []sink.ManifestAttribute{{Attribute: "email", Column: "email", Type: "string"}}}
	for _, p := range m.Parts {
		m.Totals.Rows += p.Rows
		m.Totals.Bytes += p.Bytes
	}
	m.Totals.Parts, m.Totals.Users = len(m.Parts), int64(n)
	if err := sink.WriteManifest(ctx, d, reader.ManifestName, m); err != nil {
		t.Fatal(err)
	}
	side, err := diff.Open(ctx, "mem-"+started.Format("2006-01-02"), d)
	if err != nil {
		t.Fatal(err)
	}
	return side
}

func changeRows(t *testing.T, d *memdest.Dest) []string {
	t.Helper()
	ctx := context.Background()
	m, err := reader.ReadManifest(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	err = rowscan.Scan(ctx, d, m, []string{"change", "username", "group_name", "field", "old_value", "new_value"}, rowscan.Options{},
		func(row []rowscan.Value) error {
			out = append(out, fmt.Sprintf("%s %s %s %s %s %s", row[0].S, row[1].S, row[2].S, row[3].S, row[4].S, row[5].S))
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestPartitionsDoNotChangeTheResult: however the users are spread over
// partitions, the same change rows come out, in the same order.
func TestPartitionsDoNotChangeTheResult(t *testing.T) {
	day1, day2 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
	old := synthetic(t, 3000, day1, func(i int) bool { return i%7 == 0 }, func(int) string { return "CONFIRMED" })
	new := synthetic(t, 3100, day2, func(i int) bool { return i%7 == 0 || i%11 == 0 }, func(i int) string {
		if i%13 == 0 {
			return "RESET_REQUIRED"
		}
		return "CONFIRMED"
	})
	var first []string
	var firstParts []sink.PartInfo
	for _, parts := range []int{1, 7, 64, 7} {
		out := memdest.New()
		sum, err := diff.Run(context.Background(), old, new, out, diff.Options{Format: "parquet", Partitions: parts, TempDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		rows := changeRows(t, out)
		if parts == 7 {
			// The same partitions give the same bytes.
			m, _ := reader.ReadManifest(context.Background(), out)
			if firstParts != nil && !slices.Equal(m.Parts, firstParts) {
				t.Fatalf("two diffs of the same exports differ: %v, %v", m.Parts, firstParts)
			}
			firstParts = m.Parts
		}
		slices.Sort(rows)
		wantAdded := 100
		if got := sum.ByChange[diff.UserAdded]; got != int64(wantAdded) {
			t.Fatalf("%d partitions: %d users added, want %d", parts, got, wantAdded)
		}
		if int64(len(rows)) != sum.Changes {
			t.Fatalf("%d partitions: %d rows, the summary says %d", parts, len(rows), sum.Changes)
		}
		if first == nil {
			first = rows
		} else if !slices.Equal(rows, first) {
			t.Fatalf("%d partitions give other rows than 1 partition", parts)
		}
		if sum.ByChange[diff.UserChanged] != int64(len(seq(3000, 13))) {
			t.Fatalf("%d status changes, want %d", sum.ByChange[diff.UserChanged], len(seq(3000, 13)))
		}
	}
}

func seq(n, every int) []int {
	var s []int
	for i := 0; i < n; i += every {
		s = append(s, i)
	}
	return s
}

// cancelling fails the first part it is asked for, cancelling the diff's
// context as a SIGINT would at that moment.
type cancelling struct {
	*memdest.Dest
	cancel context.CancelFunc
}

func (c cancelling) Create(ctx context.Context, name string) (sink.Part, error) {
	c.cancel()
	return nil, context.Canceled
}

// TestTemporaryFilesGoWhenTheDiffIsStopped: the spilled exports are
// removed when the diff stops half-way, and nothing looks complete.
func TestTemporaryFilesGoWhenTheDiffIsStopped(t *testing.T) {
	day1, day2 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
	old := synthetic(t, 2000, day1, func(i int) bool { return i%3 == 0 }, func(int) string { return "CONFIRMED" })
	new := synthetic(t, 2000, day2, func(i int) bool { return i%4 == 0 }, func(int) string { return "CONFIRMED" })
	tmp := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	out := cancelling{memdest.New(), cancel}
	_, err := diff.Run(ctx, old, new, out, diff.Options{Format: "csv", Partitions: 5, TempDir: tmp})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("a stopped diff returned %v", err)
	}
	left, _ := os.ReadDir(tmp)
	if len(left) > 0 {
		t.Fatalf("temporary files left: %v", left)
	}
	if names := out.Names(); slices.Contains(names, reader.ManifestName) || slices.Contains(names, diff.SummaryName) {
		t.Fatalf("a stopped diff looks complete: %v", names)
	}
}
