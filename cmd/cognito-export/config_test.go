package main

import (
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cognito-export/cognito-export/cognito"
	"github.com/cognito-export/cognito-export/export"
	"github.com/cognito-export/cognito-export/internal/cognitoemu"
	"github.com/cognito-export/cognito-export/internal/fuzzcheck"
)

func writeConfig(t *testing.T, yaml string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func startServer(t *testing.T, srv *cognitoemu.Server) string {
	t.Helper()
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	return hs.URL
}

func envOf(pairs ...string) func(string) (string, bool) {
	m := map[string]string{}
	for _, p := range pairs {
		k, v, _ := strings.Cut(p, "=")
		m[k] = v
	}
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

// TestConfigPrecedence sets one setting in every source and checks which
// wins: flag > env > file > default.
func TestConfigPrecedence(t *testing.T) {
	file := writeConfig(t, `
user-pool-id: us-east-1_FromFile
output: out-{pool}
concurrency: 3
format: csv
page-size: 20
checkpoint-interval: 5s
users-without-groups: false
rate:
  UserResourceRead: 7
`)
	tests := []struct {
		name string
		args []string
		env  []string
		want func(export.Config) string // "" when right
	}{
		{"file over default", []string{"--config", file}, nil, func(c export.Config) string {
			if c.Concurrency != 3 || c.Format != "csv" || c.PageSize != 20 || c.CheckpointInterval != 5*time.Second || c.UsersWithoutGroups || c.Output != "out-us-east-1_FromFile" {
				return "file values not applied"
			}
			if c.Compression != "snappy" || c.PartBytes != export.DefaultPartBytes {
				return "defaults lost for keys the file does not name"
			}
			return ""
		}},
		{"env over file", []string{"--config", file}, []string{"COGNITO_EXPORT_CONCURRENCY=5", "COGNITO_EXPORT_USERS_WITHOUT_GROUPS=true"}, func(c export.Config) string {
			if c.Concurrency != 5 || !c.UsersWithoutGroups || c.Format != "csv" {
				return "env did not override the file (or overrode more)"
			}
			return ""
		}},
		{"flag over env", []string{"--config", file, "--concurrency", "9", "--format", "parquet"}, []string{"COGNITO_EXPORT_CONCURRENCY=5"}, func(c export.Config) string {
			if c.Concurrency != 9 || c.Format != "parquet" || c.PageSize != 20 {
				return "flag did not override env and file"
			}
			return ""
		}},
		{"config file from env", nil, []string{"COGNITO_EXPORT_CONFIG=" + file, "COGNITO_EXPORT_USER_POOL_ID=us-east-1_FromEnv"}, func(c export.Config) string {
			if c.UserPoolID != "us-east-1_FromEnv" || c.Concurrency != 3 || c.Output != "out-us-east-1_FromEnv" {
				return "env --config not read, or env pool not preferred"
			}
			return ""
		}},
		{"defaults only", []string{"--user-pool-id", "p", "--output", "o"}, nil, func(c export.Config) string {
			if c.Concurrency != export.DefaultConcurrency || c.Format != "parquet" || c.PageSize != cognito.MaxPageSize {
				return "defaults wrong"
			}
			return ""
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := parseExport(tt.args, envOf(tt.env...), io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Pools) != 1 {
				t.Fatalf("%d pools", len(p.Pools))
			}
			if msg := tt.want(p.Pools[0].Config); msg != "" {
				t.Fatalf("%s: %+v", msg, p.Pools[0])
			}
		})
	}
	// The repeatable --rate: the file's mapping, then the env's list, then the flag.
	for _, tc := range []struct {
		args []string
		env  []string
		want float64
	}{
		{[]string{"--config", file}, nil, 7},
		{[]string{"--config", file}, []string{"COGNITO_EXPORT_RATE=UserResourceRead=11,UserList=3"}, 11},
		{[]string{"--config", file, "--rate", "UserResourceRead=13"}, []string{"COGNITO_EXPORT_RATE=UserResourceRead=11"}, 13},
	} {
		p, err := parseExport(tc.args, envOf(tc.env...), io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		if got := p.Pools[0].Limits.Rates()["UserResourceRead"]; got != tc.want {
			t.Fatalf("args %v env %v: UserResourceRead rate %g, want %g", tc.args, tc.env, got, tc.want)
		}
	}
}

func TestConfigRejectsBadFilesByName(t *testing.T) {
	tests := []struct{ yaml, env, msg string }{
		{"concurency: 4\n", "", `unknown key "concurency" (did you mean "concurrency"?)`},
		{"user-pool-id: p\nfrobnicate: true\n", "", `unknown key "frobnicate"`},
		{"pools:\n  - user-pool-id: a\n    output: x\n    colour: red\n", "", `unknown key "pools[0].colour"`},
		{"pools:\n  - user-pool-id: a\n    rate-share: 0.5\n", "", "pools[0].rate-share applies to the whole run"},
		{"pools:\n  - output: x\n", "", "pools[0].user-pool-id is missing"},
		{"pools: 3\n", "", "pools: want a list"},
		{"concurrency: lots\n", "", `config.yaml: concurrency="lots": parse error`},
		{"- a\n- b\n", "", "want a YAML mapping"},
		{"output: o-{pool}\npools:\n  - user-pool-id: a\n  - user-pool-id: b\n", "COGNITO_EXPORT_USER_POOL_ID=c", "name the pools in one place only"},
		{"output: same\npools:\n  - user-pool-id: a\n  - user-pool-id: b\n", "", "would share same: put {pool} in output"},
	}
	for _, tt := range tests {
		file := writeConfig(t, tt.yaml)
		_, err := parseExport([]string{"--config", file}, envOf(tt.env), io.Discard)
		if !isUsage(err) || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("config %q: error %v, want a usage error mentioning %q", tt.yaml, err, tt.msg)
		}
	}
	if _, err := parseExport(nil, envOf("COGNITO_EXPORT_PAGE_SIZE=x"), io.Discard); err == nil || !strings.Contains(err.Error(), "COGNITO_EXPORT_PAGE_SIZE") {
		t.Errorf("a bad env value is not named: %v", err)
	}
}

func TestStrayEnvironmentVariablesAreNamed(t *testing.T) {
	r := runCLI(t, cleanEnv(append(creds(), "COGNITO_EXPORT_CONCURENCY=4")...), "export", "--endpoint-url", "http://127.0.0.1:1",
		"--user-pool-id", "us-east-1_X", "--output", t.TempDir(), "--strategy", "per-user", "--max-attempts", "1")
	if !strings.Contains(r.stderr, `"variable":"COGNITO_EXPORT_CONCURENCY"`) {
		t.Fatalf("a mistyped variable is not named:\n%s", r.stderr)
	}
}

// TestExampleConfigIsValid keeps configs/example.yaml in step with the flags.
func TestExampleConfigIsValid(t *testing.T) {
	p, err := parseExport([]string{"--config", "../../configs/example.yaml"}, envOf(), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Pools) < 2 {
		t.Fatalf("the example shows %d pools; it should show several", len(p.Pools))
	}
	for _, c := range p.Pools {
		if err := c.Validate(); err != nil {
			t.Fatalf("pool %s: %v", c.UserPoolID, err)
		}
	}
}

// TestSeveralPoolsShareTheLimitersAndFailAlone exports three pools of one
// config file two at a time: the two that exist are complete, each in its
// own output, and the one that does not is named in one line with exit 1.
func TestSeveralPoolsShareTheLimitersAndFailAlone(t *testing.T) {
	a := cognitoemu.NewPool(cognitoemu.PoolSpec{ID: "us-east-1_PoolA", Users: 700, Groups: 20, Seed: 1})
	b := cognitoemu.NewPool(cognitoemu.PoolSpec{ID: "us-east-1_PoolB", Users: 900, Groups: 20, Seed: 2})
	url := startServer(t, cognitoemu.NewServer(cognitoemu.Options{}, a, b))
	dir := t.TempDir()
	file := writeConfig(t, `
endpoint-url: `+url+`
output: `+dir+`/pool={pool}
parallel-pools: 2
rate: [UserResourceRead=0, UserList=0]
pools:
  - user-pool-id: us-east-1_PoolA
  - user-pool-id: us-east-1_PoolB
    format: csv
  - user-pool-id: us-east-1_Missing
`)
	p, err := parseExport([]string{"--config", file}, envOf(), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	// One account and region: one set of limiters for all three.
	for _, c := range p.Pools {
		if c.Limits != p.Pools[0].Limits || len(p.Limits) != 1 {
			t.Fatalf("pool %s has limiters of its own (%d sets)", c.UserPoolID, len(p.Limits))
		}
	}
	r := runCLI(t, cleanEnv(creds()...), "export", "--config", file)
	if r.code != 1 || !strings.Contains(lastLine(r.stderr), "1 of 3 pools failed: pool us-east-1_Missing") {
		t.Fatalf("exit %d, last line %q", r.code, lastLine(r.stderr))
	}
	for pool, part := range map[string]string{"us-east-1_PoolA": "part-00000.parquet", "us-east-1_PoolB": "part-00000.csv"} {
		for _, name := range []string{"manifest.json", part, "summary.json"} {
			if _, err := os.Stat(filepath.Join(dir, "pool="+pool, name)); err != nil {
				t.Errorf("pool %s: %v", pool, err)
			}
		}
	}
	if !strings.Contains(r.stdout, "exported 700 users") || !strings.Contains(r.stdout, "exported 900 users") {
		t.Fatalf("stdout: %s", r.stdout)
	}
	if _, err := os.Stat(filepath.Join(dir, "pool=us-east-1_Missing", "manifest.json")); !os.IsNotExist(err) {
		t.Fatalf("manifest for the missing pool: %v", err)
	}
}

// TestConfigMergeKeysAndAliases keeps what yaml.v3's decoder allowed: an
// entry may merge another (<<: *base), its own keys winning.
func TestConfigMergeKeysAndAliases(t *testing.T) {
	file := writeConfig(t, `
output: out-{pool}
pools:
  - &base
    user-pool-id: us-east-1_A
    format: csv
    concurrency: 3
  - <<: *base
    user-pool-id: us-east-1_B
    concurrency: 5
`)
	p, err := parseExport([]string{"--config", file}, envOf(), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Pools) != 2 {
		t.Fatalf("%d pools, want 2", len(p.Pools))
	}
	b := p.Pools[1].Config
	if b.UserPoolID != "us-east-1_B" || b.Format != "csv" || b.Concurrency != 5 {
		t.Fatalf("merged entry: pool %s, format %s, concurrency %d; want us-east-1_B, csv (merged), 5 (its own)", b.UserPoolID, b.Format, b.Concurrency)
	}
}

// TestConfigDuplicateKeysCostLinearMemory: yaml.v3 reported every pair of
// duplicate keys, so 3,000 copies of one key (36 KB) allocated gigabytes.
// It fails without mappings: 2.4 GB allocated, in 52 s.
func TestConfigDuplicateKeysCostLinearMemory(t *testing.T) {
	path := writeConfig(t, strings.Repeat("concurrency: 1\n", 3000))
	var err error
	if got := fuzzcheck.Allocated(func() { _, err = loadConfigFile(path, exportFlagSet()) }); got > 32<<20 {
		t.Fatalf("allocated %d bytes for a config of 45 KB", got)
	}
	if err == nil || !strings.Contains(err.Error(), `line 2: key "concurrency" is set twice`) || !strings.Contains(err.Error(), path) {
		t.Fatalf("err = %v, want the second line's key named, in the file", err)
	}
}
