package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cognito-export/cognito-export/decisions"
	"github.com/cognito-export/cognito-export/internal/boto"
	"github.com/cognito-export/cognito-export/internal/cognitoemu"
	"github.com/cognito-export/cognito-export/reader"
	"github.com/cognito-export/cognito-export/rowscan"
	"github.com/cognito-export/cognito-export/sink/s3dest"
)

// memberships reads an export back: "username|sub|group" of every
// membership, sorted.
func memberships(t *testing.T, dir string) []string {
	t.Helper()
	ctx := context.Background()
	src, err := reader.Open(ctx, dir, s3dest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := reader.Verify(ctx, src, func(reader.Problem) {})
	if err != nil || !res.Intact() {
		t.Fatalf("%s: %v, intact %v", dir, err, res.Intact())
	}
	var out []string
	err = rowscan.Scan(ctx, src, res.Manifest, []string{"username", "user_sub", "group_name"}, rowscan.Options{}, func(row []rowscan.Value) error {
		if row[2].S != "" {
			out = append(out, row[0].S+"|"+row[1].S+"|"+row[2].S)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

func manifestSHA(t *testing.T, dir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// TestRemediationScriptRunsWithTheAWSCLI is the loop's last step end to
// end: a pool with hostile user and group names is exported and reviewed
// (decisions.csv), changes (a revoked user is re-created under the same
// name), is exported again; remediation writes the script from the second
// export, and the real AWS CLI runs it against the emulator. Exactly the
// revoked memberships still present disappear, the re-created user keeps
// hers, no name ran anything, and the next report's REVOKE_NOT_APPLIED,
// which had every one of them before the script, has none.
func TestRemediationScriptRunsWithTheAWSCLI(t *testing.T) {
	boto.Require(t)
	t.Parallel() // waits on the AWS CLI's start-up, not the CPU
	hostileUsers := []string{"$(touch${IFS}pwned)", "';id;'", "`touch${IFS}pwned`", "file:///etc/hostname", "-rf\"x\\"}
	hostileGroups := []string{"$(touch${IFS}pwned-group)", "a'b\"c`id`"}
	base := cognitoemu.NewPool(cognitoemu.PoolSpec{ID: "eu-west-1_Remedy1", Users: 200, Groups: 6, Seed: 23})
	m := cognitoemu.Mutations{}
	for _, g := range hostileGroups {
		m.AddGroups = append(m.AddGroups, cognitoemu.NewGroup{Name: g})
	}
	// One group each, hostile or not: every CLI call costs seconds.
	for k, u := range hostileUsers {
		g := base.Groups()[0].Name
		if k < 2 || k == 3 {
			g = hostileGroups[k%2]
		}
		m.AddUsers = append(m.AddUsers, cognitoemu.NewUser{Username: u, Groups: []string{g}})
	}
	day1, err := base.Mutate(m)
	if err != nil {
		t.Fatal(err)
	}
	hostileIdx := func(k int) int { return base.NumUsers() + k }
	// Two ordinary members of group 1, one of whom is re-created by day 2.
	var plain []int
	for i := range base.NumUsers() {
		if slices.Contains(day1.UserGroups(i, nil), 1) && len(plain) < 2 {
			plain = append(plain, i)
		}
	}
	g1 := day1.Groups()[1].Name
	recreated := plain[1]
	day2, err := day1.Mutate(cognitoemu.Mutations{RecreateUsers: []cognitoemu.Recreate{{User: recreated, Groups: []string{g1}}}})
	if err != nil {
		t.Fatal(err)
	}

	root := t.TempDir()
	exportFrom := func(p *cognitoemu.Pool, name string) (string, *cognitoemu.Server, string) {
		srv := cognitoemu.NewServer(cognitoemu.Options{}, p)
		hs := httptest.NewServer(srv)
		t.Cleanup(hs.Close)
		dir := filepath.Join(root, name)
		exportWith(t, hs.URL, p.ID(), dir)
		return dir, srv, hs.URL
	}
	oldDir, _, _ := exportFrom(day1, "day1")
	newDir, srv, url := exportFrom(day2, "day2")

	// The review of day 1: revoke every membership of the hostile users
	// (in ordinary and hostile groups) and the two ordinary members of
	// group 1; keep one; revoke one that was never there.
	at := time.Date(2026, 12, 5, 9, 30, 0, 0, time.UTC)
	var ds []decisions.Decision
	decide := func(p *cognitoemu.Pool, i int, group string, v decisions.Verdict) {
		u := p.User(i)
		ds = append(ds, decisions.Decision{PoolID: p.ID(), Group: group, Username: u.Username, Sub: u.Sub, Verdict: v,
			Reviewer: "Rita\n$(touch pwned-reviewer)", DecidedAt: at.Add(time.Duration(len(ds)) * time.Minute), Comment: "left ';id;'\r\nline", ManifestSHA256: manifestSHA(t, oldDir)})
	}
	var wantGone []string
	for k := range hostileUsers {
		i := hostileIdx(k)
		for _, g := range day1.UserGroups(i, nil) {
			decide(day1, i, day1.Groups()[g].Name, decisions.Revoke)
			u := day1.User(i)
			wantGone = append(wantGone, u.Username+"|"+u.Sub+"|"+day1.Groups()[g].Name)
		}
	}
	decide(day1, plain[0], g1, decisions.Revoke)
	wantGone = append(wantGone, day1.User(plain[0]).Username+"|"+day1.User(plain[0]).Sub+"|"+g1)
	decide(day1, recreated, g1, decisions.Revoke)
	keep := -1
	for i := range base.NumUsers() {
		if i != plain[0] && i != recreated && len(day1.UserGroups(i, nil)) > 0 {
			keep = i
			break
		}
	}
	decide(day1, keep, day1.Groups()[day1.UserGroups(keep, nil)[0]].Name, decisions.Keep)
	ds = append(ds, decisions.Decision{PoolID: day1.ID(), Group: g1, Username: "never-a-member", Sub: "s", Verdict: decisions.Revoke, Reviewer: "R", DecidedAt: at})
	var csvBuf bytes.Buffer
	if err := decisions.Write(&csvBuf, ds); err != nil {
		t.Fatal(err)
	}
	decisionsFile := filepath.Join(root, "decisions.csv")
	if err := os.WriteFile(decisionsFile, csvBuf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}

	script := filepath.Join(root, "remove.sh")
	r := runCLI(t, cleanEnv(), "remediation", "--decisions", decisionsFile, "--export", newDir, "--output", script)
	if r.code != 0 {
		t.Fatalf("remediation: exit %d: %s%s", r.code, r.stdout, r.stderr)
	}
	want := fmt.Sprintf("%d memberships of %d revocations to remove (1 already gone, 1 whose username is now another user's)", len(wantGone), len(wantGone)+2)
	if !strings.Contains(r.stdout, want) {
		t.Fatalf("remediation printed %q, want %q", r.stdout, want)
	}
	var policy struct {
		Statement []struct{ Action, Resource string }
	}
	if b, err := os.ReadFile(filepath.Join(root, "remove-policy.json")); err != nil || json.Unmarshal(b, &policy) != nil ||
		len(policy.Statement) != 1 || policy.Statement[0].Action != "cognito-idp:AdminRemoveUserFromGroup" ||
		policy.Statement[0].Resource != "arn:aws:cognito-idp:eu-west-1:*:userpool/eu-west-1_Remedy1" {
		t.Fatalf("remove-policy.json: %v, %+v", err, policy)
	}

	// The administrator's machine: the real AWS CLI, pointed at the
	// emulator by a wrapper as an endpoint setting would (this CLI predates
	// AWS_ENDPOINT_URL_*), run from an empty directory.
	bin, work := t.TempDir(), t.TempDir()
	wrapper := "#!/bin/sh\nexec " + boto.AWSCLI + " --endpoint-url \"$EMULATOR\" \"$@\"\n"
	if err := os.WriteFile(filepath.Join(bin, "aws"), []byte(wrapper), 0o755); err != nil {
		t.Fatal(err)
	}
	before := memberships(t, newDir)
	// Before the script, the review of day 2 against day 1's decisions
	// finds every revocation the script is about to carry out not applied.
	if got := revokesNotApplied(t, root, "before", newDir, oldDir, decisionsFile); len(got) != len(wantGone) {
		t.Fatalf("before the script, REVOKE_NOT_APPLIED has %d rows, want %d", len(got), len(wantGone))
	}
	cmd := exec.Command("/bin/sh", script)
	cmd.Dir = work
	cmd.Env = []string{"PATH=" + bin + ":/usr/bin:/bin", "HOME=" + work, "EMULATOR=" + url, "AWS_ACCESS_KEY_ID=AKIDADMIN", "AWS_SECRET_ACCESS_KEY=admin-secret",
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_EC2_METADATA_DISABLED=true", "AWS_PAGER="}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("sh remove.sh: %v\n%s", err, out)
	}
	if got := srv.Calls("AdminRemoveUserFromGroup"); got != int64(len(wantGone)) {
		t.Errorf("%d AdminRemoveUserFromGroup calls, want %d", got, len(wantGone))
	}
	for _, dir := range []string{work, root, bin} {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if strings.Contains(e.Name(), "pwned") {
				t.Errorf("%s/%s exists: a name ran as a command", dir, e.Name())
			}
		}
	}

	// The next export holds exactly what it held, less the revocations.
	afterDir := filepath.Join(root, "day3")
	exportWith(t, url, day2.ID(), afterDir)
	after := memberships(t, afterDir)
	expect := slices.DeleteFunc(slices.Clone(before), func(m string) bool { return slices.Contains(wantGone, m) })
	if !slices.Equal(after, expect) {
		t.Fatalf("after the script: %d memberships, want %d (before %d, %d revoked)", len(after), len(expect), len(before), len(wantGone))
	}
	rc := day2.User(recreated)
	if !slices.Contains(after, rc.Username+"|"+rc.Sub+"|"+g1) {
		t.Error("the re-created user lost the membership revoked of the user before her")
	}
	// And the next review says so: nothing revoked is still there.
	if got := revokesNotApplied(t, root, "after", afterDir, oldDir, decisionsFile); len(got) != 0 {
		t.Fatalf("after the script, REVOKE_NOT_APPLIED: %q", got)
	}
}

// revokesNotApplied reports on export cur against prev and the decisions
// made on prev, and returns the rows of REVOKE_NOT_APPLIED.
func revokesNotApplied(t *testing.T, root, name, cur, prev, decisionsFile string) []string {
	t.Helper()
	page := filepath.Join(root, "review-"+name, "report.html")
	r := runCLI(t, cleanEnv(), "report", cur, "--previous", prev, "--decisions", decisionsFile, "--output", page)
	if r.code != 0 {
		t.Fatalf("report %s: exit %d: %s%s", name, r.code, r.stdout, r.stderr)
	}
	rows, evaluated := readReport(t, filepath.Join(filepath.Dir(page), "report.json")).rows(t, "REVOKE_NOT_APPLIED")
	if !evaluated {
		t.Fatalf("report %s: REVOKE_NOT_APPLIED was not evaluated", name)
	}
	return rows
}

// exportWith exports pool id from the emulator at url into dir.
func exportWith(t *testing.T, url, id, dir string) {
	t.Helper()
	env := cleanEnv(append(creds(), "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER="+url)...)
	r := runCLI(t, env, "export", "--user-pool-id", id, "--output", dir, "--rate", "UserResourceRead=0", "--rate", "UserList=0")
	if r.code != 0 {
		t.Fatalf("export %s: exit %d: %s", dir, r.code, r.stderr)
	}
}
