package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cognito-export/cognito-export/export"
	"github.com/cognito-export/cognito-export/internal/cognitoemu"
	"github.com/cognito-export/cognito-export/internal/duckdb"
	"github.com/cognito-export/cognito-export/internal/exportcheck"
	"github.com/cognito-export/cognito-export/internal/faultproxy"
	"github.com/cognito-export/cognito-export/internal/s3server"
	"github.com/cognito-export/cognito-export/lease"
)

// leaseEnv is a small pool behind a quota that makes one export last about
// a second, so that runs started together overlap, and an output to write:
// a directory, or a prefix on versitygw.
type leaseEnv struct {
	pool  *cognitoemu.Pool
	srv   *cognitoemu.Server
	url   string
	env   []string
	s3    *s3server.Server
	truth string
}

func newLeaseEnv(t *testing.T, target string, users int, rps float64) *leaseEnv {
	t.Helper()
	pool := cognitoemu.NewPool(cognitoemu.PoolSpec{Users: users, Groups: 12, Seed: 21})
	var opts cognitoemu.Options
	if rps > 0 {
		opts = cognitoemu.Options{CategoryQuotas: map[string]float64{"UserResourceRead": rps}, QuotaBurst: 5}
	}
	srv := cognitoemu.NewServer(opts, pool)
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	e := &leaseEnv{pool: pool, srv: srv, url: hs.URL, env: cleanEnv(creds()...)}
	switch target {
	case "s3":
		e.s3 = s3server.Start(t)
		e.s3.Bucket(t, "lease")
		e.env = cleanEnv(e.s3.Env()...)
	case "s3-locked":
		e.s3 = s3server.StartVersioned(t)
		e.s3.LockedBucket(t, "lease")
		e.env = cleanEnv(e.s3.Env()...)
	}
	e.truth = exportcheck.WriteTruth(t, pool, srv, true)
	return e
}

// output is where trial name writes, and where DuckDB reads its parts.
func (e *leaseEnv) output(t *testing.T, name string) (out, dir string) {
	if e.s3 == nil {
		dir = filepath.Join(t.TempDir(), name)
		return dir, dir
	}
	return "s3://lease/" + name + "/", filepath.Join(e.s3.Dir, "lease", name)
}

func (e *leaseEnv) command(out, runID string, extra ...string) *exec.Cmd {
	args := append([]string{"export", "--endpoint-url", e.url, "--user-pool-id", e.pool.ID(), "--output", out,
		"--strategy", "per-user", "--run-id", runID, "--log-format", "json", "--checkpoint-interval", "100ms",
		"--rate", "UserResourceRead=0", "--rate", "UserList=0"}, extra...)
	cmd := exec.Command(binary, args...)
	cmd.Env = e.env
	return cmd
}

// table is the DuckDB table expression of the parts in dir.
func table(dir string) string {
	return fmt.Sprintf("read_parquet(%s, hive_partitioning=false)", duckdb.Quote(dir+"/part-*.parquet"))
}

// exact proves the export in dir with DuckDB against the pool, and that it
// is alone there.
func (e *leaseEnv) exact(t *testing.T, out, dir string) {
	t.Helper()
	exportcheck.Compare(t, table(dir), e.truth)
	e.alone(t, out, dir)
}

// alone checks that nothing but the export is left in out: no lease, no
// checkpoint, no temporary file, no unfinished upload.
func (e *leaseEnv) alone(t *testing.T, out, dir string) {
	t.Helper()
	var names []string
	if e.s3 == nil {
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, en := range entries {
			names = append(names, en.Name())
		}
	} else {
		prefix := strings.TrimPrefix(out, "s3://lease/")
		list, err := e.s3.Client().ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String("lease"), Prefix: aws.String(prefix)})
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range list.Contents {
			names = append(names, strings.TrimPrefix(aws.ToString(o.Key), prefix))
		}
		ups, err := e.s3.Client().ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: aws.String("lease"), Prefix: aws.String(prefix)})
		if err != nil {
			t.Fatal(err)
		}
		if len(ups.Uploads) > 0 {
			t.Errorf("%d unfinished uploads left in %s", len(ups.Uploads), out)
		}
	}
	part := regexp.MustCompile(`^part-\d{5}\.parquet$`)
	for _, n := range names {
		if n == lease.Name && e.s3 != nil && e.releasedLease(t, out) {
			continue // a versioned bucket keeps the released lease
		}
		if n != export.ManifestName && n != export.SummaryName && !part.MatchString(n) {
			t.Errorf("stray file %s in %s (all: %v)", n, out, names)
		}
	}
}

