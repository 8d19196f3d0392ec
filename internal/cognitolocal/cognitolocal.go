// Package cognitolocal starts cognito-local (the npm package, pinned in
// package.json and installed by scripts/install-test-deps.sh) for tests: an
// independent Cognito emulator, written by others, that the exporter must
// work against as it works against ours.
//
// cognito-local returns every item of a list in one page whatever the Limit,
// and by default makes usernames out of e-mail addresses; Start configures
// it to keep plain usernames, as a pool without username attributes does.
package cognitolocal

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/cognito-export/cognito-export/internal/peer"
)

// config keeps plain usernames: cognito-local's default config sets
// UsernameAttributes to ["email"] for every new pool.
const config = `{"UserPoolDefaults": {"UsernameAttributes": []}}`

func dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(file)
}

// entry is the server's start script inside node_modules.
func entry() string {
	return filepath.Join(dir(), "node_modules", "cognito-local", "lib", "bin", "start.js")
}

// Available reports nil when node and the npm package are installed.
func Available() error {
	if _, err := exec.LookPath("node"); err != nil {
		return errors.New("node not found on PATH: install Node.js 18 or later")
	}
	if _, err := os.Stat(entry()); err != nil {
		return fmt.Errorf("cognito-local is not installed in %s: run scripts/install-test-deps.sh", dir())
	}
	return nil
}

// Start runs cognito-local on a free loopback port with an empty database
// and returns its endpoint; it is stopped when t ends.
func Start(t testing.TB) string {
	t.Helper()
	peer.Start(t, "cognito-local")
	if err := Available(); err != nil {
		peer.Missing(t, err)
		return ""
	}
	work := t.TempDir()
	if err := os.MkdirAll(filepath.Join(work, ".cognito"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(work, ".cognito", "config.json"), []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().(*net.TCPAddr)
	ln.Close()
	logPath := filepath.Join(work, "cognito-local.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("node", entry())
	cmd.Dir = work // it keeps .cognito/ (config and database) in its working directory
	cmd.Env = append(os.Environ(), "HOST=127.0.0.1", fmt.Sprintf("PORT=%d", addr.Port))
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatalf("start cognito-local: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
		logFile.Close()
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", addr.String(), time.Second)
		if err == nil {
			conn.Close()
			return "http://" + addr.String()
		}
		select {
		case err := <-exited:
			exited <- err
			log, _ := os.ReadFile(logPath)
			t.Fatalf("cognito-local exited (%v):\n%s", err, log)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(logPath)
			t.Fatalf("cognito-local did not listen on %s within 30s:\n%s", addr, log)
		}
	}
}
