package batch

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/cognito-export/cognito-export/export"
	"github.com/cognito-export/cognito-export/fault"
	"github.com/cognito-export/cognito-export/internal/buildinfo"
	"github.com/cognito-export/cognito-export/internal/cognitoemu"
	"github.com/cognito-export/cognito-export/ratelimit"
	"github.com/cognito-export/cognito-export/reader"
	"github.com/cognito-export/cognito-export/report"
	"github.com/cognito-export/cognito-export/review"
)

// startPools serves pools of one account and region over real HTTP and
// returns what a pool of it is exported with, output aside.
func startPools(t *testing.T, specs ...cognitoemu.PoolSpec) func(id, output string) export.Config {
	t.Helper()
	var pools []*cognitoemu.Pool
	for _, s := range specs {
		pools = append(pools, cognitoemu.NewPool(s))
	}
	hs := httptest.NewServer(cognitoemu.NewServer(cognitoemu.Options{}, pools...))
	t.Cleanup(hs.Close)
	return func(id, output string) export.Config {
		cfg := named(id, output)
		cfg.Strategy, cfg.Format, cfg.Concurrency, cfg.PageSize, cfg.UsersWithoutGroups = export.StrategyPerUser, "csv", 4, 60, true
		cfg.Client.Region, cfg.Client.EndpointURL, cfg.Client.MaxAttempts = "us-east-1", hs.URL, 2
		cfg.Client.Credentials = credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "test-secret", "")
		return cfg
	}
}

func readJSON[T any](t *testing.T, path string) T {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var v T
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return v
}

