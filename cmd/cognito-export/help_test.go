package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cognito-export/cognito-export/internal/cognitoemu"
)

func TestHelpPrintsTheUsageOnce(t *testing.T) {
	for _, cmd := range usageCommands(t) {
		for _, h := range []string{"-h", "--help"} {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), []string{cmd, h}, &stdout, &stderr)
			if code != exitOK {
				t.Errorf("%s %s: exit %d, want 0; stderr %q", cmd, h, code, stderr.String())
			}
			if n := strings.Count(stdout.String(), "usage: cognito-export "+cmd); n != 1 {
				t.Errorf("%s %s: the usage is printed %d times, want once:\n%s", cmd, h, n, stdout.String())
			}
			if stderr.Len() != 0 {
				t.Errorf("%s %s: stderr %q, want nothing", cmd, h, stderr.String())
			}
		}
	}
}

// Every file the job writes for a reader names the binary that wrote it,
// with the line `version` prints first.
func TestEveryFileNamesItsGenerator(t *testing.T) {
	v := runCLI(t, cleanEnv(), "version")
	if v.code != 0 {
		t.Fatalf("version: exit %d: %s", v.code, v.stderr)
	}
	generator, _, _ := strings.Cut(v.stdout, "\n")
	if !strings.HasPrefix(generator, "cognito-export ") || !strings.Contains(generator, "go1.") {
		t.Fatalf("version's first line %q does not name the program and its Go version", generator)
	}
	if r := runCLI(t, cleanEnv(), "--version"); r.code != 0 || r.stdout != v.stdout {
		t.Fatalf("--version: exit %d, %q; want what version prints", r.code, r.stdout)
	}

	pool, url := startEmu(t, 300, cognitoemu.Options{})
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	env := cleanEnv(append(creds(), "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER="+url)...)
	r := runCLI(t, env, "export", "--user-pool-id", pool.ID(), "--output", out, "--index", dir, "--report",
		"--rate", "UserResourceRead=0", "--rate", "UserList=0")
	if r.code != 0 {
		t.Fatalf("export: exit %d: %s", r.code, r.stderr)
	}
	for _, f := range []string{filepath.Join(out, "manifest.json"), filepath.Join(out, "summary.json"),
		filepath.Join(out, "report.json"), filepath.Join(dir, "index.json")} {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Generator string `json:"generator"`
		}
		if err := json.Unmarshal(data, &doc); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if doc.Generator != generator {
			t.Errorf("%s: generator %q, want %q", filepath.Base(f), doc.Generator, generator)
		}
	}
}

// An emulator whose pool cannot be built holds no port: the next start on
// the same address succeeds (runEmulate used to listen first and leak it).
func TestEmulatorThatCannotStartHoldsNoPort(t *testing.T) {
	probe, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := probe.Addr().String()
	probe.Close()
	_, _, err = listenAndServe(context.Background(), addr, func() (http.Handler, error) {
		return nil, errors.New("no pool")
	})
	if err == nil {
		t.Fatal("listenAndServe: no error from a handler that cannot be built")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("the failed start still holds %s: %v", addr, err)
	}
	ln.Close()
}
