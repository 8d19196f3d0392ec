package batch

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cognito-export/cognito-export/export"
	"github.com/cognito-export/cognito-export/internal/cognitoemu"
	"github.com/cognito-export/cognito-export/ratelimit"
	"github.com/cognito-export/cognito-export/reader"
)

// A follow-up diff is made once per export: a run that finds its export
// already complete keeps the diff it made, and an export made again
// (--fresh) replaces the diff of the export it replaced, which is evidence
// of nothing any more.
func TestFollowUpDiffIsMadeOncePerExport(t *testing.T) {
	pool := startPools(t, cognitoemu.PoolSpec{ID: "us-east-1_RunA", Users: 30, Groups: 3, Seed: 1})
	dir := t.TempDir()
	run := func(now time.Time, fresh bool) (output, stdout string) {
		t.Helper()
		cfg := pool("us-east-1_RunA", dir+"/dt={date}")
		cfg.Fresh = fresh
		p := newPlan(t, Settings{Now: now, Pools: []export.Config{cfg}, NewLimits: ratelimit.Unlimited})
		var out bytes.Buffer
		if err := NewRun(p, Found{Pools: p.Pools}, RunOptions{DiffAgainst: "latest", Stdout: &out}).Export(context.Background()); err != nil {
			t.Fatal(err)
		}
		return p.Pools[0].Output, out.String()
	}
	run(day1, false)
	second, out := run(day2, false)
	diffManifest := filepath.Join(second, "diff", reader.ManifestName)
	if !strings.Contains(out, "written: ") {
		t.Fatalf("the second day made no diff:\n%s", out)
	}
	made := fileSHA256(t, diffManifest)

	if _, out := run(day2, false); !strings.Contains(out, "already complete") || strings.Contains(out, "written: ") ||
		fileSHA256(t, diffManifest) != made {
		t.Fatalf("a run over the complete export made its diff again:\n%s", out)
	}

	if _, out := run(day2, true); !strings.Contains(out, "written: ") {
		t.Fatalf("the export made again has no diff of its own:\n%s", out)
	}
	dm := readJSON[reader.Manifest](t, diffManifest)
	if fileSHA256(t, diffManifest) == made || dm.Parameters["new_manifest_sha256"] != fileSHA256(t, filepath.Join(second, reader.ManifestName)) {
		t.Fatalf("the diff is still of the export --fresh replaced: %v", dm.Parameters)
	}
}

// A dry run checks each pool found and hands over its report, writes no
// file, and stops at the first pool that fails a check, or at an (account,
// region) discovery could not list, before it calls anything.
func TestDryRunChecksEachPoolAndWritesNothing(t *testing.T) {
	pool := startPools(t, cognitoemu.PoolSpec{ID: "us-east-1_RunA", Users: 40, Groups: 4, Seed: 1},
		cognitoemu.PoolSpec{ID: "us-east-1_RunB", Users: 25, Groups: 3, Seed: 2})
	dir := t.TempDir()
	ctx, log := context.Background(), slog.New(slog.DiscardHandler)
	plan := func(ids ...string) *Plan {
		var cfgs []export.Config
		for _, id := range ids {
			cfgs = append(cfgs, pool(id, dir+"/{pool}"))
		}
		return newPlan(t, Settings{Pools: cfgs, NewLimits: ratelimit.Unlimited})
	}
	var seen []string
	each := func(cfg export.Config, rep export.DryRunReport) {
		seen = append(seen, cfg.UserPoolID)
		if rep.Output == "" || len(rep.Operations) == 0 || rep.Estimate.Users == 0 {
			t.Errorf("report of %s: %+v", cfg.UserPoolID, rep)
		}
	}
	p := plan("us-east-1_RunB", "us-east-1_RunA")
	if err := DryRun(ctx, p, Found{Pools: p.Pools}, log, each); err != nil {
		t.Fatal(err)
	}
	if slices.Sort(seen); !slices.Equal(seen, []string{"us-east-1_RunA", "us-east-1_RunB"}) {
		t.Fatalf("reports of %q", seen)
	}
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			t.Errorf("the dry run left %s", path)
		}
		return err
	})

	p = plan("us-east-1_RunA", "us-east-1_Missing")
	if err := DryRun(ctx, p, Found{Pools: p.Pools}, log, func(export.Config, export.DryRunReport) {}); err == nil ||
		!strings.HasPrefix(err.Error(), "dry run of pool us-east-1_Missing: ") {
		t.Fatalf("error %v, want one naming the pool that failed its check", err)
	}

	seen = nil
	listing := errors.New("find the pools of account 055555555555 in eu-west-1: denied")
	failed := Found{Pools: p.Pools, Failed: []Failure{{IndexEntry{Account: "055555555555", Region: "eu-west-1", Status: StatusFailed}, listing}}}
	if err := DryRun(ctx, p, failed, log, each); !errors.Is(err, listing) || len(seen) > 0 {
		t.Fatalf("error %v after checking %q, want the listing's before any check", err, seen)
	}
}
