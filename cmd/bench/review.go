package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"time"
)

// The access review's commands on exports of a day and the day after:
// verify beside sha256sum of the same files, and diff beside DuckDB's FULL
// OUTER JOIN of the same Parquet files (issue 15's targets: at most 2x
// DuckDB's time, under 300 MB peak RSS at 1M and 5M users).

const (
	reviewBegin = "<!-- bench-review:begin (written by `make bench` or `go run ./cmd/bench -only-review`; do not edit) -->"
	reviewEnd   = "<!-- bench-review:end -->"
)

// timed is one run of a command: wall time, CPU and peak RSS.
type timed struct {
	wall, cpu time.Duration
	maxRSS    int64
}

func runTimed(ctx context.Context, dir string, name string, args ...string) (timed, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return timed{}, fmt.Errorf("%s %v: %w\n%s", name, args, err, stderr.Bytes())
	}
	t := timed{wall: time.Since(start)}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		t.cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		t.maxRSS = ru.Maxrss << 10
	}
	return t, nil
}

func median(ts []timed) timed {
	s := slices.Clone(ts)
	slices.SortFunc(s, func(a, b timed) int { return int(a.wall - b.wall) })
	return s[len(s)/2]
}

func maxRSS(ts []timed) int64 {
	var m int64
	for _, t := range ts {
		m = max(m, t.maxRSS)
	}
	return m
}

// reviewResult is one pool size's figures.
type reviewResult struct {
	users                int
	bytes                int64 // of the new export's files
	verify, sha          timed
	diff, duck           timed
	diffRSS, verifyRSS   int64
	diffRatio, verifyMBs float64
}

// reviewBench exports a pool and the same pool a day later (2% of users
// added and as many removed, ~3% of memberships and 2 role ARNs changed),
// then times verify and diff against their references, rounds times each,
// in turn.
func reviewBench(ctx context.Context, w io.Writer, bin string, users []int, rounds int) ([]reviewResult, error) {
	duckScript, err := filepath.Abs("internal/duckdb/query.mjs")
	if err != nil {
		return nil, err
	}
	if bin, err = filepath.Abs(bin); err != nil { // the commands run in a temporary directory
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(duckScript), "node_modules")); err != nil {
		return nil, fmt.Errorf("the diff's reference is DuckDB: run scripts/install-test-deps.sh first (%v)", err)
	}
	var out []reviewResult
	for _, n := range users {
		dir, err := os.MkdirTemp("", "cognito-export-review-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
		old, new := filepath.Join(dir, "dt=2026-12-01"), filepath.Join(dir, "dt=2026-12-02")
		for _, e := range []struct {
			dir   string
			share string
		}{{old, "0"}, {new, "0.02"}} {
			if _, err := runTimed(ctx, dir, bin, "demo", "--users", strconv.Itoa(n), "--direct", "--output", e.dir,
				"--changed-share", e.share, "--log-format", "json"); err != nil {
				return nil, err
			}
		}
		r := reviewResult{users: n}
		parts, _ := filepath.Glob(filepath.Join(new, "part-*"))
		for _, p := range parts {
			if st, err := os.Stat(p); err == nil {
				r.bytes += st.Size()
			}
		}
		query := fmt.Sprintf(`COPY (SELECT coalesce(n.username, o.username) AS username, coalesce(n.user_sub, o.user_sub) AS user_sub,
  coalesce(n.group_name, o.group_name) AS group_name,
  CASE WHEN o.username IS NULL THEN 'added' WHEN n.username IS NULL THEN 'removed' ELSE 'changed' END AS change,
  o.user_status AS old_status, n.user_status AS new_status, o.user_enabled AS old_enabled, n.user_enabled AS new_enabled,
  o.email AS old_email, n.email AS new_email, o.group_role_arn AS old_role, n.group_role_arn AS new_role
FROM read_parquet('%s/part-*.parquet') o FULL OUTER JOIN read_parquet('%s/part-*.parquet') n
  ON o.username = n.username AND o.user_sub IS NOT DISTINCT FROM n.user_sub AND o.group_name IS NOT DISTINCT FROM n.group_name
WHERE o.username IS NULL OR n.username IS NULL OR o.user_status <> n.user_status OR o.user_enabled <> n.user_enabled
  OR o.email IS DISTINCT FROM n.email OR o.group_role_arn IS DISTINCT FROM n.group_role_arn
  OR o.group_precedence IS DISTINCT FROM n.group_precedence) TO '%s/duck-changes.parquet'`, old, new, dir)
		var diffs, ducks, verifies, shas []timed
		for i := range rounds {
			d := filepath.Join(dir, fmt.Sprintf("diff-%d", i))
			t, err := runTimed(ctx, dir, bin, "diff", old, new, "--output", d)
			if err != nil {
				return nil, err
			}
			diffs = append(diffs, t)
			os.RemoveAll(d)
			if t, err = runTimed(ctx, dir, "node", duckScript, query); err != nil {
				return nil, err
			}
			ducks = append(ducks, t)
			if n > 1_000_000 {
				continue // the 5M run is for memory; verify scales as 1M shows
			}
			if t, err = runTimed(ctx, dir, bin, "verify", new); err != nil {
				return nil, err
			}
			verifies = append(verifies, t)
			if t, err = runTimed(ctx, dir, "sha256sum", append(parts, filepath.Join(new, "manifest.json"))...); err != nil {
				return nil, err
			}
			shas = append(shas, t)
		}
		r.diff, r.duck, r.diffRSS = median(diffs), median(ducks), maxRSS(diffs)
		r.diffRatio = r.diff.wall.Seconds() / r.duck.wall.Seconds()
		if len(verifies) > 0 {
			r.verify, r.sha, r.verifyRSS = median(verifies), median(shas), maxRSS(verifies)
			r.verifyMBs = float64(r.bytes) / 1e6 / r.verify.wall.Seconds()
		}
		out = append(out, r)
	}
	printReview(w, out, rounds)
	return out, nil
}

func printReview(w io.Writer, rs []reviewResult, rounds int) {
	fmt.Fprintf(w, "Access review (issue 15): a pool exported, then a day later with 2%% of users added and as many removed, ~3%% of memberships and 2 role ARNs changed (`demo --changed-share 0.02`); median of %d runs each, in turn.\n\n", rounds)
	fmt.Fprintln(w, "| users | `diff` wall | DuckDB FULL OUTER JOIN wall | ratio (target ≤ 2) | `diff` peak RSS (target < 300 MB) | `verify` wall | `sha256sum` wall | `verify` MB/s | `verify` peak RSS |")
	fmt.Fprintln(w, "|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, r := range rs {
		v, s, mbs, vr := "–", "–", "–", "–"
		if r.verify.wall > 0 {
			v, s = secs(r.verify.wall), secs(r.sha.wall)
			mbs, vr = fmt.Sprintf("%.0f", r.verifyMBs), mib(r.verifyRSS)
		}
		fmt.Fprintf(w, "| %s | %s | %s | %.2f %s | %s %s | %s | %s | %s | %s |\n", thousands(int64(r.users)), secs(r.diff.wall), secs(r.duck.wall),
			r.diffRatio, verdict(r.diffRatio <= 2), mib(r.diffRSS), verdict(r.diffRSS < 300<<20), v, s, mbs, vr)
	}
	fmt.Fprintln(w)
}

func secs(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }

func mib(b int64) string { return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20)) }
