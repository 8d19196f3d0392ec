// Command bench measures cognito-export and prints the table of BENCHMARKS.md:
// end-to-end exports of emulated pools by the real binary (a child process,
// whose rusage gives CPU time and peak RSS), the share of Cognito's quotas
// the job achieves, and the encoders' and SDK call's Go micro-benchmarks;
// then the access review of a million-user export (-only-report runs only
// that). `make bench` runs it and rewrites the table between the markers
// of BENCHMARKS.md, and the report's figures between their own markers;
// everything outside the markers is written by hand.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"time"
)

const (
	beginMarker = "<!-- bench:begin (written by `make bench`; do not edit) -->"
	endMarker   = "<!-- bench:end -->"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

type options struct {
	bin, write, goCmd string
	users             []int
	quotaScale        float64
	skipE2E, skipGo   bool
	skipQuota         bool
	skipOrg           bool
	orgScale          float64
	skipReview        bool
	onlyReview        bool
	reviewUsers       []int
	reviewRounds      int
	skipReport        bool
	onlyReport        bool
	reportUsers       int
	skipDecisions     bool
	onlyDecisions     bool
	decisionsRows     int
	decisionsRounds   int
	skipAlerting      bool
	onlyAlerting      bool
	alertingUsers     int
	alertingRounds    int
	skipLease         bool
	onlyLease         bool
	leaseUsers        int
	leaseRounds       int
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	var o options
	fs.StringVar(&o.bin, "bin", "bin/cognito-export", "the cognito-export binary to measure")
	fs.StringVar(&o.write, "write", "", "rewrite the table between the markers of this file (BENCHMARKS.md)")
	fs.StringVar(&o.goCmd, "go", "go", "go command for the micro-benchmarks")
	users := fs.String("users", "10000,100000,1000000", "pool sizes of the end-to-end runs")
	fs.Float64Var(&o.quotaScale, "quota-scale", 10, "multiple of Cognito's default quotas the emulator enforces")
	fs.BoolVar(&o.skipE2E, "skip-e2e", false, "skip the end-to-end runs")
	fs.BoolVar(&o.skipQuota, "skip-quota", false, "skip the quota runs")
	fs.BoolVar(&o.skipGo, "skip-go", false, "skip the Go micro-benchmarks")
	fs.BoolVar(&o.skipOrg, "skip-org", false, "skip the organisation run (three accounts x two regions, each at its own quota)")
	fs.Float64Var(&o.orgScale, "org-scale", 4, "multiple of Cognito's default quotas each (account, region) of the organisation run enforces")
	fs.BoolVar(&o.skipReview, "skip-review", false, "skip the access review runs (verify beside sha256sum, diff beside DuckDB)")
	fs.BoolVar(&o.onlyReview, "only-review", false, "run only the access review runs (issue 15), and rewrite only their section of -write")
	reviewUsers := fs.String("review-users", "1000000,5000000", "pool sizes of the access review runs")
	fs.IntVar(&o.reviewRounds, "review-rounds", 5, "runs of each access review command, in turn")
	fs.BoolVar(&o.skipReport, "skip-report", false, "skip the report run (issue 16)")
	fs.BoolVar(&o.onlyReport, "only-report", false, "run only the report run (issue 16), and rewrite only its section of -write")
	fs.IntVar(&o.reportUsers, "report-users", 1_000_000, "users of the report run's exports")
	fs.BoolVar(&o.skipDecisions, "skip-decisions", false, "skip the decisions run (issue 23)")
	fs.BoolVar(&o.onlyDecisions, "only-decisions", false, "run only the decisions run (issue 23: the report of -report-users users with and without --decisions), and rewrite only its section of -write")
	fs.IntVar(&o.decisionsRows, "decisions-rows", 100_000, "decisions in the decisions run's file")
	fs.IntVar(&o.decisionsRounds, "decisions-rounds", 7, "reports of the decisions run with and without --decisions, in turns")
	fs.BoolVar(&o.skipAlerting, "skip-alerting", false, "skip the alerting run (issue 24)")
	fs.BoolVar(&o.onlyAlerting, "only-alerting", false, "run only the alerting run (issue 24: --push-gateway and EMF against none), and rewrite only its section of -write")
	fs.IntVar(&o.alertingUsers, "alerting-users", 100_000, "users of the alerting run's exports")
	fs.IntVar(&o.alertingRounds, "alerting-rounds", 7, "exports of the alerting run with and without, in turns")
	fs.BoolVar(&o.skipLease, "skip-lease", false, "skip the lease and signature run (issue 21)")
	fs.BoolVar(&o.onlyLease, "only-lease", false, "run only the lease and signature run (issue 21), and rewrite only its section of -write")
	fs.IntVar(&o.leaseUsers, "lease-users", 1_000_000, "users of the lease and signature run's exports")
	fs.IntVar(&o.leaseRounds, "lease-rounds", 5, "exports of the lease and signature run with and without, in turns")
	if err := fs.Parse(args); err != nil {
		return err
	}
	for _, s := range strings.Split(*reviewUsers, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n <= 0 {
			return fmt.Errorf("-review-users %q: want positive integers separated by commas", *reviewUsers)
		}
		o.reviewUsers = append(o.reviewUsers, n)
	}
	if o.onlyReport {
		return onlyReport(ctx, stdout, o)
	}
	if o.onlyAlerting {
		return onlyAlerting(ctx, stdout, o)
	}
	if o.onlyDecisions {
		return onlyDecisions(ctx, stdout, o)
	}
	if o.onlyLease {
		return onlyLease(ctx, stdout, o)
	}
	if o.onlyReview {
		return onlyReview(ctx, stdout, o)
	}
	for _, s := range strings.Split(*users, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n <= 0 {
			return fmt.Errorf("-users %q: want positive integers separated by commas", *users)
		}
		o.users = append(o.users, n)
	}

	var report bytes.Buffer
	w := io.MultiWriter(stdout, &report)
	started := time.Now().UTC()
	fmt.Fprintf(w, "Measured %s on %s; load average at the start %s.\n\n", started.Format("2006-01-02 15:04 MST"), machine(), loadAverage())
	var t targets
	var err error
	if !o.skipE2E {
		if t.runs, err = endToEnd(ctx, w, o); err != nil {
			return err
		}
	}
	if !o.skipQuota {
		if t.quota, err = quotaEfficiency(ctx, w, o.quotaScale); err != nil {
			return err
		}
	}
	if !o.skipOrg {
		if t.org, err = orgQuota(ctx, w, o.bin, o.orgScale); err != nil {
			return fmt.Errorf("organisation run: %w", err)
		}
	}
	t.print(w)
	if !o.skipGo {
		if err := goBenchmarks(ctx, w, o.goCmd); err != nil {
			return err
		}
	}
	fmt.Fprintf(w, "Load average at the end %s; `make bench` took %s.\n", loadAverage(), time.Since(started).Round(time.Second))
	if o.write != "" {
		if err := rewrite(o.write, report.String()); err != nil {
			return err
		}
	}
	if !o.skipReview {
		if err := onlyReview(ctx, stdout, o); err != nil {
			return err
		}
	}
	if !o.skipReport {
		if err := onlyReport(ctx, stdout, o); err != nil {
			return err
		}
	}
	if !o.skipDecisions {
		if err := onlyDecisions(ctx, stdout, o); err != nil {
			return err
		}
	}
	if !o.skipAlerting {
		if err := onlyAlerting(ctx, stdout, o); err != nil {
			return err
		}
	}
	if o.skipLease {
		return nil
	}
	return onlyLease(ctx, stdout, o)
}

// onlyDecisions runs the decisions scenario and writes its own section.
func onlyDecisions(ctx context.Context, stdout io.Writer, o options) error {
	var section bytes.Buffer
	if err := decisionsScenario(ctx, io.MultiWriter(stdout, &section), o.bin, o.reportUsers, o.decisionsRows, o.decisionsRounds); err != nil {
		return fmt.Errorf("decisions run: %w", err)
	}
	if o.write == "" {
		return nil
	}
	return rewriteBetween(o.write, decisionsBegin, decisionsEnd, section.String())
}

// onlyAlerting runs the alerting scenario and writes its own section.
func onlyAlerting(ctx context.Context, stdout io.Writer, o options) error {
	var section bytes.Buffer
	if err := alertingOverhead(ctx, io.MultiWriter(stdout, &section), o.bin, o.goCmd, o.alertingUsers, o.alertingRounds); err != nil {
		return fmt.Errorf("alerting run: %w", err)
	}
	if o.write == "" {
		return nil
	}
	return rewriteBetween(o.write, alertingBegin, alertingEnd, section.String())
}

// onlyReview runs the access review scenario (verify, diff) and writes its
// own section.
func onlyReview(ctx context.Context, stdout io.Writer, o options) error {
	var section bytes.Buffer
	w := io.MultiWriter(stdout, &section)
	fmt.Fprintf(w, "Measured %s on %s; load average at the start %s.\n\n", time.Now().UTC().Format("2006-01-02 15:04 MST"), machine(), loadAverage())
	if _, err := reviewBench(ctx, w, o.bin, o.reviewUsers, o.reviewRounds); err != nil {
		return fmt.Errorf("access review runs: %w", err)
	}
	if o.write == "" {
		return nil
	}
	return rewriteBetween(o.write, reviewBegin, reviewEnd, section.String())
}

// onlyReport runs the report scenario and writes its own section.
func onlyReport(ctx context.Context, stdout io.Writer, o options) error {
	var section bytes.Buffer
	if err := reportScenario(ctx, io.MultiWriter(stdout, &section), o.bin, o.reportUsers); err != nil {
		return fmt.Errorf("report run: %w", err)
	}
	if o.write == "" {
		return nil
	}
	return rewriteBetween(o.write, reportBegin, reportEnd, section.String())
}

// rewrite replaces what lies between the markers of path with table.
func rewrite(path, table string) error {
	return rewriteBetween(path, beginMarker, endMarker, table)
}

// machine names the CPU, the cores and the Go version.
func machine() string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	mem := ""
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		if f := strings.Fields(string(b)); len(f) > 1 && f[0] == "MemTotal:" {
			if kb, err := strconv.Atoi(f[1]); err == nil {
				mem = fmt.Sprintf(", %.0f GiB RAM", float64(kb)/(1<<20))
			}
		}
	}
	return fmt.Sprintf("%s, %d cores%s, %s %s/%s", model, runtime.NumCPU(), mem, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
