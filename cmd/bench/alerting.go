package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

const (
	alertingBegin = "<!-- bench-alerting:begin (written by `make bench` or `go run ./cmd/bench -only-alerting`; do not edit) -->"
	alertingEnd   = "<!-- bench-alerting:end -->"
)

// pushgatewayBin is Debian's prometheus-pushgateway, which
// scripts/install-test-deps.sh installs.
const pushgatewayBin = "/usr/bin/prometheus-pushgateway"

// startPushgateway runs a Pushgateway on a free loopback port until stop.
func startPushgateway(ctx context.Context) (url string, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	dir, err := os.MkdirTemp("", "cognito-export-bench-pushgateway-")
	if err != nil {
		return "", nil, err
	}
	cmd := exec.CommandContext(ctx, pushgatewayBin, "--web.listen-address="+addr, "--persistence.file="+filepath.Join(dir, "data"))
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return "", nil, fmt.Errorf("start %s (scripts/install-test-deps.sh installs it): %w", pushgatewayBin, err)
	}
	stop = func() {
		cmd.Process.Kill()
		cmd.Wait()
		os.RemoveAll(dir)
	}
	url = "http://" + addr
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if resp, err := http.Get(url + "/-/ready"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return url, stop, nil
			}
		}
		if time.Now().After(deadline) {
			stop()
			return "", nil, fmt.Errorf("the Pushgateway on %s did not become ready", addr)
		}
	}
}

// alertingOverhead exports the same pool with and without --push-gateway
// and --metrics-format emf, in turns, rounds times each, and compares the
// medians of the whole process's wall and CPU time (issue 24: within 1%).
// Pushes go every second, thirty times the default --progress-interval's
// pace, so that their cost shows if there is one.
func alertingOverhead(ctx context.Context, w io.Writer, bin, goCmd string, users, rounds int) error {
	url, stop, err := startPushgateway(ctx)
	if err != nil {
		return err
	}
	defer stop()
	on := []string{"--push-gateway", url, "--metrics-format", "emf", "--progress-interval", "1s"}
	fmt.Fprintf(w, "Measured %s on %s; load average at the start %s.\n\n", time.Now().UTC().Format("2006-01-02 15:04 MST"), machine(), loadAverage())
	var off, with []*e2eRun
	for range rounds {
		for _, extra := range [][]string{nil, on} {
			r := &e2eRun{users: users, format: "parquet", extra: extra}
			if err := r.exec(ctx, bin); err != nil {
				return err
			}
			if extra == nil {
				off = append(off, r)
			} else {
				with = append(with, r)
			}
		}
	}
	median := func(runs []*e2eRun, of func(*e2eRun) time.Duration) time.Duration {
		ds := make([]time.Duration, len(runs))
		for i, r := range runs {
			ds[i] = of(r)
		}
		slices.Sort(ds)
		return ds[len(ds)/2]
	}
	wall := func(r *e2eRun) time.Duration { return r.wall }
	cpu := func(r *e2eRun) time.Duration { return r.cpu }
	fmt.Fprintf(w, "`demo --users %s --direct --format parquet`, %d times without and %d times with\n", thousands(int64(users)), rounds, rounds)
	fmt.Fprintf(w, "`%s` (a real Pushgateway on loopback), in turns; medians of the whole process.\n\n",
		strings.Join(append([]string{on[0], "URL"}, on[2:]...), " "))
	fmt.Fprintln(w, "| | wall | CPU |")
	fmt.Fprintln(w, "|---|---:|---:|")
	wOff, wOn, cOff, cOn := median(off, wall), median(with, wall), median(off, cpu), median(with, cpu)
	fmt.Fprintf(w, "| without | %.2f s | %.2f s |\n", wOff.Seconds(), cOff.Seconds())
	fmt.Fprintf(w, "| with pushes and EMF | %.2f s | %.2f s |\n", wOn.Seconds(), cOn.Seconds())
	pct := func(a, b time.Duration) float64 { return (b.Seconds() - a.Seconds()) / a.Seconds() * 100 }
	fmt.Fprintf(w, "| difference | %+.1f%% | %+.1f%% |\n\n", pct(wOff, wOn), pct(cOff, cOn))
	// The same run's CPU moves between turns by its spread (the runs
	// without, slowest less fastest over the median); a difference within
	// it is noise, and the push's own cost below is the bound.
	spread := func(runs []*e2eRun) float64 {
		lo, hi := runs[0].cpu, runs[0].cpu
		for _, r := range runs {
			lo, hi = min(lo, r.cpu), max(hi, r.cpu)
		}
		return (hi - lo).Seconds() / median(runs, cpu).Seconds() * 100
	}
	fmt.Fprintf(w, "The CPU time of the runs without spreads over %.1f%% of their median: a difference within it is the\n", spread(off))
	fmt.Fprintf(w, "machine's noise (load average at the end %s), not the flags'. The push's own cost, measured alone,\n", loadAverage())
	fmt.Fprintln(w, "bounds what they add:")
	fmt.Fprintln(w)
	return pushCost(ctx, w, goCmd)
}

// pushCost measures one push and one EMF line with package metrics'
// benchmarks: their cost per interval bounds the overhead whatever the
// noise of the runs above.
func pushCost(ctx context.Context, w io.Writer, goCmd string) error {
	args := []string{"test", "-run", "^$", "-bench", "^Benchmark(Push|EMFLine)$", "-benchtime", "2000x", "-benchmem", "./metrics"}
	out, err := exec.CommandContext(ctx, goCmd, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %w\n%s", goCmd, strings.Join(args, " "), err, out)
	}
	ns := map[string]float64{}
	fmt.Fprintln(w, "| benchmark (package metrics) | ns/op | allocs/op |")
	fmt.Fprintln(w, "|---|---:|---:|")
	for line := range strings.Lines(string(out)) {
		name, values, ok := parseBenchLine(line)
		if !ok {
			continue
		}
		fmt.Fprintf(w, "| %s | %s | %s |\n", name, values["ns/op"], values["allocs/op"])
		var v float64
		fmt.Sscan(values["ns/op"], &v)
		ns[strings.SplitN(name, "-", 2)[0]] = v
	}
	if ns["Push"] == 0 {
		return fmt.Errorf("no BenchmarkPush result in:\n%s", out)
	}
	share := ns["Push"] / 1e9 * 100 // of one core, at a push a second
	fmt.Fprintf(w, "\nOne push (gather, encode, POST to a gateway on loopback, answer) takes %.2f ms of one core: %.4f%% of\n", ns["Push"]/1e6, ns["Push"]/30e9*100)
	fmt.Fprintf(w, "the default 30 s `--progress-interval`, %.3f%% at the 1 s of the runs above; an EMF line, written once per\n", share)
	fmt.Fprintf(w, "pool, %.0f µs.\n\n", ns["EMFLine"]/1e3)
	verdict := "met"
	if share > 1 {
		verdict = "not met"
	}
	fmt.Fprintln(w, "| target | measured | |")
	fmt.Fprintln(w, "|---|---:|---|")
	fmt.Fprintf(w, "| with --push-gateway and EMF within 1%% of the run without (the pushes' CPU at one a second) | %.3f%% | %s |\n", share, verdict)
	return nil
}