// releasedLease is whether the lease in out says it was released.
func (e *leaseEnv) releasedLease(t *testing.T, out string) bool {
	t.Helper()
	key := strings.TrimPrefix(out, "s3://lease/") + lease.Name
	got, err := e.s3.Client().GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String("lease"), Key: aws.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	defer got.Body.Close()
	data, err := io.ReadAll(got.Body)
	if err != nil {
		t.Fatal(err)
	}
	h, err := lease.Parse(data)
	return err == nil && !h.Released.IsZero()
}

var heldLine = regexp.MustCompile(`^cognito-export: (?:diff: )?\S+ is being written by run (\S+) \(host .+, pid \d+\) since \S+; its lease expires at \S+ \(in [^)]+\): try again`)

// TestExportsStartedTogetherOnOneOutputLeaveOneWriter: two to four exports
// of one pool started at once on one output. Exactly one completes; each
// other exits 1 with one line naming the run that holds the output, before
// it writes anything; the export is exact and holds nothing else.
func TestExportsStartedTogetherOnOneOutputLeaveOneWriter(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary dozens of times")
	}
	duckdb.Require(t)
	for _, target := range []struct {
		name   string
		trials int
	}{{"local", 20}, {"s3", 10}} {
		t.Run(target.name, func(t *testing.T) {
			e := newLeaseEnv(t, target.name, 60, 150)
			var tables []string
			for trial := range target.trials {
				out, dir := e.output(t, fmt.Sprintf("trial-%02d", trial))
				runs := 2 + trial%3
				type ended struct {
					code   int
					stderr string
				}
				results := make([]ended, runs)
				var wg sync.WaitGroup
				for i := range runs {
					cmd := e.command(out, fmt.Sprintf("t%02d-r%d", trial, i))
					var stderr bytes.Buffer
					cmd.Stderr = &stderr
					if err := cmd.Start(); err != nil {
						t.Fatal(err)
					}
					wg.Go(func() {
						cmd.Wait()
						results[i] = ended{cmd.ProcessState.ExitCode(), stderr.String()}
					})
				}
				wg.Wait()
				winner := -1
				for i, r := range results {
					if r.code == 0 {
						if winner >= 0 {
							t.Fatalf("trial %d: runs %d and %d both completed", trial, winner, i)
						}
						winner = i
					}
				}
				if winner < 0 {
					t.Fatalf("trial %d: no run completed: %+v", trial, results)
				}
				for i, r := range results {
					if i == winner {
						continue
					}
					last := lastLine(r.stderr)
					m := heldLine.FindStringSubmatch(last)
					if r.code != 1 || m == nil || m[1] != fmt.Sprintf("t%02d-r%d", trial, winner) {
						t.Fatalf("trial %d: run %d ended %d with %q; want 1 and the line naming run %d", trial, i, r.code, last, winner)
					}
					if strings.Contains(r.stderr, `"msg":"checkpoint saved"`) {
						t.Fatalf("trial %d: run %d checkpointed into another run's output", trial, i)
					}
				}
				e.alone(t, out, dir)
				tables = append(tables, table(dir))
			}
			exportcheck.CompareEach(t, tables, e.truth)
		})
	}
}

// TestSIGKILLedHolderIsTakenOverAfterItsTTL: a killed run cannot release
// its lease. The next run finds it live and exits 1; once its TTL has
// passed, a run takes it over and resumes the export exactly.
func TestSIGKILLedHolderIsTakenOverAfterItsTTL(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary")
	}
	duckdb.Require(t)
	for _, target := range []string{"local", "s3"} {
		t.Run(target, func(t *testing.T) {
			e := newLeaseEnv(t, target, 600, 200)
			out, dir := e.output(t, "killed")
			ttl := []string{"--lease-ttl", "3s"}
			l := startLive(t, e.command(out, "killed", ttl...))
			l.waitLine(t, `"msg":"checkpoint saved"`)
			l.cmd.Process.Signal(syscall.SIGKILL)
			killed := time.Now()
			l.wait(t)

			r := runCLI(t, e.env, e.command(out, "early", ttl...).Args[1:]...)
			if m := heldLine.FindStringSubmatch(lastLine(r.stderr)); r.code != 1 || m == nil || m[1] != "killed" {
				t.Fatalf("a run while the killed run's lease lasts: exit %d, %q", r.code, lastLine(r.stderr))
			}
			time.Sleep(time.Until(killed.Add(3 * time.Second)))
			r = runCLI(t, e.env, e.command(out, "successor", ttl...).Args[1:]...)
			if r.code != 0 {
				t.Fatalf("the run after the TTL: exit %d\n%s", r.code, r.stderr)
			}
			if !strings.Contains(r.stderr, `"msg":"taking over an expired lease"`) || !strings.Contains(r.stderr, `"previous_run_id":"killed"`) {
				t.Errorf("the successor does not say whose lease it took over:\n%s", r.stderr)
			}
			if !strings.Contains(r.stderr, `"msg":"resuming from checkpoint"`) {
				t.Errorf("the successor did not resume the killed run's export")
			}
			e.exact(t, out, dir)
		})
	}
}

