package export_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cognito-export/cognito-export/export"
	"github.com/cognito-export/cognito-export/fault"
	"github.com/cognito-export/cognito-export/internal/cognitoemu"
	"github.com/cognito-export/cognito-export/internal/duckdb"
	"github.com/cognito-export/cognito-export/internal/exportcheck"
	"github.com/cognito-export/cognito-export/ratelimit"
	"github.com/cognito-export/cognito-export/sink"
)

var exportedAt = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

func exportConfig(env *emuEnv, out string) export.Config {
	return export.Config{
		UserPoolID: env.pool.ID(), Output: out, Strategy: export.StrategyPerUser, Format: "csv", Concurrency: 8, PageSize: 60,
		UsersWithoutGroups: true, Client: clientConfig(env.url), Limits: ratelimit.Unlimited(),
		CSVRaw: true, // compared with the pool as it is; neutralisation has its own test
		Now:    func() time.Time { return exportedAt },
	}
}

func csvTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z07:00")
}

func opt(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// groundTruth renders the rows the export must contain, straight from the
// emulator's pool, as CSV records keyed by their joined text.
func groundTruth(env *emuEnv, usersWithoutGroups bool) map[string]int {
	want := make(map[string]int)
	groups := env.pool.Groups()
	var idx []int
	for i := range env.pool.NumUsers() {
		if env.srv.Deleted(env.pool, i) {
			continue
		}
		u := env.pool.User(i)
		base := []string{env.pool.ID(), u.Username, u.Sub, u.Status, strconv.FormatBool(u.Enabled),
			csvTime(u.Created), csvTime(u.Modified)}
		idx = env.pool.UserGroups(i, idx[:0])
		if len(idx) == 0 && usersWithoutGroups {
			rec := append(append([]string{}, base...), "", "", "", "", "", "", csvTime(exportedAt))
			want[key(rec)]++
		}
		for _, gi := range idx {
			g := groups[gi]
			prec := ""
			if g.Precedence != nil {
				prec = strconv.Itoa(int(*g.Precedence))
			}
			rec := append(append([]string{}, base...), g.Name, opt(g.Description), opt(g.RoleArn), prec,
				csvTime(g.Created), csvTime(g.Modified), csvTime(exportedAt))
			want[key(rec)]++
		}
	}
	return want
}

func key(rec []string) string {
	// encoding/csv reads \r\n inside a quoted field as \n.
	return strings.ReplaceAll(strings.Join(rec, "\x1f"), "\r\n", "\n")
}

// readExport reads every part named by the manifest.
func readExport(t *testing.T, dir string) (sink.Manifest, map[string]int, int) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, export.ManifestName))
	if err != nil {
		t.Fatalf("manifest: %v", err)
	}
	var m sink.Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	got := make(map[string]int)
	total := 0
	for _, p := range m.Parts {
		f, err := os.Open(filepath.Join(dir, p.Name))
		if err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(f).ReadAll()
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", p.Name, err)
		}
		if strings.Join(recs[0], ",") != strings.Join(sink.Columns, ",") {
			t.Fatalf("%s: header %v", p.Name, recs[0])
		}
		if int64(len(recs)-1) != p.Rows {
			t.Fatalf("%s: %d rows, manifest says %d", p.Name, len(recs)-1, p.Rows)
		}
		for _, r := range recs[1:] {
			got[key(r)]++
			total++
		}
	}
	return m, got, total
}

func compareRows(t *testing.T, got, want map[string]int) {
	t.Helper()
	missing, extra, dup := 0, 0, 0
	for k, n := range want {
		if got[k] < n {
			missing++
			if missing <= 3 {
				t.Errorf("missing row: %q", k)
			}
		}
	}
	for k, n := range got {
		if want[k] == 0 {
			extra++
			if extra <= 3 {
				t.Errorf("unexpected row: %q", k)
			}
		} else if n > want[k] {
			dup++
		}
	}
	if missing+extra+dup > 0 {
		t.Fatalf("%d missing, %d unexpected, %d duplicated rows", missing, extra, dup)
	}
}