func fileSHA256(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// A run of several pools exports those it can, fails the one it cannot
// alone, and writes the index last: every pool with its status, a complete
// pool's counts and manifest SHA-256 as read back, what discovery left out
// or could not list, sorted by account, region and pool, and totals that
// add them up. The error counts what failed and names it.
func TestIndexOfARun(t *testing.T) {
	pool := startPools(t, cognitoemu.PoolSpec{ID: "us-east-1_RunA", Users: 40, Groups: 4, Seed: 1},
		cognitoemu.PoolSpec{ID: "us-east-1_RunB", Users: 25, Groups: 3, Seed: 2})
	dir := t.TempDir()
	out := dir + "/pool={pool}"
	p := newPlan(t, Settings{Pools: []export.Config{pool("us-east-1_RunB", out), pool("us-east-1_Missing", out), pool("us-east-1_RunA", out)},
		NewLimits: ratelimit.Unlimited})
	listing := errors.New("find the pools of account 0555 in eu-west-1: denied")
	found := Found{Pools: p.Pools,
		Failed:  []Failure{{IndexEntry{Account: "055555555555", Region: "eu-west-1", Status: StatusFailed, Error: listing.Error()}, listing}},
		Skipped: []IndexEntry{{Region: "us-east-1", UserPoolID: "us-east-1_Left", Status: StatusSkipped, Error: `excluded by "Left*"`}}}
	var stdout bytes.Buffer
	err := NewRun(p, found, RunOptions{Parallel: 2, Stdout: &stdout}).Export(context.Background())
	if err == nil || !strings.HasPrefix(err.Error(), "1 of 3 pools and the listing of 1 (account, region) failed: pool us-east-1_Missing: ") ||
		!strings.Contains(err.Error(), listing.Error()) {
		t.Fatalf("error %v", err)
	}
	if !errors.Is(err, listing) {
		t.Error("the listing's error is not in the chain")
	}
	if n := strings.Count(stdout.String(), "exported "); n != 2 {
		t.Errorf("%d pools said they were exported:\n%s", n, &stdout)
	}

	idx := readJSON[RunIndex](t, filepath.Join(dir, IndexName))
	if idx.RunID != "run-1" || idx.Status != StatusFailed || idx.StartedAt.IsZero() || idx.FinishedAt.Before(idx.StartedAt) ||
		idx.Generator != buildinfo.Generator() {
		t.Errorf("index %+v", idx)
	}
	var order []string
	for _, e := range idx.Pools {
		order = append(order, e.Account+" "+e.Region+" "+e.UserPoolID+" "+e.Status)
	}
	want := []string{" us-east-1 us-east-1_Left skipped", " us-east-1 us-east-1_Missing failed",
		" us-east-1 us-east-1_RunA complete", " us-east-1 us-east-1_RunB complete", "055555555555 eu-west-1  failed"}
	if !slices.Equal(order, want) {
		t.Fatalf("entries\n%q\nwant\n%q", order, want)
	}
	var users, rows int64
	for _, e := range idx.Pools[2:4] {
		m := readJSON[reader.Manifest](t, filepath.Join(e.Output, reader.ManifestName))
		if e.Output != dir+"/pool="+e.UserPoolID || e.Users != m.Totals.Users || e.Rows != m.Totals.Rows || e.Users == 0 ||
			e.ManifestSHA256 != fileSHA256(t, filepath.Join(e.Output, reader.ManifestName)) {
			t.Errorf("entry %+v does not match its manifest (%d users, %d rows)", e, m.Totals.Users, m.Totals.Rows)
		}
		users, rows = users+e.Users, rows+e.Rows
		sum := readJSON[RunSummary](t, filepath.Join(e.Output, export.SummaryName))
		if sum.Status != "complete" || sum.RunID != "run-1" || sum.UserPoolID != e.UserPoolID || sum.Generator != buildinfo.Generator() {
			t.Errorf("summary.json of %s: %+v", e.UserPoolID, sum)
		}
	}
	if got := idx.Totals; got != (IndexTotals{Pools: 5, Complete: 2, Failed: 2, Skipped: 1, Users: users, Rows: rows}) {
		t.Errorf("totals %+v", got)
	}
	if e := idx.Pools[1]; e.Error == "" || e.ManifestSHA256 != "" {
		t.Errorf("the failed pool's entry %+v", e)
	}
}

// One pool named on the command line: no index, and its error as it is,
// kind and all, for the exit code.
func TestOnePoolFailsAsItself(t *testing.T) {
	pool := startPools(t)
	p := newPlan(t, Settings{Pools: []export.Config{pool("us-east-1_Missing", t.TempDir())}, NewLimits: ratelimit.Unlimited})
	if !p.Index.Location.IsZero() {
		t.Fatalf("an index for one pool: %s", p.Index)
	}
	err := NewRun(p, Found{Pools: p.Pools}, RunOptions{}).Export(context.Background())
	if err == nil || strings.Contains(err.Error(), "pools failed") || strings.HasPrefix(err.Error(), "pool us-east-1_Missing") {
		t.Fatalf("error %v", err)
	}
}

// A signal before the pools start: none is exported, the index says the
// run was interrupted and each pool not started, and the error carries
// the signal, so that the exit code says "interrupted" rather than
// success. (Before, a run stopped before its first pool returned nil.)
func TestInterruptedBeforeThePoolsStart(t *testing.T) {
	pool := startPools(t, cognitoemu.PoolSpec{ID: "us-east-1_RunA", Users: 5, Groups: 1, Seed: 1})
	dir := t.TempDir()
	for _, pools := range [][]string{{"us-east-1_RunA"}, {"us-east-1_RunA", "us-east-1_RunB"}} {
		var cfgs []export.Config
		for _, id := range pools {
			cfgs = append(cfgs, pool(id, dir+"/"+fmt.Sprint(len(pools))+"/{pool}"))
		}
		p := newPlan(t, Settings{Pools: cfgs, NewLimits: ratelimit.Unlimited})
		ctx, cancel := context.WithCancelCause(context.Background())
		cancel(fault.Interrupted{Signal: syscall.SIGTERM})
		err := NewRun(p, Found{Pools: p.Pools}, RunOptions{}).Export(ctx)
		if sig, ok := errors.AsType[fault.Interrupted](err); !ok || sig.Signal != syscall.SIGTERM {
			t.Fatalf("%d pools: error %v does not say the run was interrupted", len(pools), err)
		}
		if len(pools) == 1 {
			continue // no index for one pool
		}
		idx := readJSON[RunIndex](t, filepath.Join(dir, "2", IndexName))
		if idx.Status != StatusInterrupted || idx.Totals.Skipped != 2 {
			t.Fatalf("index %+v", idx)
		}
		for _, e := range idx.Pools {
			if e.Status != StatusSkipped || e.Error != "not started: the run was interrupted" {
				t.Errorf("entry %+v", e)
			}
		}
	}
}

// The previous export a follow-up diff and report compare with is the
// newest earlier export of the same pool beside this one: not a sibling of
// another pool, not itself. A first run has none, and goes on without.
func TestFollowUpComparesWithThePreviousExportOfThePool(t *testing.T) {
	pool := startPools(t, cognitoemu.PoolSpec{ID: "us-east-1_RunA", Users: 30, Groups: 3, Seed: 1},
		cognitoemu.PoolSpec{ID: "us-east-1_RunB", Users: 10, Groups: 2, Seed: 2})
	dir := t.TempDir()
	ro := &review.ReportOptions{Options: report.Options{MaxGroupsPerUser: 10, MaxListed: 10, MaxFindingRows: 10}}
	run := func(id, output string, now time.Time) string {
		t.Helper()
		p := newPlan(t, Settings{Now: now, Pools: []export.Config{pool(id, output)}, NewLimits: ratelimit.Unlimited})
		var stdout bytes.Buffer
		if err := NewRun(p, Found{Pools: p.Pools}, RunOptions{DiffAgainst: "latest", Report: ro, Stdout: &stdout}).Export(context.Background()); err != nil {
			t.Fatal(err)
		}
		return p.Pools[0].Output
	}
	// Another pool's export among the siblings, earlier than all.
	run("us-east-1_RunB", dir+"/dt=2026-11-30", day1.AddDate(0, 0, -1))
	first := run("us-east-1_RunA", dir+"/dt={date}", day1)
	if _, err := os.Stat(filepath.Join(first, "diff")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a first run made a diff: %v", err)
	}
	if rep := readJSON[report.Report](t, filepath.Join(first, "report.json")); rep.Previous != nil {
		t.Fatalf("a first run's report compares with %s", rep.Previous.Location)
	}
	second := run("us-east-1_RunA", dir+"/dt={date}", day2)
	dm := readJSON[reader.Manifest](t, filepath.Join(second, "diff", reader.ManifestName))
	if dm.Parameters["old"] != first || dm.Parameters["new"] != second {
		t.Fatalf("the diff compares %s with %s, want %s with %s", dm.Parameters["old"], dm.Parameters["new"], first, second)
	}
	rep := readJSON[report.Report](t, filepath.Join(second, "report.json"))
	if rep.Previous == nil || rep.Previous.Location != first || rep.Previous.ManifestSHA256 != fileSHA256(t, filepath.Join(first, reader.ManifestName)) {
		t.Fatalf("the report compares with %+v, want %s", rep.Previous, first)
	}
}
