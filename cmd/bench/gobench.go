package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
)

// goBench is one `go test -bench` invocation whose results become rows.
type goBench struct {
	pkg, pattern, benchtime string
	// metrics are the units shown, in order, with their column titles.
	metrics []string
	env     []string
}

var goBenches = []goBench{
	{pkg: "./sink", pattern: "Encoder", benchtime: "300000x", metrics: []string{"ns/row", "allocs/row", "bytes/row"}},
	// What --signing-key adds to an export: once, at its end.
	{pkg: "./sink", pattern: "Manifest", benchtime: "300x", metrics: []string{"ns/op", "allocs/op", "B/op"}},
	// With the collector settings the binary uses (package memlimit).
	{pkg: "./export", pattern: "ClientCall", benchtime: "3s", metrics: []string{"ns/op", "cpu-ns/op", "allocs/op"},
		env: []string{"GOGC=400", "GOMEMLIMIT=819MiB"}},
}

func goBenchmarks(ctx context.Context, w io.Writer, goCmd string) error {
	fmt.Fprintln(w, "### Go micro-benchmarks")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Encoders: rows of 14 columns into an in-memory writer, per row (bytes/row is the encoded size).")
	fmt.Fprintln(w, "ClientCall: one AdminListGroupsForUser through aws-sdk-go-v2, the exporter's middleware and the")
	fmt.Fprintln(w, "emulator's handler in process, from every core at once (ns/op is wall time per call, cpu-ns/op the")
	fmt.Fprintln(w, "process's CPU time per call), at the binary's GOGC=400 and a 1 GiB container's limit (819 MiB): the floor of the per-user")
	fmt.Fprintln(w, "strategy, which makes one such call per user.")
	fmt.Fprintln(w, "Manifest: the manifest of a 1,000-part export encoded and written, unsigned and signed")
	fmt.Fprintln(w, "(--signing-key: SHA-512 of its bytes and one ed25519 signature), once per export.")
	fmt.Fprintln(w)
	for _, b := range goBenches {
		args := []string{"test", "-run", "^$", "-bench", b.pattern, "-benchtime", b.benchtime, "-benchmem", b.pkg}
		cmd := exec.CommandContext(ctx, goCmd, args...)
		cmd.Env = append(os.Environ(), b.env...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("%s %s: %w\n%s", goCmd, strings.Join(args, " "), err, out)
		}
		fmt.Fprintf(w, "| benchmark | %s |\n|---|%s\n", strings.Join(b.metrics, " | "), strings.Repeat("---:|", len(b.metrics)))
		sc := bufio.NewScanner(bytes.NewReader(out))
		for sc.Scan() {
			name, values, ok := parseBenchLine(sc.Text())
			if !ok {
				continue
			}
			fmt.Fprintf(w, "| %s |", name)
			for _, m := range b.metrics {
				fmt.Fprintf(w, " %s |", values[m])
			}
			fmt.Fprintln(w)
		}
		fmt.Fprintln(w)
	}
	return nil
}

// parseBenchLine reads "BenchmarkX-2  N  v1 unit1  v2 unit2 ...".
func parseBenchLine(line string) (name string, values map[string]string, ok bool) {
	f := strings.Fields(line)
	if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
		return "", nil, false
	}
	if _, err := strconv.Atoi(f[1]); err != nil {
		return "", nil, false
	}
	values = map[string]string{}
	for i := 2; i+1 < len(f); i += 2 {
		values[f[i+1]] = f[i]
	}
	return strings.TrimPrefix(f[0], "Benchmark"), values, true
}
