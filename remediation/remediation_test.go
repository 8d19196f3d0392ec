package remediation_test

import (
	"bytes"
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/cognito-export/cognito-export/cognito"
	"github.com/cognito-export/cognito-export/decisions"
	"github.com/cognito-export/cognito-export/export"
	"github.com/cognito-export/cognito-export/fault"
	"github.com/cognito-export/cognito-export/internal/cognitoemu"
	"github.com/cognito-export/cognito-export/ratelimit"
	"github.com/cognito-export/cognito-export/remediation"
)

// exportPool exports p (served by the emulator) into dir, in format.
func exportPool(t *testing.T, p *cognitoemu.Pool, dir, format string) {
	t.Helper()
	hs := httptest.NewServer(cognitoemu.NewServer(cognitoemu.Options{}, p))
	defer hs.Close()
	_, err := export.Run(context.Background(), export.Config{UserPoolID: p.ID(), Output: dir,
		Strategy: export.StrategyPerUser, Format: format, Concurrency: 4, PageSize: 60, UsersWithoutGroups: true, Limits: ratelimit.Unlimited(),
		Client: cognito.Config{Region: "us-east-1", EndpointURL: hs.URL, MaxAttempts: 2,
			Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "test-secret", "")}})
	if err != nil {
		t.Fatal(err)
	}
}

func writeDecisions(t *testing.T, path string, ds []decisions.Decision) {
	t.Helper()
	var buf bytes.Buffer
	if err := decisions.Write(&buf, ds); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

func member(p *cognitoemu.Pool, i, k int, v decisions.Verdict) decisions.Decision {
	u := p.User(i)
	return decisions.Decision{PoolID: p.ID(), Group: p.Groups()[p.UserGroups(i, nil)[k]].Name, Username: u.Username, Sub: u.Sub, Verdict: v,
		Reviewer: "Rita", DecidedAt: time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC), ManifestSHA256: "m"}
}

// TestRunSortsTheRevocations: in both formats, a revocation the export
// holds gets a command, one it no longer holds a comment, one whose
// username is now another user's (re-created) is left alone, a keep is no
// action; the policy is written beside the script.
func TestRunSortsTheRevocations(t *testing.T) {
	old := cognitoemu.NewPool(cognitoemu.PoolSpec{ID: "eu-west-1_Run1", Users: 40, Groups: 4, Seed: 3, NoGroupShare: -1})
	var users []int
	for i := range old.NumUsers() {
		if len(old.UserGroups(i, nil)) >= 1 && len(users) < 4 {
			users = append(users, i)
		}
	}
	ds := []decisions.Decision{
		member(old, users[0], 0, decisions.Revoke), // still there
		member(old, users[1], 0, decisions.Revoke), // removed before the new export
		member(old, users[2], 0, decisions.Revoke), // re-created, in the group again
		member(old, users[3], 0, decisions.Keep),
	}
	cur, err := old.Mutate(cognitoemu.Mutations{
		RemoveMemberships: []cognitoemu.Membership{{User: users[1], Group: ds[1].Group}},
		RecreateUsers:     []cognitoemu.Recreate{{User: users[2], Groups: []string{ds[2].Group}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, format := range []string{"parquet", "csv"} {
		dir := t.TempDir()
		exportPool(t, cur, filepath.Join(dir, "new"), format)
		writeDecisions(t, filepath.Join(dir, "decisions.csv"), ds)
		res, err := remediation.Run(context.Background(), remediation.Options{Decisions: filepath.Join(dir, "decisions.csv"),
			Export: filepath.Join(dir, "new"), Output: filepath.Join(dir, "remove.sh"), Generator: "test"})
		if err != nil {
			t.Fatal(err)
		}
		if res.Decisions != 4 || res.Revokes != 3 || res.Remove != 1 || res.Gone != 1 || res.Recreated != 1 {
			t.Fatalf("%s: %+v", format, res)
		}
		script, err := os.ReadFile(res.Script)
		if err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(string(script), "\n$run aws "); n != 1 || !strings.Contains(string(script), "--username="+remediation.Quote(ds[0].Username)) {
			t.Fatalf("%s: %d commands, want one for %q:\n%s", format, n, ds[0].Username, script)
		}
		if res.Policy != filepath.Join(dir, "remove-policy.json") {
			t.Errorf("policy at %s", res.Policy)
		}
		if fi, err := os.Stat(res.Policy); err != nil || fi.Size() == 0 {
			t.Errorf("policy: %v", err)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 4 {
			t.Errorf("%d files in the output directory, want new, decisions.csv, remove.sh, remove-policy.json (no temporary file left)", len(entries))
		}
	}
}

// TestRunRefusesBadInput: each refusal is a usage error (exit 2) that
// says what is wrong, and writes nothing.
func TestRunRefusesBadInput(t *testing.T) {
	p := cognitoemu.NewPool(cognitoemu.PoolSpec{ID: "eu-west-1_Run2", Users: 10, Groups: 2, Seed: 3, NoGroupShare: -1})
	dir := t.TempDir()
	exportPool(t, p, filepath.Join(dir, "new"), "csv")
	good := filepath.Join(dir, "good.csv")
	writeDecisions(t, good, []decisions.Decision{member(p, 1, 0, decisions.Revoke)})
	other := filepath.Join(dir, "other.csv")
	d := member(p, 1, 0, decisions.Revoke)
	d.PoolID = "eu-west-1_Other"
	writeDecisions(t, other, []decisions.Decision{d})
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte(strings.Join(decisions.Columns, ",")+"\r\np,g,u,s,maybe,R,2026-12-05T00:00:00Z,,m\r\n"), 0o600)
	empty := filepath.Join(dir, "empty.csv")
	writeDecisions(t, empty, nil)
	for _, tc := range []struct {
		name                   string
		decisions, export, out string
		want                   string
	}{
		{"another pool", other, filepath.Join(dir, "new"), filepath.Join(dir, "r.sh"), "eu-west-1_Other"},
		{"a bad row", bad, filepath.Join(dir, "new"), filepath.Join(dir, "r.sh"), "line 2"},
		{"no decision", empty, filepath.Join(dir, "new"), filepath.Join(dir, "r.sh"), "holds no decision"},
		{"no such file", filepath.Join(dir, "nope.csv"), filepath.Join(dir, "new"), filepath.Join(dir, "r.sh"), "no such file"},
		{"no export", good, filepath.Join(dir, "nothing"), filepath.Join(dir, "r.sh"), "no complete export"},
		{"no --export", good, "", filepath.Join(dir, "r.sh"), "--export is required"},
		{"an S3 output", good, filepath.Join(dir, "new"), "s3://bucket/remove.sh", "local file"},
	} {
		_, err := remediation.Run(context.Background(), remediation.Options{Decisions: tc.decisions, Export: tc.export, Output: tc.out})
		if err == nil || fault.KindOf(err) != fault.Usage || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: %v; want a one-line usage error with %q", tc.name, err, tc.want)
		}
		if _, serr := os.Stat(filepath.Join(dir, "r.sh")); serr == nil {
			t.Fatalf("%s: the script was written", tc.name)
		}
		if _, serr := os.Stat(filepath.Join(dir, "r-policy.json")); serr == nil {
			t.Fatalf("%s: the policy was written", tc.name)
		}
	}
}
