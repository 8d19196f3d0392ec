package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cognito-export/cognito-export/internal/cognitoemu"
)

var binary string

// TestMain builds the real binary once; the tests run it as a user would.
// A fuzzing worker, or a run of no tests (make fuzz: -run '^$'), runs no
// test that needs it, and is not kept waiting for a build.
func TestMain(m *testing.M) {
	flag.Parse()
	if f := flag.Lookup("test.fuzzworker"); f != nil && f.Value.String() == "true" || flag.Lookup("test.run").Value.String() == "^$" {
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "cognito-export-bin")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "cognito-export")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		panic("build: " + err.Error())
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type result struct {
	code           int
	stdout, stderr string
}

// cleanEnv has no AWS settings but those a test passes, so that the
// developer's own credentials never leak into a test.
func cleanEnv(extra ...string) []string {
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.TempDir(),
		"AWS_EC2_METADATA_DISABLED=true", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null"}
	return append(env, extra...)
}

func creds() []string {
	return []string{"AWS_ACCESS_KEY_ID=AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY=cli-test-secret", "AWS_REGION=us-east-1"}
}

func runCLI(t *testing.T, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = env
	cmd.Dir = t.TempDir()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{code, out.String(), errb.String()}
}

func startEmu(t *testing.T, users int, opts cognitoemu.Options) (*cognitoemu.Pool, string) {
	t.Helper()
	pool := cognitoemu.NewPool(cognitoemu.PoolSpec{Users: users, Groups: 70, Seed: 11})
	hs := httptest.NewServer(cognitoemu.NewServer(opts, pool))
	t.Cleanup(hs.Close)
	return pool, hs.URL
}

