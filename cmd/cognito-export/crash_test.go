package main

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
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
	pool  *cognitoemu.Pool
	srv   *cognitoemu.Server
	url   string
	env   []string
	table string // DuckDB table expression for the export's parts
	out   string
}

const crashRate = 1000 // AdminListGroupsForUser per second, in the emulator and the job alike

func newCrashEnv(t *testing.T, target string) *crashEnv {
	users := 10000
	pool := cognitoemu.NewPool(cognitoemu.PoolSpec{Users: users, Groups: 70, Seed: 21})
	srv := cognitoemu.NewServer(cognitoemu.Options{
		Quotas: map[string]float64{"AdminListGroupsForUser": crashRate}, QuotaBurst: 50, DeletedShare: 0.01,
	}, pool)
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	c := &crashEnv{pool: pool, srv: srv, url: hs.URL, env: cleanEnv(creds()...)}
	switch target {
	case "local":
		c.out = filepath.Join(t.TempDir(), "out")
		c.table = fmt.Sprintf("read_parquet(%s, hive_partitioning=false)", duckdb.Quote(c.out+"/part-*.parquet"))
	case "s3":
		s3 := s3server.Start(t)
		s3.Bucket(t, "crash")
		c.out = "s3://crash/cognito/"
		c.env = cleanEnv(s3.Env()...)
		// DuckDB reads the parts straight from versitygw's posix backend.
		c.table = fmt.Sprintf("read_parquet(%s, hive_partitioning=false)", duckdb.Quote(filepath.Join(s3.Dir, "crash", "cognito")+"/part-*.parquet"))
	}
	return c
}

func (c *crashEnv) command() *exec.Cmd {
	cmd := exec.Command(binary, "export", "--endpoint-url", c.url, "--user-pool-id", c.pool.ID(),
		"--output", c.out, "--format", "parquet", "--part-rows", "800", "--checkpoint-interval", "150ms",
		"--rate", fmt.Sprintf("UserResourceRead=%d", crashRate), "--rate", "UserList=0", "--stop-timeout", "10s")
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
	clean := int64((c.pool.NumUsers() + 59) / 60)
	t.Logf("%d rows exact; ListUsers calls %d (a clean run makes %d), AdminListGroupsForUser calls %d for %d users",
		rows, c.srv.Calls("ListUsers"), clean, c.srv.Calls("AdminListGroupsForUser"), c.pool.NumUsers())
}

func TestSIGKILLAtRandomMomentsThenResumeIsExact(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test runs the binary dozens of times")
	}
	duckdb.Require(t)
	for _, target := range []string{"local", "s3"} {
		t.Run(target, func(t *testing.T) {
			c := newCrashEnv(t, target)
			rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
			const kills = 20
			for i := range kills {
				cmd := c.command()
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				time.Sleep(time.Duration(150+rng.IntN(350)) * time.Millisecond)
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
	for _, target := range []string{"local", "s3"} {
		t.Run(target, func(t *testing.T) {
			c := newCrashEnv(t, target)
			for i := range 4 {
				cmd := c.command()
				var stderr bytes.Buffer
				cmd.Stderr = &stderr
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				time.Sleep(600 * time.Millisecond)
				sent := time.Now()
				cmd.Process.Signal(syscall.SIGTERM)
				err := cmd.Wait()
				took := time.Since(sent)
				ee, ok := err.(*exec.ExitError)
				if !ok || ee.ExitCode() != 143 {
					t.Fatalf("stop %d: exit %v, want 143\n%s", i, err, stderr.String())
				}
				// The bound is --stop-timeout (10s); ECS kills at 30s.
				if took > 10*time.Second {
					t.Fatalf("stop %d took %s, more than --stop-timeout", i, took)
				}
				if !bytes.Contains(stderr.Bytes(), []byte("interrupted by terminated")) {
					t.Fatalf("stop %d: stderr does not say it was interrupted:\n%s", i, stderr.String())
				}
			}
			c.finish(t)
		})
	}
}
