package main

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cognito-export/cognito-export/internal/cognitoemu"
	"github.com/cognito-export/cognito-export/internal/duckdb"
	"github.com/cognito-export/cognito-export/internal/exportcheck"
	"github.com/cognito-export/cognito-export/internal/s3server"
)

// crashEnv is an emulator that enforces a quota, so that a run lasts a few
// seconds and a kill lands in the middle of it.
type crashEnv struct {
	pool     *cognitoemu.Pool
	srv      *cognitoemu.Server
	url      string
	env      []string
	table    string // DuckDB table expression for the export's parts
	out      string
	strategy string
	plan     crashPlan
	lock     []string // the Object Lock flags, if any
}

// crashPlan paces each strategy's busiest quota, in the emulator and the job
// alike, so that a clean run takes about ten seconds and the kills land all
// along it: per-user makes about 10,000 calls; by-group, with pages of 20,
// about 800 for the member lists and 500 for the ListUsers pass.
type crashPlan struct {
	category   string
	rps        float64
	pageSize   int
	killMin    time.Duration // a run is killed after killMin + up to killSpread
	killSpread int
}

var crashPlans = map[string]crashPlan{
	"per-user": {category: "UserResourceRead", rps: 1000, pageSize: 60, killMin: 150 * time.Millisecond, killSpread: 350},
	"by-group": {category: "UserList", rps: 100, pageSize: 20, killMin: 300 * time.Millisecond, killSpread: 500},
}

func newCrashEnv(t *testing.T, target, strategy string) *crashEnv {
	users := 10000
	pool := cognitoemu.NewPool(cognitoemu.PoolSpec{Users: users, Groups: 70, Seed: 21})
	plan := crashPlans[strategy]
	opts := cognitoemu.Options{CategoryQuotas: map[string]float64{plan.category: plan.rps}, QuotaBurst: 50}
	if strategy == "per-user" {
		opts.DeletedShare = 0.01 // deleted between ListUsers and AdminListGroupsForUser
	} else {
		opts.RemovedShare = 0.01 // deleted before the export: short ListUsers pages
	}
	srv := cognitoemu.NewServer(opts, pool)
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	c := &crashEnv{pool: pool, srv: srv, url: hs.URL, env: cleanEnv(creds()...), strategy: strategy, plan: plan}
	switch target {
	case "local":
		c.out = filepath.Join(t.TempDir(), "out")
		c.table = fmt.Sprintf("read_parquet(%s, hive_partitioning=false)", duckdb.Quote(c.out+"/part-*.parquet"))
	case "s3", "s3-locked":
		var s3 *s3server.Server
		if target == "s3" {
			s3 = s3server.Start(t)
			s3.Bucket(t, "crash")
		} else {
			s3 = s3server.StartVersioned(t)
			s3.LockedBucket(t, "crash")
			c.lock = []string{"--object-lock-mode", "governance", "--object-lock-retain-days", "1"}
		}
		c.out = "s3://crash/cognito/"
		c.env = cleanEnv(s3.Env()...)
		// DuckDB reads the parts straight from versitygw's posix backend.
		c.table = fmt.Sprintf("read_parquet(%s, hive_partitioning=false)", duckdb.Quote(filepath.Join(s3.Dir, "crash", "cognito")+"/part-*.parquet"))
	}
	return c
}

func (c *crashEnv) command() *exec.Cmd {
	cmd := exec.Command(binary, "export", "--endpoint-url", c.url, "--user-pool-id", c.pool.ID(), "--strategy", c.strategy,
		"--output", c.out, "--format", "parquet", "--part-rows", "800", "--checkpoint-interval", "150ms", "--stop-timeout", "10s",
		"--rate", "UserList=0", "--rate", "UserResourceRead=0", "--rate", fmt.Sprintf("%s=%g", c.plan.category, c.plan.rps),
		"--page-size", strconv.Itoa(c.plan.pageSize),
		// Twenty kills in a row: each killed run's lease would hold the
		// next off for its TTL. TestSIGKILLedHolderIsTakenOverAfterItsTTL
		// proves a killed holder's successor under the lease.
		"--lease=off")
	cmd.Args = append(cmd.Args, c.lock...)
	cmd.Env = c.env
	return cmd
}

// finish runs the export to completion and checks it with DuckDB.
func (c *crashEnv) finish(t *testing.T) {
	t.Helper()
	var stderr bytes.Buffer
	cmd := c.command()
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("final run: %v\n%s", err, stderr.String())
	}
	truth := exportcheck.WriteTruth(t, c.pool, c.srv, true)
	rows := exportcheck.Compare(t, c.table, truth)
	clean := (c.pool.NumUsers() + c.plan.pageSize - 1) / c.plan.pageSize
	t.Logf("%s: %d rows exact; ListUsers calls %d (a clean run makes %d), AdminListGroupsForUser calls %d for %d users, ListUsersInGroup calls %d",
		c.strategy, rows, c.srv.Calls("ListUsers"), clean, c.srv.Calls("AdminListGroupsForUser"), c.pool.NumUsers(), c.srv.Calls("ListUsersInGroup"))
}

// crashRuns are the (target, strategy) pairs the crash tests cover.
var crashRuns = [][2]string{{"local", "per-user"}, {"s3", "per-user"}, {"local", "by-group"}, {"s3", "by-group"}}

func TestSIGKILLAtRandomMomentsThenResumeIsExact(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test runs the binary dozens of times")
	}
	duckdb.Require(t)
	for _, run := range crashRuns {
		t.Run(run[0]+" "+run[1], func(t *testing.T) {
			c := newCrashEnv(t, run[0], run[1])
			rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
			const kills = 20
			for i := range kills {
				cmd := c.command()
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				time.Sleep(c.plan.killMin + time.Duration(rng.IntN(c.plan.killSpread))*time.Millisecond)
				cmd.Process.Signal(syscall.SIGKILL)
				err := cmd.Wait()
				if err == nil {
					t.Fatalf("kill %d: the run finished before it was killed; make the pool bigger", i)
				}
			}
			c.finish(t)
		})
	}
}

func TestSIGTERMCheckpointsWithinTheBoundAndResumes(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary several times")
	}
	duckdb.Require(t)
	for _, run := range crashRuns {
		t.Run(run[0]+" "+run[1], func(t *testing.T) {
			c := newCrashEnv(t, run[0], run[1])
			for i := range 4 {
				// Stopped once its first checkpoint of this run is saved:
				// every stop then has work under way to checkpoint.
				l := startLive(t, c.command())
				l.waitLine(t, `"msg":"checkpoint saved"`)
				sent := time.Now()
				l.cmd.Process.Signal(syscall.SIGTERM)
				code := l.wait(t)
				took := time.Since(sent)
				if code != 143 {
					t.Fatalf("stop %d: exit %d, want 143\n%s", i, code, l.allStderr())
				}
				// The bound is --stop-timeout (10s); ECS kills at 30s.
				if took > 10*time.Second {
					t.Fatalf("stop %d took %s, more than --stop-timeout", i, took)
				}
				if !strings.Contains(l.allStderr(), "interrupted by terminated") {
					t.Fatalf("stop %d: stderr does not say it was interrupted:\n%s", i, l.allStderr())
				}
			}
			c.finish(t)
		})
	}
}
