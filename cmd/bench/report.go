package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The targets of issue 16: the access review of a 1,000,000-user export,
// compared with the export of the day before, on a 2-core machine.
const (
	targetReportTime = 30 * time.Second
	targetReportRSS  = 300e6
	targetReportHTML = 5e6
)

// The markers of the report scenario's section of BENCHMARKS.md: it is
// written on its own, so that -only-report rewrites it and nothing else.
const (
	reportBegin = "<!-- bench-report:begin (written by `make bench` or `go run ./cmd/bench -only-report`; do not edit) -->"
	reportEnd   = "<!-- bench-report:end -->"
)

// reportRun is issue 16's scenario: two exports of the same pool a day
// apart (the second with --changed-share 0.02) made by the binary's demo,
// then `report NEW --previous OLD` timed as a child process.
type reportRun struct {
	users        int
	elapsed, cpu time.Duration
	maxRSS       int64
	html, json   int64
	command      string
}

// exportDay writes one day's export of the demo pool, as a reviewer's
// exports would be: email, email_verified and name as columns, so that
// every finding is evaluated.
func exportDay(ctx context.Context, bin, out string, users int, changed string) error {
	args := []string{"demo", "--users", strconv.Itoa(users), "--direct", "--output", out, "--report=false",
		"--attributes", "email,email_verified,name", "--changed-share", changed, "--log-format", "json"}
	cmd := exec.CommandContext(ctx, bin, args...)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %v: %w\n%s", bin, args, err, stderr.Bytes())
	}
	return nil
}

func (r *reportRun) exec(ctx context.Context, bin string) error {
	dir, err := os.MkdirTemp("", "cognito-export-bench-report-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	old, cur := filepath.Join(dir, "pool", "dt=1"), filepath.Join(dir, "pool", "dt=2")
	if err := exportDay(ctx, bin, old, r.users, "0"); err != nil {
		return err
	}
	if err := exportDay(ctx, bin, cur, r.users, "0.02"); err != nil {
		return err
	}
	page := filepath.Join(dir, "review", "report.html")
	if err := os.MkdirAll(filepath.Dir(page), 0o755); err != nil {
		return err
	}
	args := []string{"report", cur, "--previous", old, "--output", page}
	r.command = "cognito-export report NEW --previous OLD --output report.html"
	cmd := exec.CommandContext(ctx, bin, args...)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	started := time.Now()
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %v: %w\n%s", bin, args, err, stderr.Bytes())
	}
	r.elapsed = time.Since(started)
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return fmt.Errorf("no rusage for %s", bin)
	}
	r.cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	r.maxRSS = ru.Maxrss << 10 // kilobytes on Linux
	for _, f := range []struct {
		name string
		n    *int64
	}{{"report.html", &r.html}, {"report.json", &r.json}} {
		st, err := os.Stat(filepath.Join(dir, "review", f.name))
		if err != nil {
			return err
		}
		*f.n = st.Size()
	}
	return nil
}

// reportScenario runs and prints the scenario, with its targets.
func reportScenario(ctx context.Context, w io.Writer, bin string, users int) error {
	r := &reportRun{users: users}
	if err := r.exec(ctx, bin); err != nil {
		return err
	}
	fmt.Fprintf(w, "Measured %s on %s; load average after the run %s.\n\n", time.Now().UTC().Format("2006-01-02 15:04 MST"), machine(), loadAverage())
	fmt.Fprintf(w, "Two `demo --users %s --direct --attributes email,email_verified,name` exports of the same pool, the\n", thousands(int64(users)))
	fmt.Fprintln(w, "second `--changed-share 0.02` (a day later), then, timed as a child process with its rusage:")
	fmt.Fprintln(w)
	fmt.Fprintf(w, "    %s\n\n", r.command)
	fmt.Fprintln(w, "| users | time | CPU | peak RSS | report.html | report.json |")
	fmt.Fprintln(w, "|---:|---:|---:|---:|---:|---:|")
	fmt.Fprintf(w, "| %s | %.1f s | %.1f s | %.0f MB | %.2f MB | %.2f MB |\n\n", thousands(int64(users)), r.elapsed.Seconds(), r.cpu.Seconds(),
		float64(r.maxRSS)/1e6, float64(r.html)/1e6, float64(r.json)/1e6)
	if users != 1_000_000 {
		return nil
	}
	fmt.Fprintln(w, "| target | measured | |")
	fmt.Fprintln(w, "|---|---:|---|")
	fmt.Fprintf(w, "| report of 1,000,000 users with a previous export under %s | %.1f s | %s |\n", targetReportTime, r.elapsed.Seconds(), verdict(r.elapsed < targetReportTime))
	fmt.Fprintf(w, "| its peak RSS under %.0f MB | %.0f MB | %s |\n", targetReportRSS/1e6, float64(r.maxRSS)/1e6, verdict(float64(r.maxRSS) < targetReportRSS))
	fmt.Fprintf(w, "| report.html under %.0f MB | %.2f MB | %s |\n\n", targetReportHTML/1e6, float64(r.html)/1e6, verdict(float64(r.html) < targetReportHTML))
	return nil
}

// rewriteBetween replaces what lies between begin and end in path.
func rewriteBetween(path, begin, end, text string) error {
	old, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	s := string(old)
	i, j := strings.Index(s, begin), strings.Index(s, end)
	if i < 0 || j < i {
		return fmt.Errorf("%s has no %q … %q markers to write between", path, begin, end)
	}
	return os.WriteFile(path, []byte(s[:i+len(begin)]+"\n"+text+s[j:]), 0o644)
}
