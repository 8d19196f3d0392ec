package main

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/cognito-export/cognito-export/internal/cognitoemu"
)

// TestProgressBarOnATerminal runs an export with stderr on a pseudo-terminal,
// as a person at a shell would see it: a bar that moves, counts and an ETA
// from EstimatedNumberOfUsers.
func TestProgressBarOnATerminal(t *testing.T) {
	t.Parallel() // waits on paced calls and child processes, not the CPU
	pool := cognitoemu.NewPool(cognitoemu.PoolSpec{Users: 4000, Groups: 30, Seed: 8})
	url := startServer(t, cognitoemu.NewServer(cognitoemu.Options{}, pool))
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Fatalf("open a pseudo-terminal: %v", err)
	}
	defer ptmx.Close()
	pty.Setsize(ptmx, &pty.Winsize{Rows: 40, Cols: 200})
	// auto picks by-group here (about 200 calls at 100/s against 4,000 at
	// 1,500/s), whose bar counts memberships, then users.
	for _, strategy := range []string{"per-user", "auto"} {
		cmd := exec.Command(binary, "export", "--endpoint-url", url, "--user-pool-id", pool.ID(), "--output", t.TempDir(),
			"--strategy", strategy, "--rate", "UserResourceRead=1500", "--rate", "UserList=100")
		cmd.Env = cleanEnv(creds()...)
		var stdout bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, tty
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		var screen bytes.Buffer
		read := make(chan error, 1)
		go func() {
			buf := make([]byte, 4096)
			for {
				n, err := ptmx.Read(buf)
				screen.Write(buf[:n])
				if err != nil || strings.Contains(screen.String(), "export finished") {
					read <- err
					return
				}
			}
		}()
		if err := cmd.Wait(); err != nil {
			t.Fatalf("%s: %v\n%s", strategy, err, screen.String())
		}
		select {
		case err := <-read:
			if err != nil && !errors.Is(err, io.EOF) {
				t.Fatal(err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: the terminal never showed the end of the run:\n%s", strategy, screen.String())
		}
		out := screen.String()
		// Each redraw starts with a carriage return.
		barRE := regexp.MustCompile(`(groups: memberships|users: users) (\d+) of ~(\d+) \| users \d+ \| rows \d+ \| \d+ calls/s \| throttles \d+ \| ETA (\d[0-9hms.]*)\s+(\d+)% \[[=>.]+\]`)
		var bars [][]string
		for _, frame := range strings.Split(out, "\r") {
			if m := barRE.FindStringSubmatch(frame); m != nil {
				bars = append(bars, m)
			}
		}
		if len(bars) == 0 {
			t.Fatalf("%s: no progress bar with an ETA on the terminal:\n%q", strategy, out)
		}
		moved := false
		for _, b := range bars {
			done, _ := strconv.Atoi(b[2])
			total, _ := strconv.Atoi(b[3])
			// per-user lists users; auto's by-group counts memberships in
			// its group phase, then the users its ListUsers pass lists.
			if strategy == "per-user" && b[1] != "users: users" || b[1] == "users: users" && total != 4000 || total <= 0 {
				t.Fatalf("%s: the bar counts %s of ~%d", strategy, b[1], total)
			}
			if done > 0 && done < total {
				moved = true
			}
		}
		if !moved {
			t.Fatalf("%s: the bar never showed a run in progress: %v", strategy, bars)
		}
		if !strings.Contains(out, "level=INFO") || strings.Contains(out, `"level"`) {
			t.Fatalf("%s: logs on a terminal should be text:\n%s", strategy, out)
		}
		if !strings.Contains(stdout.String(), "exported 4000 users") {
			t.Fatalf("%s: stdout %q", strategy, stdout.String())
		}
	}
	tty.Close()
}

// TestMetricsServedDuringTheRun scrapes --metrics-addr while an export runs.
func TestMetricsServedDuringTheRun(t *testing.T) {
	pool := cognitoemu.NewPool(cognitoemu.PoolSpec{Users: 20000, Groups: 30, Seed: 9})
	url := startServer(t, cognitoemu.NewServer(cognitoemu.Options{}, pool))
	l := startCLI(t, cleanEnv(creds()...), "export", "--endpoint-url", url, "--user-pool-id", pool.ID(), "--output", t.TempDir(),
		"--strategy", "per-user", "--rate", "UserResourceRead=800", "--metrics-addr", "127.0.0.1:0")
	line := l.waitLine(t, "serving metrics")
	addr := regexp.MustCompile(`"metrics_addr":"([^"]+)"`).FindStringSubmatch(line)
	if addr == nil {
		t.Fatalf("no metrics_addr in %s", line)
	}
	want := map[string]*regexp.Regexp{
		"users":     regexp.MustCompile(`cognito_export_users_total\{account="",pool="` + pool.ID() + `",region="us-east-1"\} ([1-9]\d*)`),
		"rows":      regexp.MustCompile(`cognito_export_rows_total\{account="",pool="` + pool.ID() + `",region="us-east-1"\} [1-9]`),
		"calls":     regexp.MustCompile(`cognito_export_calls_total\{account="",category="UserResourceRead",operation="AdminListGroupsForUser",pool="` + pool.ID() + `",region="us-east-1"\} [1-9]`),
		"throttles": regexp.MustCompile(`cognito_export_throttles_total\{account="",category="UserResourceRead",operation="AdminListGroupsForUser",pool="` + pool.ID() + `",region="us-east-1"\} 0`),
		"estimate":  regexp.MustCompile(`cognito_export_estimated_users\{account="",pool="` + pool.ID() + `",region="us-east-1"\} 20000`),
		"running":   regexp.MustCompile(`cognito_export_pool_state\{account="",pool="` + pool.ID() + `",region="us-east-1",state="running"\} 1`),
		"rate":      regexp.MustCompile(`cognito_export_rate_limit\{account="",category="UserResourceRead",region="[a-z0-9-]*"\} 800`),
	}
	var body string
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + addr[1] + "/metrics")
		if err != nil {
			t.Fatalf("scrape: %v", err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		body = string(b)
		missing := ""
		for name, re := range want {
			if !re.MatchString(body) {
				missing = name
			}
		}
		if missing == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("metric %s not served during the run:\n%s", missing, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	users, _ := strconv.Atoi(want["users"].FindStringSubmatch(body)[1])
	if users >= 20000 {
		t.Fatalf("scraped after the end (%d users): the test proves nothing about a running job", users)
	}
	l.cmd.Process.Signal(syscall.SIGTERM)
	if code := l.wait(t); code != 143 {
		t.Fatalf("exit %d after SIGTERM, want 143", code)
	}
}