func TestBadInputGetsOneLineAndExitCode(t *testing.T) {
	t.Parallel() // waits on paced calls and child processes, not the CPU
	pool, url := startEmu(t, 100, cognitoemu.Options{})
	file := filepath.Join(t.TempDir(), "a-file")
	os.WriteFile(file, nil, 0o644)
	base := []string{"export", "--endpoint-url", url, "--log-format", "json"}
	badConfig := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(badConfig, []byte("user-pool-id: "+pool.ID()+"\noutput: o\nconcurency: 4\n"), 0o644)
	tests := []struct {
		name string
		env  []string
		args []string
		code int
		msg  string
	}{
		{"no command", cleanEnv(), nil, 2, "no command given"},
		{"unknown command", cleanEnv(), []string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{"missing pool", cleanEnv(creds()...), append(base, "--output", "o"), 2, "missing --user-pool-id"},
		{"missing output", cleanEnv(creds()...), append(base, "--user-pool-id", pool.ID()), 2, "missing --output"},
		{"unknown report finding", cleanEnv(creds()...), append(base, "--user-pool-id", pool.ID(), "--output", "o", "--report", "--report-fail-on", "NOPE"), 2, `--report-fail-on: unknown finding "NOPE"`},
		{"unknown flag", cleanEnv(creds()...), append(base, "--bogus"), 2, "flag provided but not defined: -bogus"},
		{"bad format", cleanEnv(creds()...), append(base, "--user-pool-id", pool.ID(), "--output", "o", "--format", "xml"), 2, `unknown --format "xml"`},
		{"page size", cleanEnv(creds()...), append(base, "--user-pool-id", pool.ID(), "--output", "o", "--page-size", "61"), 2, "--page-size 61"},
		{"concurrency", cleanEnv(creds()...), append(base, "--user-pool-id", pool.ID(), "--output", "o", "--concurrency", "0"), 2, "--concurrency 0"},
		{"output is a file", cleanEnv(creds()...), append(base, "--user-pool-id", pool.ID(), "--output", file), 2, "is a file"},
		{"unknown config key", cleanEnv(creds()...), append(base, "--config", badConfig), 2, `unknown key "concurency" (did you mean "concurrency"?)`},
		{"bad env value", cleanEnv(append(creds(), "COGNITO_EXPORT_CONCURRENCY=many")...), append(base, "--user-pool-id", pool.ID(), "--output", "o"), 2, `COGNITO_EXPORT_CONCURRENCY="many"`},
		{"bad rate", cleanEnv(creds()...), append(base, "--user-pool-id", pool.ID(), "--output", "o", "--rate", "Foo=3"), 2, "unknown rate category"},
		{"unknown pool", cleanEnv(creds()...), append(base, "--user-pool-id", "us-east-1_Missing", "--output", "o"), 1, "check --user-pool-id"},
		{"no credentials", cleanEnv("AWS_REGION=us-east-1"), append(base, "--user-pool-id", pool.ID(), "--output", "o"), 1, "no AWS credentials found"},
		{"no region", cleanEnv("AWS_ACCESS_KEY_ID=a", "AWS_SECRET_ACCESS_KEY=b"), append(base, "--user-pool-id", pool.ID(), "--output", "o"), 2, "no AWS region"},
		{"remediation without decisions", cleanEnv(), []string{"remediation", "--export", file, "--output", "r.sh"}, 2, "--decisions is required"},
		{"remediation of no export", cleanEnv(), []string{"remediation", "--decisions", file, "--export", filepath.Dir(file), "--output", "r.sh"}, 2, "a-file: line 1:"},
		{"bad starting token", cleanEnv(creds()...), []string{"list-groups-for-user", "--endpoint-url", url, "--user-pool-id", pool.ID(), "--username", "x", "--starting-token", "zzz"}, 2, "malformed starting token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, tt.env, tt.args...)
			if r.code != tt.code {
				t.Fatalf("exit %d, want %d; stderr:\n%s", r.code, tt.code, r.stderr)
			}
			last := lastLine(r.stderr)
			if !strings.Contains(last, tt.msg) {
				t.Fatalf("last stderr line %q does not mention %q", last, tt.msg)
			}
			if strings.Contains(r.stderr, "cli-test-secret") {
				t.Fatal("the secret key appeared in the output")
			}
		})
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

func TestExportCommandWritesCompleteExport(t *testing.T) {
	pool, url := startEmu(t, 1500, cognitoemu.Options{})
	out := filepath.Join(t.TempDir(), "out")
	env := cleanEnv(append(creds(), "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER="+url)...)
	r := runCLI(t, env, "export", "--user-pool-id", pool.ID(), "--output", out, "--rate", "UserResourceRead=0", "--rate", "UserList=0")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if !strings.Contains(r.stdout, "exported 1500 users") {
		t.Fatalf("stdout: %s", r.stdout)
	}
	// JSON logs off a terminal.
	for _, line := range strings.Split(strings.TrimSpace(r.stderr), "\n") {
		if !json.Valid([]byte(line)) {
			t.Fatalf("log line is not JSON: %q", line)
		}
	}
	if _, err := os.Stat(filepath.Join(out, "manifest.json")); err != nil {
		t.Fatal(err)
	}
}

func TestDemoRunsWithoutAWS(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(binary, "demo", "--users", "2000")
	cmd.Env = cleanEnv()
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "exported 2000 users") || !strings.Contains(string(out), "manifest.json") {
		t.Fatalf("demo output:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(dir, "cognito-export-demo", "part-00000.parquet")); err != nil {
		t.Fatal(err)
	}
	// A second demo replaces the first.
	if out, err := cmd2(dir).CombinedOutput(); err != nil {
		t.Fatalf("second demo: %v\n%s", err, out)
	}
}

// TestDemoDirectExportsTheSameRows: the in-process transport of the
// benchmarks changes how requests reach the emulator, never what comes back.
func TestDemoDirectExportsTheSameRows(t *testing.T) {
	dir := t.TempDir()
	rows := func(direct bool) []string {
		out := filepath.Join(dir, fmt.Sprint("direct-", direct))
		args := []string{"demo", "--users", "1500", "--format", "csv", "--output", out, fmt.Sprint("--direct=", direct)}
		if direct {
			args = append(args, "--cpuprofile", filepath.Join(dir, "cpu.prof"), "--memprofile", filepath.Join(dir, "mem.prof"))
		}
		if r := runCLI(t, cleanEnv(), args...); r.code != 0 {
			t.Fatalf("demo %v: exit %d\n%s", args, r.code, r.stderr)
		}
		data, err := os.ReadFile(filepath.Join(out, "part-00000.csv"))
		if err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		var lines []string
		for _, rec := range recs {
			rec[13] = "" // exported_at differs
			lines = append(lines, strings.Join(rec, "\x1f"))
		}
		slices.Sort(lines)
		return lines
	}
	loopback, direct := rows(false), rows(true)
	if len(direct) < 1500 || !slices.Equal(loopback, direct) {
		t.Fatalf("direct export differs from the loopback one (%d and %d lines)", len(direct), len(loopback))
	}
	for _, p := range []string{"cpu.prof", "mem.prof"} {
		if st, err := os.Stat(filepath.Join(dir, p)); err != nil || st.Size() == 0 {
			t.Errorf("profile %s not written: %v", p, err)
		}
	}
}

func cmd2(dir string) *exec.Cmd {
	c := exec.Command(binary, "demo", "--users", "300")
	c.Env, c.Dir = cleanEnv(), dir
	return c
}

func TestListGroupsForUserPrintsCLIShapeAndResumes(t *testing.T) {
	pool, url := startEmu(t, 2000, cognitoemu.Options{})
	user := -1
	for i := range pool.NumUsers() {
		if len(pool.UserGroups(i, nil)) > 60 {
			user = i
			break
		}
	}
	if user < 0 {
		t.Fatal("no user with more than 60 groups")
	}
	want := pool.UserGroups(user, nil)
	env := cleanEnv(creds()...)
	args := []string{"list-groups-for-user", "--endpoint-url", url, "--user-pool-id", pool.ID(), "--username", pool.User(user).Username, "--page-size", "7", "--max-items", "10"}
	var names []string
	token := ""
	for hops := 0; hops < 50; hops++ {
		a := args
		if token != "" {
			a = append(append([]string{}, args...), "--starting-token", token)
		}
		r := runCLI(t, env, a...)
		if r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		var res struct {
			Groups    []map[string]any
			NextToken string
		}
		if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
			t.Fatalf("%v: %s", err, r.stdout)
		}
		for _, g := range res.Groups {
			names = append(names, g["GroupName"].(string))
			if _, err := time.Parse("2006-01-02T15:04:05.999999-07:00", g["CreationDate"].(string)); err != nil {
				t.Fatalf("CreationDate not ISO 8601: %v", err)
			}
			if g["UserPoolId"] != pool.ID() {
				t.Fatalf("UserPoolId = %v", g["UserPoolId"])
			}
		}
		if res.NextToken == "" {
			break
		}
		token = res.NextToken
	}
	if len(names) != len(want) {
		t.Fatalf("got %d groups over resumes, want %d", len(names), len(want))
	}
	for k, gi := range want {
		if names[k] != pool.Groups()[gi].Name {
			t.Fatalf("group %d = %q, want %q", k, names[k], pool.Groups()[gi].Name)
		}
	}
}

func TestSIGTERMStopsCleanlyWithoutManifest(t *testing.T) {
	pool, url := startEmu(t, 20000, cognitoemu.Options{})
	out := filepath.Join(t.TempDir(), "out")
	l := startCLI(t, cleanEnv(creds()...), "export", "--endpoint-url", url, "--user-pool-id", pool.ID(), "--output", out,
		"--rate", "UserResourceRead=100", "--checkpoint-interval", "200ms")
	l.waitRecord(t, "checkpoint saved", atLeast("rows", 1)) // under way, with rows to lose
	l.cmd.Process.Signal(syscall.SIGTERM)
	if code := l.wait(t); code != 143 {
		t.Fatalf("exit %d, want 143; stderr:\n%s", code, l.allStderr())
	}
	if _, err := os.Stat(filepath.Join(out, "manifest.json")); !os.IsNotExist(err) {
		t.Fatalf("manifest after SIGTERM: %v", err)
	}
}
