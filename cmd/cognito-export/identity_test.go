package main

import (
	"bytes"
	"encoding/csv"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/cognito-export/cognito-export/internal/cognitoemu"
)

// Issue 14's bad input: one line, exit 2, and nothing in the output (the
// writability probe leaves nothing either).
func TestBadIdentityInputWritesNothing(t *testing.T) {
	t.Parallel() // waits on paced calls and child processes, not the CPU
	pool, url := startEmu(t, 100, cognitoemu.Options{})
	key := "COGNITO_EXPORT_HMAC_KEY=" + strings.Repeat("s3cr3t-k3y-", 4)
	for _, tt := range []struct {
		name  string
		env   []string
		flags []string
		msg   string
	}{
		{"unknown attribute", nil, []string{"--attributes", "email,nmae"}, `no attribute "nmae"; did you mean name`},
		{"filter Cognito would refuse", nil, []string{"--filter", `custom:department = "x"`}, "not an attribute Cognito can filter on"},
		{"filter without quotes", nil, []string{"--filter", `email ^= a`}, "must be in double quotes"},
		{"pseudonymise what is not exported", []string{key}, []string{"--pseudonymize", "phone_number"}, "--pseudonymize phone_number: not an exported attribute"},
		{"missing key", nil, []string{"--pseudonymize", "email"}, "--pseudonymize needs a key"},
		{"short key", []string{"COGNITO_EXPORT_HMAC_KEY=short"}, []string{"--pseudonymize", "email"}, "needs at least 32"},
		{"key file missing", nil, []string{"--pseudonymize", "email", "--hmac-key-file", "/no/such/key"}, "--hmac-key-file"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			args := append([]string{"export", "--endpoint-url", url, "--user-pool-id", pool.ID(), "--output", out}, tt.flags...)
			r := runCLI(t, cleanEnv(append(creds(), tt.env...)...), args...)
			if r.code != 2 || !strings.Contains(lastLine(r.stderr), tt.msg) {
				t.Fatalf("exit %d, last line %q; want exit 2 mentioning %q", r.code, lastLine(r.stderr), tt.msg)
			}
			if entries, _ := os.ReadDir(out); len(entries) != 0 {
				t.Fatalf("output holds %d files after a refused run", len(entries))
			}
			if strings.Contains(r.stderr, "s3cr3t-k3y") {
				t.Fatal("the key appeared in the output")
			}
		})
	}
}

// A pseudonymising run logs and writes its key's id, never the key; the
// key's variable is not taken for a mistyped flag.
func TestPseudonymisationKeyIsNeverWritten(t *testing.T) {
	t.Parallel() // waits on paced calls and child processes, not the CPU
	pool, url := startEmu(t, 300, cognitoemu.Options{})
	secret := strings.Repeat("s3cr3t-k3y-", 4)
	out := filepath.Join(t.TempDir(), "out")
	r := runCLI(t, cleanEnv(append(creds(), "COGNITO_EXPORT_HMAC_KEY="+secret)...), "export", "--endpoint-url", url,
		"--user-pool-id", pool.ID(), "--output", out, "--format", "csv", "--attributes", "email,name",
		"--pseudonymize", "email", "--log-format", "json")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if strings.Contains(r.stderr, secret) || strings.Contains(r.stdout, secret) {
		t.Fatal("the key appeared in the logs")
	}
	if strings.Contains(r.stderr, "HMAC_KEY") {
		t.Fatalf("the key's variable was reported: %s", r.stderr)
	}
	entries, _ := os.ReadDir(out)
	for _, e := range entries {
		data, _ := os.ReadFile(filepath.Join(out, e.Name()))
		if bytes.Contains(data, []byte(secret)) {
			t.Fatalf("the key is in %s", e.Name())
		}
	}
	manifest, _ := os.ReadFile(filepath.Join(out, "manifest.json"))
	if !bytes.Contains(manifest, []byte(`"pseudonymization_key_id"`)) || !bytes.Contains(manifest, []byte(`"treatment": "pseudonymized"`)) {
		t.Fatalf("the manifest does not record the pseudonymisation:\n%s", manifest)
	}
}

// The case the email column is for: usernames are UUIDs, and the export
// still names every person by email, with both strategies.
func TestUUIDUsernamesAreNamedByEmail(t *testing.T) {
	for _, strategy := range []string{"per-user", "by-group"} {
		out := filepath.Join(t.TempDir(), "out")
		r := runCLI(t, cleanEnv(), "demo", "--users", "300", "--email-as-username", "--format", "csv", "--strategy", strategy, "--output", out)
		if r.code != 0 {
			t.Fatalf("%s: exit %d\n%s", strategy, r.code, r.stderr)
		}
		data, err := os.ReadFile(filepath.Join(out, "part-00000.csv"))
		if err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		uuid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
		for _, rec := range recs[1:] {
			if !uuid.MatchString(rec[1]) || !strings.Contains(rec[14], "@") {
				t.Fatalf("%s: username %q, email %q", strategy, rec[1], rec[14])
			}
		}
	}
}
