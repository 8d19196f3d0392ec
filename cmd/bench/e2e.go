package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"time"
)

// e2eRun is one export by the real binary, as a child process.
type e2eRun struct {
	users    int
	format   string
	loopback bool   // over loopback TCP instead of the in-process transport
	strategy string // "" is per-user, the strategy the targets are about
	// attributes is --attributes: "none" (today's columns) for the runs the
	// targets of issue 9 are about, "all" for issue 14's.
	attributes string
	leaseOff   bool     // --lease=off: the export without its output's lease
	extra      []string // more flags of demo

	rows, calls int64
	wall        time.Duration // the whole process, start to exit
	elapsed     time.Duration // the export, as the binary's summary reports it
	cpu         time.Duration // user + system time of the whole process
	maxRSS      int64         // bytes
}

// finished is the binary's "export finished" log line.
type finished struct {
	Msg     string `json:"msg"`
	Users   int64  `json:"users"`
	Rows    int64  `json:"rows"`
	Calls   int64  `json:"calls"`
	Elapsed string `json:"elapsed"`
}

func (r *e2eRun) exec(ctx context.Context, bin string) error {
	dir, err := os.MkdirTemp("", "cognito-export-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	args := []string{"demo", "--users", strconv.Itoa(r.users), "--format", r.format,
		"--output", dir, "--log-format", "json", "--strategy", cmp.Or(r.strategy, "per-user"), "--direct=" + strconv.FormatBool(!r.loopback),
		"--attributes", cmp.Or(r.attributes, "none"), "--report=false", // the export alone: the report has its own run
		"--lease=" + map[bool]string{false: "on", true: "off"}[r.leaseOff]}
	args = append(args, r.extra...)
	cmd := exec.CommandContext(ctx, bin, args...)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	began := time.Now()
	err = cmd.Run()
	r.wall = time.Since(began)
	if err != nil {
		return fmt.Errorf("%s %v: %w\n%s", bin, args, err, stderr.Bytes())
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return fmt.Errorf("no rusage for %s", bin)
	}
	r.cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	r.maxRSS = ru.Maxrss << 10 // kilobytes on Linux
	sc := bufio.NewScanner(&stderr)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var f finished
		if json.Unmarshal(sc.Bytes(), &f) != nil || f.Msg != "export finished" {
			continue
		}
		if r.elapsed, err = time.ParseDuration(f.Elapsed); err != nil {
			return fmt.Errorf("summary of %v: %w", args, err)
		}
		if f.Users != int64(r.users) {
			return fmt.Errorf("%v exported %d users, want %d", args, f.Users, r.users)
		}
		r.rows, r.calls = f.Rows, f.Calls
		return nil
	}
	return fmt.Errorf("%v: no \"export finished\" line in its log", args)
}

func endToEnd(ctx context.Context, w io.Writer, o options) ([]*e2eRun, error) {
	var runs []*e2eRun
	for _, n := range o.users {
		runs = append(runs, &e2eRun{users: n, format: "parquet"}, &e2eRun{users: n, format: "csv"})
	}
	// The same export over loopback TCP shows what the socket costs.
	ref := o.users[len(o.users)/2]
	runs = append(runs, &e2eRun{users: ref, format: "parquet", loopback: true})
	// by-group, for scale: the same rows in a fraction of the calls.
	runs = append(runs, &e2eRun{users: o.users[len(o.users)-1], format: "parquet", strategy: "by-group"})
	// Every attribute of the pool's schema as a column (issue 14), beside
	// the same runs without.
	for _, n := range o.users[1:] {
		runs = append(runs, &e2eRun{users: n, format: "parquet", attributes: "all"})
	}

	fmt.Fprintln(w, "### End to end, unthrottled, per-user strategy (and one by-group run), local disk")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "`cognito-export demo --direct` (the emulator's handler in process, every call through")
	fmt.Fprintln(w, "aws-sdk-go-v2's full middleware stack); pools of about 1.5 memberships per user. CPU and peak RSS")
	fmt.Fprintln(w, "are the whole process's (exporter, emulator and pool generation) from its rusage.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| users | strategy | format | attributes | transport | rows | time | users/s | rows/s | API calls/s | CPU s / 1,000 rows | peak RSS |")
	fmt.Fprintln(w, "|---:|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|")
	for _, r := range runs {
		if err := r.exec(ctx, o.bin); err != nil {
			return nil, err
		}
		secs := r.elapsed.Seconds()
		transport := "in process"
		if r.loopback {
			transport = "loopback TCP"
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %.2f s | %s | %s | %s | %.3f | %.0f MB |\n",
			thousands(int64(r.users)), cmp.Or(r.strategy, "per-user"), r.format, cmp.Or(r.attributes, "none"), transport, thousands(r.rows), secs,
			thousands(int64(float64(r.users)/secs)), thousands(int64(float64(r.rows)/secs)),
			thousands(int64(float64(r.calls)/secs)), r.cpu.Seconds()/float64(r.rows)*1000, float64(r.maxRSS)/1e6)
	}
	fmt.Fprintln(w)
	return runs, nil
}

// thousands formats n with comma separators.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	if n < 0 {
		return "-" + thousands(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