// TestAHolderThatLosesItsLeaseStopsWriting: another run takes the output
// over while the export runs (here: its lease replaced by hand). At its
// next renewal the export stops, writes nothing more (no manifest, the
// other run's lease left alone) and exits 1 saying so.
func TestAHolderThatLosesItsLeaseStopsWriting(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary")
	}
	e := newLeaseEnv(t, "local", 600, 100)
	out, _ := e.output(t, "taken")
	l := startLive(t, e.command(out, "loser", "--lease-ttl", "3s"))
	l.waitLine(t, `"msg":"checkpoint saved"`)
	intruder, _ := json.Marshal(lease.Holder{RunID: "intruder", Host: "elsewhere", PID: 1, Started: time.Now(), Expires: time.Now().Add(time.Hour)})
	if err := os.WriteFile(filepath.Join(out, lease.Name), intruder, 0o644); err != nil {
		t.Fatal(err)
	}
	if code := l.wait(t); code != 1 {
		t.Fatalf("exit %d, want 1\n%s", code, l.allStderr())
	}
	last := lastLine(l.allStderr())
	if !strings.Contains(last, "lost the lease on "+out) || !strings.Contains(last, "run intruder") {
		t.Errorf("last line %q does not say the lease was lost to whom", last)
	}
	if _, err := os.Stat(filepath.Join(out, export.ManifestName)); err == nil {
		t.Error("the run that lost its lease wrote a manifest")
	}
	if got, _ := os.ReadFile(filepath.Join(out, lease.Name)); !bytes.Equal(got, intruder) {
		t.Errorf("the run that lost its lease touched the new holder's lease: %s", got)
	}
}

// TestAStoreWithoutConditionalWritesIsNamed: S3-compatible stores that
// answer a conditional write NotImplemented, or ignore it, stop the run
// before it writes (exit 2, naming --lease=off); with --lease=off it runs.
func TestAStoreWithoutConditionalWritesIsNamed(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary against versitygw")
	}
	e := newLeaseEnv(t, "s3", 30, 0)
	for _, tc := range []struct {
		mode faultproxy.Conditionals
		want string
	}{
		{faultproxy.ConditionalsNotImplemented, "does not support conditional writes"},
		{faultproxy.ConditionalsIgnored, "does not honour conditional writes"},
	} {
		t.Run(string(tc.mode), func(t *testing.T) {
			proxy := faultproxy.Start(t, e.s3.Endpoint, faultproxy.Config{Conditionals: tc.mode})
			env := cleanEnv(append(e.s3.Env(), "AWS_ENDPOINT_URL_S3="+proxy.URL)...)
			out := "s3://lease/" + string(tc.mode) + "/"
			r := runCLI(t, env, e.command(out, "r1").Args[1:]...)
			last := lastLine(r.stderr)
			if r.code != 2 || !strings.Contains(last, tc.want) || !strings.Contains(last, "--lease=off") {
				t.Fatalf("exit %d, %q: want 2 and a line naming --lease=off", r.code, last)
			}
			if strings.Contains(r.stderr, `"msg":"checkpoint saved"`) {
				t.Fatal("the run wrote before it had a lease")
			}
			if r = runCLI(t, env, e.command(out, "r2", "--lease=off").Args[1:]...); r.code != 0 {
				t.Fatalf("--lease=off: exit %d\n%s", r.code, r.stderr)
			}
		})
	}
}