func TestExportEqualsGroundTruth(t *testing.T) {
	users := 20000
	if testing.Short() {
		users = 2000
	}
	env := startEmulator(t, cognitoemu.PoolSpec{Users: users, Groups: 90, Seed: 42}, cognitoemu.Options{})
	out := t.TempDir()
	cfg := exportConfig(env, out)
	cfg.PartRows = int64(users) / 3 // several parts
	sum, err := export.Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	m, got, total := readExport(t, out)
	want := groundTruth(env, true)
	compareRows(t, got, want)
	if sum.Users != int64(users) || sum.Rows != int64(total) || m.Totals.Rows != int64(total) || sum.Skipped != 0 {
		t.Fatalf("summary %+v, manifest totals %+v, rows read %d", sum, m.Totals, total)
	}
	if len(m.Parts) < 2 {
		t.Fatalf("want several parts, got %d", len(m.Parts))
	}
	// One ListUsers call per 60 users, at least one AdminListGroupsForUser
	// per user; calls count attempts, so a retry on a loaded machine adds one.
	pages := int64((users + 59) / 60)
	if lu := sum.Calls["ListUsers"]; lu < pages || lu > pages+sum.Retries || sum.Calls["AdminListGroupsForUser"] < int64(users) {
		t.Fatalf("calls = %v with %d retries, want %d ListUsers", sum.Calls, sum.Retries, pages)
	}
}

func TestExportWithoutEmptyUsersAndSmallPages(t *testing.T) {
	env := startEmulator(t, cognitoemu.PoolSpec{Users: 700, Groups: 70, Seed: 3}, cognitoemu.Options{})
	out := t.TempDir()
	cfg := exportConfig(env, out)
	cfg.UsersWithoutGroups = false
	cfg.PageSize = 7
	cfg.Concurrency = 3
	if _, err := export.Run(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	_, got, _ := readExport(t, out)
	compareRows(t, got, groundTruth(env, false))
}

func TestDeletedUsersAreSkippedAndCounted(t *testing.T) {
	env := startEmulator(t, cognitoemu.PoolSpec{Users: 3000, Groups: 10, Seed: 5}, cognitoemu.Options{DeletedShare: 0.02})
	deleted := 0
	for i := range env.pool.NumUsers() {
		if env.srv.Deleted(env.pool, i) {
			deleted++
		}
	}
	if deleted == 0 {
		t.Fatal("the emulator deleted nobody")
	}
	out := t.TempDir()
	sum, err := export.Run(context.Background(), exportConfig(env, out))
	if err != nil {
		t.Fatal(err)
	}
	if sum.Skipped != int64(deleted) || sum.Users != int64(3000-deleted) {
		t.Fatalf("skipped %d users (want %d), exported %d", sum.Skipped, deleted, sum.Users)
	}
	m, got, _ := readExport(t, out)
	compareRows(t, got, groundTruth(env, true))
	if m.Totals.Skipped != int64(deleted) {
		t.Fatalf("manifest skipped = %d", m.Totals.Skipped)
	}
}

func TestExportFailuresLeaveNoManifest(t *testing.T) {
	env := startEmulator(t, cognitoemu.PoolSpec{Users: 500, Groups: 5, Seed: 1}, cognitoemu.Options{
		Deny: map[string]string{"AdminListGroupsForUser": "NotAuthorizedException"},
	})
	tests := []struct {
		name   string
		mutate func(*export.Config)
		kind   fault.Kind
		msg    string
	}{
		{"unknown pool", func(c *export.Config) { c.UserPoolID = "us-east-1_Nope" }, fault.Fatal, "check --user-pool-id"},
		{"denied", func(c *export.Config) {}, fault.Fatal, "cognito-idp:AdminListGroupsForUser"},
		{"page size", func(c *export.Config) { c.PageSize = 61 }, fault.Usage, "1..60"},
		{"concurrency", func(c *export.Config) { c.Concurrency = 0 }, fault.Usage, "--concurrency"},
		{"format", func(c *export.Config) { c.Format = "xml" }, fault.Usage, "unknown --format"},
		{"no pool", func(c *export.Config) { c.UserPoolID = "" }, fault.Usage, "--user-pool-id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := t.TempDir()
			cfg := exportConfig(env, out)
			tt.mutate(&cfg)
			_, err := export.Run(context.Background(), cfg)
			if err == nil || !strings.Contains(err.Error(), tt.msg) || fault.KindOf(err) != tt.kind {
				t.Fatalf("err = %v (kind %v), want kind %v mentioning %q", err, fault.KindOf(err), tt.kind, tt.msg)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans lines: %q", err)
			}
			entries, _ := os.ReadDir(out)
			if len(entries) != 0 {
				t.Fatalf("failed export left %v", entries)
			}
		})
	}
}

