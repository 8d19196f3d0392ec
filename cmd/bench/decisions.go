package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cognito-export/cognito-export/decisions"
	"github.com/cognito-export/cognito-export/reader"
	"github.com/cognito-export/cognito-export/rowscan"
	"github.com/cognito-export/cognito-export/sink/s3dest"
)

// The target of issue 23: checking the previous review's decisions,
// 100,000 of them, adds under 2 s and 50 MB to the report of a
// 1,000,000-user export.
const (
	targetDecisionsTime = 2 * time.Second
	targetDecisionsRSS  = 50e6
)

const (
	decisionsBegin = "<!-- bench-decisions:begin (written by `make bench` or `go run ./cmd/bench -only-decisions`; do not edit) -->"
	decisionsEnd   = "<!-- bench-decisions:end -->"
)

// writeDecisions writes a decisions file of n memberships of the export
// at old, spread evenly over it, as a reviewer of that export would: one
// in ten revoked, the rest kept. It returns how many it wrote.
func writeDecisions(ctx context.Context, old, file string, n int) (int, error) {
	src, err := reader.Open(ctx, old, s3dest.Options{})
	if err != nil {
		return 0, err
	}
	m, err := reader.ReadManifest(ctx, src)
	if err != nil {
		return 0, err
	}
	// Two passes: the memberships are counted first, so that the n
	// chosen are spread over all of them.
	var total, seen int64
	var ds []decisions.Decision
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	cols := []string{"user_pool_id", "username", "user_sub", "group_name"}
	for pass := range 2 {
		err = rowscan.Scan(ctx, src, m, cols, rowscan.Options{}, func(v []rowscan.Value) error {
			if v[3].S == "" {
				return nil
			}
			if pass == 0 {
				total++
				return nil
			}
			if seen++; seen%max(1, total/int64(n)) != 0 || len(ds) == n {
				return nil
			}
			d := decisions.Decision{PoolID: strings.Clone(v[0].S), Username: strings.Clone(v[1].S), Sub: strings.Clone(v[2].S),
				Group: strings.Clone(v[3].S), Verdict: decisions.Keep, Reviewer: "bench reviewer", DecidedAt: at, ManifestSHA256: m.SHA256}
			if len(ds)%10 == 0 {
				d.Verdict, d.Comment = decisions.Revoke, "left the team"
			}
			ds = append(ds, d)
			return nil
		})
		if err != nil {
			return 0, fmt.Errorf("read %s: %w", old, err)
		}
	}
	f, err := os.Create(file)
	if err != nil {
		return 0, err
	}
	if err := decisions.Write(f, ds); err != nil {
		f.Close()
		return 0, err
	}
	return len(ds), f.Close()
}

