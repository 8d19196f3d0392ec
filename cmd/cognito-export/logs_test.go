package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cognito-export/cognito-export/batch"
	"github.com/cognito-export/cognito-export/internal/cognitoemu"
)

// Recognisable credentials: neither may appear in any output of the tool.
const (
	testSecret       = "SECRETKEY-must-never-be-logged-7f3a9c"
	testSessionToken = "SESSIONTOKEN-must-never-be-logged-2b8d"
)

func secretCreds() []string {
	return []string{"AWS_ACCESS_KEY_ID=AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY=" + testSecret,
		"AWS_SESSION_TOKEN=" + testSessionToken, "AWS_REGION=us-east-1"}
}

// live is the binary running in the background, its stderr read line by line.
type live struct {
	cmd    *exec.Cmd
	stdout bytes.Buffer
	mu     sync.Mutex
	stderr []string
	lines  chan string // every stderr line, as it comes
	done   chan struct{}
}

func startCLI(t *testing.T, env []string, args ...string) *live {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env, cmd.Dir = env, t.TempDir()
	return startLive(t, cmd)
}

// startLive starts cmd (its Stdout and Stderr unset) with its stderr read
// line by line, so that a test acts on the log line that proves the state
// it tests instead of sleeping and hoping.
func startLive(t *testing.T, cmd *exec.Cmd) *live {
	t.Helper()
	l := &live{cmd: cmd, lines: make(chan string, 10000), done: make(chan struct{})}
	l.cmd.Stdout = &l.stdout
	pipe, err := l.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := l.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(l.done)
		sc := bufio.NewScanner(pipe)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			l.mu.Lock()
			l.stderr = append(l.stderr, sc.Text())
			l.mu.Unlock()
			select {
			case l.lines <- sc.Text():
			default:
			}
		}
	}()
	t.Cleanup(func() { l.cmd.Process.Kill(); <-l.done })
	return l
}

// waitLine returns the first stderr line that contains s.
func (l *live) waitLine(t *testing.T, s string) string {
	t.Helper()
	timeout := time.After(60 * time.Second)
	for {
		select {
		case line := <-l.lines:
			if strings.Contains(line, s) {
				return line
			}
		case <-l.done:
			t.Fatalf("exited before logging %q:\n%s", s, l.allStderr())
		case <-timeout:
			t.Fatalf("no line with %q after 60s", s)
		}
	}
}

// waitRecord returns the first JSON log record whose msg is msg and that
// ok accepts.
func (l *live) waitRecord(t *testing.T, msg string, ok func(rec map[string]any) bool) map[string]any {
	t.Helper()
	for {
		line := l.waitLine(t, `"msg":"`+msg+`"`)
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		if ok(rec) {
			return rec
		}
	}
}

// atLeast accepts a record whose numeric field is at least n.
func atLeast(field string, n float64) func(map[string]any) bool {
	return func(rec map[string]any) bool {
		v, _ := rec[field].(float64)
		return v >= n
	}
}

// wait returns the exit code once stderr is fully read.
func (l *live) wait(t *testing.T) int {
	t.Helper()
	<-l.done
	err := l.cmd.Wait()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return 0
}

func (l *live) allStderr() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.stderr, "\n")
}

// checkLogSchema checks that every line but the final error line is a JSON
// record with the run's id, the pool and a known phase; it returns the
// records.
func checkLogSchema(t *testing.T, stderr, pool string, failed bool) []map[string]any {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	if failed {
		if !strings.HasPrefix(lines[len(lines)-1], "cognito-export: ") {
			t.Fatalf("the last line of a failed run is not the one-line error: %q", lines[len(lines)-1])
		}
		lines = lines[:len(lines)-1]
	}
	var recs []map[string]any
	runID := ""
	for _, line := range lines {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("not a JSON record: %q", line)
		}
		for _, key := range []string{"time", "level", "msg", "run_id", "pool", "phase"} {
			if _, ok := rec[key]; !ok {
				t.Fatalf("record without %s: %s", key, line)
			}
		}
		if rec["pool"] != pool {
			t.Fatalf("pool %v, want %s: %s", rec["pool"], pool, line)
		}
		if !slices.Contains([]string{"plan", "export", "groups", "users", "finish"}, rec["phase"].(string)) {
			t.Fatalf("unknown phase %v: %s", rec["phase"], line)
		}
		if runID == "" {
			runID = rec["run_id"].(string)
		}
		if rec["run_id"] != runID {
			t.Fatalf("run_id changed from %s: %s", runID, line)
		}
		if strings.Contains(strings.ToLower(line), "token\"") {
			t.Fatalf("a record has a token field: %s", line)
		}
		recs = append(recs, rec)
	}
	return recs
}

// assertNoSecrets reads every output and every file under dirs.
func assertNoSecrets(t *testing.T, outputs []string, dirs ...string) {
	t.Helper()
	for _, out := range outputs {
		for _, s := range []string{testSecret, testSessionToken} {
			if strings.Contains(out, s) {
				t.Fatalf("a credential appeared in the output:\n%s", out)
			}
		}
	}
	for _, dir := range dirs {
		filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			data, _ := os.ReadFile(path)
			if bytes.Contains(data, []byte(testSecret)) || bytes.Contains(data, []byte(testSessionToken)) {
				t.Fatalf("a credential appeared in %s", path)
			}
			return nil
		})
	}
}

func readSummary(t *testing.T, path string) batch.RunSummary {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var s batch.RunSummary
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return s
}