func TestOutputThatIsAFileIsRejected(t *testing.T) {
	env := startEmulator(t, cognitoemu.PoolSpec{Users: 5, Groups: 1, Seed: 1}, cognitoemu.Options{})
	file := filepath.Join(t.TempDir(), "out.csv")
	os.WriteFile(file, []byte("keep me"), 0o644)
	_, err := export.Run(context.Background(), exportConfig(env, file))
	if err == nil || fault.KindOf(err) != fault.Usage || !strings.Contains(err.Error(), "is a file") {
		t.Fatalf("err = %v", err)
	}
	if data, _ := os.ReadFile(file); string(data) != "keep me" {
		t.Fatal("the file was touched")
	}
}

func TestCompleteExportIsNotRedoneWithoutFresh(t *testing.T) {
	env := startEmulator(t, cognitoemu.PoolSpec{Users: 50, Groups: 3, Seed: 1}, cognitoemu.Options{})
	out := t.TempDir()
	cfg := exportConfig(env, out)
	if _, err := export.Run(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(filepath.Join(out, export.ManifestName))
	calls := env.srv.Calls("ListUsers")
	sum, err := export.Run(context.Background(), cfg)
	if err != nil || !sum.AlreadyComplete || !sum.Complete || env.srv.Calls("ListUsers") != calls {
		t.Fatalf("second run: %+v, err %v, ListUsers calls %d -> %d", sum, err, calls, env.srv.Calls("ListUsers"))
	}
	cfg.Fresh = true
	cfg.Now = func() time.Time { return exportedAt.Add(time.Hour) }
	if _, err := export.Run(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	after, _ := os.ReadFile(filepath.Join(out, export.ManifestName))
	if string(before) == string(after) {
		t.Fatal("--fresh did not replace the export")
	}
}

func TestCancelledExportLeavesNoManifest(t *testing.T) {
	env := startEmulator(t, cognitoemu.PoolSpec{Users: 5000, Groups: 5, Seed: 1}, cognitoemu.Options{})
	out := t.TempDir()
	cfg := exportConfig(env, out)
	cfg.Limits = ratelimit.NewSet(map[ratelimit.Category]float64{ratelimit.UserResourceRead: 200}, 1)
	ctx, cancel := context.WithCancelCause(context.Background())
	time.AfterFunc(300*time.Millisecond, func() { cancel(errors.New("test stop")) })
	_, err := export.Run(ctx, cfg)
	if err == nil {
		t.Fatal("a cancelled export reported success")
	}
	if _, err := os.Stat(filepath.Join(out, export.ManifestName)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("manifest after cancel: %v", err)
	}
}

func TestExportsReadBackByDuckDB(t *testing.T) {
	duckdb.Require(t)
	env := startEmulator(t, cognitoemu.PoolSpec{Users: 5000, Groups: 90, Seed: 17}, cognitoemu.Options{DeletedShare: 0.02})
	truth := exportcheck.WriteTruth(t, env.pool, env.srv, true)
	for format, table := range map[string]string{
		"parquet": "read_parquet(%s, hive_partitioning=false)",
		"csv":     "read_csv(%s, header=true, all_varchar=true, types={'group_precedence':'INTEGER'})",
	} {
		t.Run(format, func(t *testing.T) {
			out := t.TempDir()
			cfg := exportConfig(env, out)
			cfg.Format = format
			cfg.PartRows = 2500
			sum, err := export.Run(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			rows := exportcheck.Compare(t, fmt.Sprintf(table, duckdb.Quote(out+"/part-*."+format)), truth)
			if int64(rows) != sum.Rows || sum.Parts < 2 {
				t.Fatalf("DuckDB read %d rows, the summary says %d in %d parts", rows, sum.Rows, sum.Parts)
			}
		})
	}
}