// decisionsScenario times `report NEW --previous OLD` without and with
// --decisions, in turns, rounds times each, and prints what the decisions
// add: the difference of the medians of wall time and of peak RSS.
func decisionsScenario(ctx context.Context, w io.Writer, bin string, users, rows, rounds int) (err error) {
	if bin, err = filepath.Abs(bin); err != nil { // the reports run in a temporary directory
		return err
	}
	dir, err := os.MkdirTemp("", "cognito-export-bench-decisions-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	old, cur := filepath.Join(dir, "pool", "dt=1"), filepath.Join(dir, "pool", "dt=2")
	if err := exportDay(ctx, bin, old, users, "0"); err != nil {
		return err
	}
	if err := exportDay(ctx, bin, cur, users, "0.02"); err != nil {
		return err
	}
	file := filepath.Join(dir, "decisions.csv")
	n, err := writeDecisions(ctx, old, file, rows)
	if err != nil {
		return err
	}
	loadBefore := loadAverage()
	base := []string{"report", cur, "--previous", old, "--output", filepath.Join(dir, "review", "report.html")}
	var without, with []timed
	for i := range 2 * rounds {
		// Without, with; with, without; …: neither always runs first,
		// after the other has warmed the page cache.
		withFirst := i/2%2 == 1
		args, into := base, &without
		if (i%2 == 0) == withFirst {
			args, into = append(slices.Clone(base), "--decisions", file), &with
		}
		t, err := runTimed(ctx, dir, bin, args...)
		if err != nil {
			return err
		}
		*into = append(*into, t)
	}
	a, b := median(without), median(with)
	addedTime, addedCPU, addedRSS := b.wall-a.wall, medianCPU(with)-medianCPU(without), maxRSS(with)-maxRSS(without)
	fmt.Fprintf(w, "Measured %s on %s; load average before the reports %s, after them %s.\n\n", time.Now().UTC().Format("2006-01-02 15:04 MST"),
		machine(), loadBefore, loadAverage())
	fmt.Fprintf(w, "The report scenario's two exports (%s users), a decisions file of %s memberships of the first\n", thousands(int64(users)), thousands(int64(n)))
	fmt.Fprintln(w, "(one in ten revoked), then, in turns, each timed as a child process with its rusage:")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "    cognito-export report NEW --previous OLD --output report.html")
	fmt.Fprintln(w, "    cognito-export report NEW --previous OLD --output report.html --decisions decisions.csv")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| report | runs | median time | times | median CPU | peak RSS (highest) |")
	fmt.Fprintln(w, "|---|---:|---:|---|---:|---:|")
	for _, r := range []struct {
		name string
		ts   []timed
	}{{"without --decisions", without}, {"with --decisions", with}} {
		fmt.Fprintf(w, "| %s | %d | %s | %s | %s | %.0f MB |\n", r.name, len(r.ts), secs(median(r.ts).wall), walls(r.ts), secs(medianCPU(r.ts)), float64(maxRSS(r.ts))/1e6)
	}
	fmt.Fprintln(w)
	// On a shared machine the wall time of one run varies by more than
	// the target; the CPU the decisions add varies far less, and bounds
	// the wall time they add when the machine is idle.
	fmt.Fprintln(w, "| target | measured | |")
	fmt.Fprintln(w, "|---|---:|---|")
	wallVerdict := verdict(addedTime < targetDecisionsTime)
	if busy(loadBefore) || busy(loadAverage()) {
		wallVerdict = "not judged: more runnable processes than cores"
	}
	fmt.Fprintf(w, "| %s decisions add under %s to the report of %s users: wall time, median with minus without | %s | %s |\n", thousands(int64(n)),
		targetDecisionsTime, thousands(int64(users)), secs(addedTime), wallVerdict)
	fmt.Fprintf(w, "| and CPU time (user + system), median with minus without | %s | %s |\n", secs(addedCPU), verdict(addedCPU < targetDecisionsTime))
	fmt.Fprintf(w, "| and under %.0f MB of peak RSS, highest with minus highest without | %.0f MB | %s |\n\n", targetDecisionsRSS/1e6,
		float64(addedRSS)/1e6, verdict(float64(addedRSS) < targetDecisionsRSS))
	return nil
}

// walls are the runs' wall times, in the order they ran.
func walls(ts []timed) string {
	var s []string
	for _, t := range ts {
		s = append(s, fmt.Sprintf("%.2f", t.wall.Seconds()))
	}
	return strings.Join(s, ", ") + " s"
}

func medianCPU(ts []timed) time.Duration {
	cpu := make([]time.Duration, len(ts))
	for i, t := range ts {
		cpu[i] = t.cpu
	}
	slices.Sort(cpu)
	return cpu[len(cpu)/2]
}

// busy says whether a load average line's last minute had more runnable
// processes than the machine has cores: wall times are then the other
// processes' as much as ours.
func busy(load string) bool {
	f := strings.Fields(load)
	if len(f) == 0 {
		return true
	}
	l, err := strconv.ParseFloat(f[0], 64)
	return err != nil || l > float64(runtime.NumCPU())
}
