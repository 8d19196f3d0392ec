package main

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cognito-export/cognito-export/internal/cognitoemu"
)

// reportJSON is report.json as a pipeline reads it.
type reportJSON struct {
	Export struct {
		Users, Memberships int64
		Groups             int
	} `json:"export"`
	Previous *struct {
		Location string `json:"location"`
	} `json:"previous"`
	Findings []struct {
		ID        string `json:"id"`
		Evaluated bool   `json:"evaluated"`
		Count     int64  `json:"count"`
		Truncated bool   `json:"truncated"`
		Rows      []struct {
			Username string `json:"username"`
			UserSub  string `json:"user_sub"`
			Group    string `json:"group"`
		} `json:"rows"`
	} `json:"findings"`
}

func readReport(t *testing.T, file string) reportJSON {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var r reportJSON
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// rows are a finding's rows as "username|sub|group", sorted.
func (r reportJSON) rows(t *testing.T, id string) (rows []string, evaluated bool) {
	t.Helper()
	for _, f := range r.Findings {
		if f.ID == id {
			for _, x := range f.Rows {
				rows = append(rows, x.Username+"|"+x.UserSub+"|"+x.Group)
			}
			if int64(len(rows)) != f.Count {
				t.Fatalf("%s: count %d, %d rows", id, f.Count, len(rows))
			}
			slices.Sort(rows)
			return rows, f.Evaluated
		}
	}
	t.Fatalf("report.json has no finding %s", id)
	return nil, false
}

func runReportCLI(t *testing.T, args ...string) result {
	t.Helper()
	r := runCLI(t, cleanEnv(), append([]string{"report"}, args...)...)
	if r.code != 0 {
		t.Fatalf("report %v: exit %d: %s", args, r.code, r.stderr)
	}
	return r
}

// expectedFindings computes every single-export finding's rows from the
// emulator's own account of the pool, not from any export.
func expectedFindings(p *cognitoemu.Pool, maxGroups int) map[string][]string {
	want := map[string][]string{}
	groups := p.Groups()
	byArn := map[string][]string{}
	members := make([]int, len(groups))
	var idx []int
	var attrs []cognitoemu.Attribute
	for i := range p.NumUsers() {
		u := p.User(i)
		idx = p.UserGroups(i, idx[:0])
		attrs = p.UserAttributes(i, attrs[:0])
		verified := ""
		for _, a := range attrs {
			if a.Name == "email_verified" {
				verified = a.Value
			}
		}
		for _, gi := range idx {
			g := groups[gi]
			members[gi]++
			row := u.Username + "|" + u.Sub + "|" + g.Name
			if !u.Enabled {
				want["DISABLED_WITH_GROUPS"] = append(want["DISABLED_WITH_GROUPS"], row)
			}
			if g.RoleArn != nil && slices.Contains([]string{"UNCONFIRMED", "RESET_REQUIRED", "FORCE_CHANGE_PASSWORD", "COMPROMISED", "UNKNOWN"}, u.Status) {
				want["PRIVILEGED_NOT_CONFIRMED"] = append(want["PRIVILEGED_NOT_CONFIRMED"], row)
			}
			if g.RoleArn != nil && verified == "false" {
				want["UNVERIFIED_EMAIL_PRIVILEGED"] = append(want["UNVERIFIED_EMAIL_PRIVILEGED"], row)
			}
		}
		if len(idx) > maxGroups {
			want["TOO_MANY_GROUPS"] = append(want["TOO_MANY_GROUPS"], u.Username+"|"+u.Sub+"|")
		}
	}
	for gi, g := range groups {
		if members[gi] == 0 {
			want["EMPTY_GROUP"] = append(want["EMPTY_GROUP"], "||"+g.Name)
		}
		if g.RoleArn != nil {
			byArn[*g.RoleArn] = append(byArn[*g.RoleArn], g.Name)
		}
	}
	for _, names := range byArn {
		if len(names) > 1 {
			for _, n := range names {
				want["SHARED_ROLE_ARN"] = append(want["SHARED_ROLE_ARN"], "||"+n)
			}
		}
	}
	for _, rows := range want {
		slices.Sort(rows)
	}
	return want
}

// TestReportFindings: a pool made to fire every finding, each with exactly
// the rows the emulator says, and the same pool cleaned of them, where
// none fires; the comparison findings from an export before the changes.
func TestReportFindings(t *testing.T) {
	t.Parallel()
	spec := cognitoemu.PoolSpec{Users: 400, Groups: 8, Seed: 21}
	base := cognitoemu.NewPool(spec)
	groups := base.Groups()
	var roleGroups, plainGroups []string
	for _, g := range groups {
		if g.RoleArn != nil {
			roleGroups = append(roleGroups, g.Name)
		} else {
			plainGroups = append(plainGroups, g.Name)
		}
	}
	if len(roleGroups) < 2 || len(plainGroups) < 1 {
		t.Fatalf("seed gives %d groups with a role, %d without: pick another", len(roleGroups), len(plainGroups))
	}
	// clean: every user enabled, confirmed and verified; no shared ARN
	// (the generator gives each group its own), no empty group here.
	var clean cognitoemu.Mutations
	var attrs []cognitoemu.Attribute
	for i := range base.NumUsers() {
		u := base.User(i)
		if !u.Enabled {
			clean.EnableUsers = append(clean.EnableUsers, i)
		}
		if u.Status != "CONFIRMED" {
			clean.SetStatus = append(clean.SetStatus, cognitoemu.StatusChange{User: i, Status: "CONFIRMED"})
		}
		for _, a := range base.UserAttributes(i, attrs[:0]) {
			if a.Name == "email_verified" && a.Value == "false" {
				clean.SetAttributes = append(clean.SetAttributes, cognitoemu.AttributeChange{User: i, Name: "email_verified", Value: "true"})
			}
		}
	}
	arn := *groups[slices.IndexFunc(groups, func(g cognitoemu.Group) bool { return g.RoleArn != nil })].RoleArn
	prec := int32(77)
	// dirty, over clean: one of each.
	dirty := cognitoemu.Mutations{
		DisableUsers:  []int{3},
		SetStatus:     []cognitoemu.StatusChange{{User: 5, Status: "COMPROMISED"}, {User: 6, Status: "RESET_REQUIRED"}},
		SetAttributes: []cognitoemu.AttributeChange{{User: 7, Name: "email_verified", Value: "false"}},
		AddGroups:     []cognitoemu.NewGroup{{Name: "empty-<group>", RoleArn: &arn}},
		ChangeGroups:  []cognitoemu.GroupChange{{Group: plainGroups[0], Precedence: &prec}},
	}
	for _, u := range []int{3, 5, 6, 7} {
		for _, g := range roleGroups {
			if !slices.Contains(base.UserGroups(u, nil), slices.Index(groupNames(groups), g)) {
				dirty.AddMemberships = append(dirty.AddMemberships, cognitoemu.Membership{User: u, Group: g})
			}
		}
	}
	cleanPool, err := base.Mutate(clean)
	if err != nil {
		t.Fatal(err)
	}
	dirtyPool, err := cleanPool.Mutate(dirty)
	if err != nil {
		t.Fatal(err)
	}
	const maxGroups = 3
	dir := t.TempDir()
	export := func(p *cognitoemu.Pool, name string) string {
		out := filepath.Join(dir, name)
		exportTo(t, serveEmu(t, p), p.ID(), out)
		return out
	}
	cleanBefore, cleanDir, dirtyDir := export(cleanPool, "clean0"), export(cleanPool, "clean"), export(dirtyPool, "dirty")

	// The clean pool: nothing fires, all evaluated. Its previous review
	// kept every privileged membership: the template of clean0's report,
	// every row decided keep.
	runReportCLI(t, cleanBefore, "--output", filepath.Join(dir, "clean0", "review")+"/")
	tmpl, err := os.ReadFile(filepath.Join(dir, "clean0", "review", "decisions-template.csv"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(tmpl), "\r\n")
	for i := 1; i < len(lines); i++ {
		// The empty decision, reviewer, decided_at and comment before the
		// manifest's SHA-256, which has no comma.
		if j := strings.LastIndex(lines[i], ",,,,,"); j >= 0 {
			lines[i] = lines[i][:j] + ",keep,Rita,2026-12-05T10:00:00Z,," + lines[i][j+5:]
		}
	}
	keepAll := filepath.Join(dir, "keep-all.csv")
	if err := os.WriteFile(keepAll, []byte(strings.Join(lines, "")), 0o644); err != nil {
		t.Fatal(err)
	}
	runReportCLI(t, cleanDir, "--previous", cleanBefore, "--decisions", keepAll, "--output", filepath.Join(dir, "clean.html"), "--max-groups-per-user", "10",
		"--fail-on", strings.Join([]string{"DISABLED_WITH_GROUPS", "PRIVILEGED_NOT_CONFIRMED", "ROLE_OR_PRECEDENCE_CHANGED", "PRIVILEGED_MEMBERS_ADDED", "SHARED_ROLE_ARN", "UNVERIFIED_EMAIL_PRIVILEGED", "TOO_MANY_GROUPS", "EMPTY_GROUP"}, ","))
	// A decisions file of another pool, or with a bad row, is refused in
	// one line (exit 2), the bad row by its line, and nothing is written.
	header := "user_pool_id,group_name,username,user_sub,decision,reviewer,decided_at,comment,manifest_sha256\r\n"
	for name, tc := range map[string]struct{ body, says string }{
		"other-pool.csv": {header + "eu-west-1_Other,g,u,s,keep,Rita,2026-12-05T10:00:00Z,,m\r\n", "is about pool eu-west-1_Other"},
		"bad-row.csv": {strings.Replace(string(tmpl), ",,,,,", ",keep,Rita,2026-12-05T10:00:00Z,,", 1) + cleanPool.ID() + ",g,u,s,maybe,Rita,2026-12-05T10:00:00Z,,m\r\n",
			fmt.Sprintf("line %d: decision \"maybe\"", len(lines))}, // lines ends with the empty string after the last CRLF,
	} {
		file, out := filepath.Join(dir, name), filepath.Join(dir, "refused-"+name)
		if err := os.WriteFile(file, []byte(tc.body), 0o644); err != nil {
			t.Fatal(err)
		}
		r := runCLI(t, cleanEnv(), "report", cleanDir, "--previous", cleanBefore, "--decisions", file, "--output", out+"/")
		if r.code != 2 || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 || !strings.Contains(r.stderr, tc.says) {
			t.Errorf("%s: exit %d, stderr %q; want exit 2 saying %q", name, r.code, r.stderr, tc.says)
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("%s: the refused report wrote %s", name, out)
		}
	}
	for _, f := range readReport(t, filepath.Join(dir, "clean.json")).Findings {
		if !f.Evaluated || f.Count != 0 {
			t.Errorf("clean pool: %s evaluated %v, count %d; want evaluated and none", f.ID, f.Evaluated, f.Count)
		}
	}

	// The dirty pool: each finding has exactly the oracle's rows.
	r := runCLI(t, cleanEnv(), "report", dirtyDir, "--previous", cleanDir, "--output", filepath.Join(dir, "dirty.html"),
		"--max-groups-per-user", fmt.Sprint(maxGroups), "--fail-on", "EMPTY_GROUP")
	if r.code != 1 || !strings.Contains(r.stderr, "findings named by --fail-on are present: EMPTY_GROUP") {
		t.Fatalf("--fail-on EMPTY_GROUP: exit %d, stderr %q", r.code, r.stderr)
	}
	got := readReport(t, filepath.Join(dir, "dirty.json"))
	want := expectedFindings(dirtyPool, maxGroups)
	want["ROLE_OR_PRECEDENCE_CHANGED"] = []string{"||" + plainGroups[0], "||empty-<group>"}
	slices.Sort(want["ROLE_OR_PRECEDENCE_CHANGED"])
	for _, m := range dirty.AddMemberships {
		u := dirtyPool.User(m.User)
		want["PRIVILEGED_MEMBERS_ADDED"] = append(want["PRIVILEGED_MEMBERS_ADDED"], u.Username+"|"+u.Sub+"|"+m.Group)
	}
	slices.Sort(want["PRIVILEGED_MEMBERS_ADDED"])
	for _, id := range []string{"DISABLED_WITH_GROUPS", "PRIVILEGED_NOT_CONFIRMED", "ROLE_OR_PRECEDENCE_CHANGED", "PRIVILEGED_MEMBERS_ADDED",
		"SHARED_ROLE_ARN", "UNVERIFIED_EMAIL_PRIVILEGED", "TOO_MANY_GROUPS", "EMPTY_GROUP"} {
		rows, evaluated := got.rows(t, id)
		if !evaluated || len(want[id]) == 0 || !slices.Equal(rows, want[id]) {
			t.Errorf("%s: evaluated %v, rows\n %q\nwant\n %q", id, evaluated, rows, want[id])
		}
	}
}

func groupNames(gs []cognitoemu.Group) []string {
	out := make([]string, len(gs))
	for i, g := range gs {
		out[i] = g.Name
	}
	return out
}

// serveEmu serves p over HTTP for the test's exports.
func serveEmu(t *testing.T, p *cognitoemu.Pool) string {
	t.Helper()
	hs := httptest.NewServer(cognitoemu.NewServer(cognitoemu.Options{}, p))
	t.Cleanup(hs.Close)
	return hs.URL
}