// TestLogsAreJSONWithRunPoolPhaseAndNoSecrets runs a complete export (both
// strategies), one that fails and one that is interrupted, with recognisable
// credentials, and reads every line and file they leave.
func TestLogsAreJSONWithRunPoolPhaseAndNoSecrets(t *testing.T) {
	t.Parallel() // waits on paced calls and child processes, not the CPU
	pool := cognitoemu.NewPool(cognitoemu.PoolSpec{Users: 3000, Groups: 12, Seed: 5})
	quota := cognitoemu.NewServer(cognitoemu.Options{DeletedShare: 0.01}, pool)
	url := startServer(t, quota)
	denied := startServer(t, cognitoemu.NewServer(cognitoemu.Options{Deny: map[string]string{"AdminListGroupsForUser": "AccessDeniedException"}}, pool))
	env := cleanEnv(secretCreds()...)
	var outputs []string
	root := t.TempDir()

	for _, strategy := range []string{"per-user", "by-group"} {
		out := filepath.Join(root, strategy)
		l := startCLI(t, env, "export", "--endpoint-url", url, "--user-pool-id", pool.ID(), "--output", out,
			"--strategy", strategy, "--rate", "UserResourceRead=2500", "--rate", "UserList=60", "--progress-interval", "100ms", "--checkpoint-interval", "200ms")
		if code := l.wait(t); code != 0 {
			t.Fatalf("%s: exit %d\n%s", strategy, code, l.allStderr())
		}
		recs := checkLogSchema(t, l.allStderr(), pool.ID(), false)
		progress := 0
		for _, r := range recs {
			if r["msg"] == "progress" {
				progress++
				if _, ok := r["eta"]; !ok {
					t.Fatalf("progress line without eta: %v", r)
				}
			}
		}
		if progress == 0 {
			t.Fatalf("%s: no progress line off a terminal", strategy)
		}
		s := readSummary(t, filepath.Join(out, "summary.json"))
		if s.Status != "complete" || !s.Complete || s.Users+s.Skipped != 3000 || s.RunID != recs[0]["run_id"] || s.Calls["ListUsers"] == 0 {
			t.Fatalf("%s: summary %+v", strategy, s)
		}
		outputs = append(outputs, l.allStderr(), l.stdout.String())
	}

	// A failure a resume can finish: summary.json says so, and no manifest.
	failedOut := filepath.Join(root, "failed")
	r := runCLI(t, env, "export", "--endpoint-url", denied, "--user-pool-id", pool.ID(), "--output", failedOut, "--strategy", "per-user")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1:\n%s", r.code, r.stderr)
	}
	checkLogSchema(t, r.stderr, pool.ID(), true)
	if s := readSummary(t, filepath.Join(failedOut, "summary.json")); s.Status != "failed" || s.Complete || !strings.Contains(s.Note, "NOT complete") || !strings.Contains(s.Error, "access denied") {
		t.Fatalf("summary of a failed run: %+v", s)
	}
	if _, err := os.Stat(filepath.Join(failedOut, "manifest.json")); !os.IsNotExist(err) {
		t.Fatalf("manifest after a failure: %v", err)
	}
	outputs = append(outputs, r.stderr, r.stdout)

	// Interrupted halfway: the summary says interrupted, and the ListUsers
	// token the checkpoint resumes from is in no log line.
	slow := startServer(t, cognitoemu.NewServer(cognitoemu.Options{}, pool))
	stoppedOut := filepath.Join(root, "stopped")
	l := startCLI(t, env, "export", "--endpoint-url", slow, "--user-pool-id", pool.ID(), "--output", stoppedOut,
		"--strategy", "per-user", "--rate", "UserResourceRead=400", "--checkpoint-interval", "100ms", "--progress-interval", "100ms")
	l.waitRecord(t, "checkpoint saved", atLeast("pages", 1)) // the checkpoint has a watermark
	l.cmd.Process.Signal(syscall.SIGTERM)
	if code := l.wait(t); code != 143 {
		t.Fatalf("exit %d, want 143:\n%s", code, l.allStderr())
	}
	checkLogSchema(t, l.allStderr(), pool.ID(), true)
	if s := readSummary(t, filepath.Join(stoppedOut, "summary.json")); s.Status != "interrupted" || s.Complete || s.Users == 0 {
		t.Fatalf("summary of an interrupted run: %+v", s)
	}
	var cp struct{ Watermark string }
	data, err := os.ReadFile(filepath.Join(stoppedOut, "_checkpoint.json"))
	if err != nil || json.Unmarshal(data, &cp) != nil || cp.Watermark == "" {
		t.Fatalf("no checkpoint with a watermark after SIGTERM (%v): %s", err, data)
	}
	if strings.Contains(l.allStderr(), cp.Watermark) || strings.Contains(l.allStderr(), cp.Watermark[:min(24, len(cp.Watermark))]) {
		t.Fatal("the pagination token appeared in the log")
	}
	outputs = append(outputs, l.allStderr(), l.stdout.String())
	assertNoSecrets(t, outputs, root)

	// Resumed to the end: the interrupted run's summary is replaced, never
	// left beside a finished export, and the new one says complete.
	r = runCLI(t, env, "export", "--endpoint-url", url, "--user-pool-id", pool.ID(), "--output", stoppedOut, "--strategy", "per-user", "--rate", "UserResourceRead=0")
	if r.code != 0 {
		t.Fatalf("resume: exit %d\n%s", r.code, r.stderr)
	}
	if s := readSummary(t, filepath.Join(stoppedOut, "summary.json")); s.Status != "complete" || !s.Resumed {
		t.Fatalf("summary after the resume: %+v", s)
	}
}