// TestDryRunDiffAndIndexSeeALiveLease: the dry run reports another run's
// live lease; a diff into a leased output and a run whose index is leased
// exit 1 before they write.
func TestDryRunDiffAndIndexSeeALiveLease(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary")
	}
	e := newLeaseEnv(t, "local", 30, 0)
	root := t.TempDir()
	held, _ := json.Marshal(lease.Holder{RunID: "other-run", Host: "elsewhere", PID: 7, Started: time.Now(), Expires: time.Now().Add(time.Hour)})
	leased := func(dir, name string) string {
		os.MkdirAll(dir, 0o755)
		if err := os.WriteFile(filepath.Join(dir, name), held, 0o644); err != nil {
			t.Fatal(err)
		}
		return dir
	}

	out := leased(filepath.Join(root, "busy"), lease.Name)
	r := runCLI(t, e.env, e.command(out, "dry", "--dry-run").Args[1:]...)
	if r.code != 0 || !strings.Contains(r.stdout, `being written by run "other-run" (host "elsewhere", pid 7)`) {
		t.Fatalf("dry run: exit %d, stdout:\n%s", r.code, r.stdout)
	}

	a, b := filepath.Join(root, "a"), filepath.Join(root, "b")
	for _, o := range []string{a, b} {
		if r := runCLI(t, e.env, e.command(o, "x").Args[1:]...); r.code != 0 {
			t.Fatalf("export: %s", r.stderr)
		}
	}
	d := leased(filepath.Join(root, "d"), lease.Name)
	r = runCLI(t, e.env, "diff", a, b, "--output", d)
	if m := heldLine.FindStringSubmatch(lastLine(r.stderr)); r.code != 1 || m == nil || m[1] != "other-run" {
		t.Fatalf("diff into a leased output: exit %d, %q", r.code, lastLine(r.stderr))
	}
	if names, _ := os.ReadDir(d); len(names) != 1 {
		t.Fatalf("the refused diff wrote into %s: %v", d, names)
	}

	idx := leased(filepath.Join(root, "idx"), lease.IndexName("index.json"))
	r = runCLI(t, e.env, e.command(filepath.Join(root, "c", "{pool}"), "ix", "--index", idx).Args[1:]...)
	if m := heldLine.FindStringSubmatch(lastLine(r.stderr)); r.code != 1 || m == nil || m[1] != "other-run" {
		t.Fatalf("a run whose index is leased: exit %d, %q", r.code, lastLine(r.stderr))
	}
	if entries, _ := os.ReadDir(filepath.Join(root, "c")); len(entries) > 0 {
		t.Errorf("a run whose index is leased exported %d pools", len(entries))
	}
}

// TestSIGTERMReleasesTheLease: a stopped run takes its final checkpoint
// under its lease, then gives the lease up: the next run need not wait for
// it to expire, and resumes exactly. In a bucket under Object Lock (where
// a delete leaves a delete marker) twice over: a run stopped, a run
// stopped after resuming, then one that finishes.
func TestSIGTERMReleasesTheLease(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary")
	}
	duckdb.Require(t)
	for _, target := range []string{"local", "s3-locked"} {
		t.Run(target, func(t *testing.T) {
			e := newLeaseEnv(t, target, 600, 200)
			out, dir := e.output(t, "stopped")
			var lock []string
			if target == "s3-locked" {
				lock = []string{"--object-lock-mode", "governance", "--object-lock-retain-days", "1"}
			}
			for i := range 2 {
				run := fmt.Sprintf("stopped-%d", i)
				l := startLive(t, e.command(out, run, lock...))
				l.waitLine(t, `"msg":"checkpoint saved"`)
				l.cmd.Process.Signal(syscall.SIGTERM)
				if code := l.wait(t); code != 143 {
					t.Fatalf("stop %d: exit %d, want 143\n%s", i, code, l.allStderr())
				}
				if i > 0 && !strings.Contains(l.allStderr(), `"msg":"resuming from checkpoint"`) {
					t.Fatalf("stop %d: the run did not resume\n%s", i, l.allStderr())
				}
				if e.s3 == nil {
					if _, err := os.Stat(filepath.Join(out, lease.Name)); err == nil {
						t.Fatalf("stop %d: the stopped run left its lease", i)
					}
				} else if !e.releasedLease(t, out) {
					t.Fatalf("stop %d: the stopped run's lease is not released", i)
				}
			}
			r := runCLI(t, e.env, e.command(out, "next", lock...).Args[1:]...)
			if r.code != 0 || !strings.Contains(r.stderr, `"msg":"resuming from checkpoint"`) {
				t.Fatalf("the next run: exit %d\n%s", r.code, r.stderr)
			}
			e.exact(t, out, dir)
		})
	}
}
