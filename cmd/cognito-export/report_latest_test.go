package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cognito-export/cognito-export/internal/cognitoemu"
)

// TestExportReportAgainstLatest: export --report of a pool on three days in
// sibling directories. Day 1 has nothing to compare with and says so; day
// 2 is compared with day 1 (report.json's findings are the emulator's,
// report.html is there, verify is not upset by either, and reader.Latest
// does not take them for an export); day 3, with --diff-against latest,
// reports from the diff just made. report --previous latest finds the same
// previous export as export --report, and refuses in one line (exit 2)
// where there is none. An export that cannot be compared (other
// --users-without-groups) is passed over by latest, with a warning.
func TestExportReportAgainstLatest(t *testing.T) {
	t.Parallel()
	base := cognitoemu.NewPool(cognitoemu.PoolSpec{Users: 300, Groups: 8, Seed: 21})
	var role, plain string
	for _, g := range base.Groups() {
		if g.RoleArn != nil && role == "" {
			role = g.Name
		} else if g.RoleArn == nil && plain == "" {
			plain = g.Name
		}
	}
	prec := int32(5)
	m := cognitoemu.Mutations{ChangeGroups: []cognitoemu.GroupChange{{Group: role, Precedence: &prec}}}
	roleIdx := slices.Index(groupNames(base.Groups()), role)
	for u := 0; len(m.AddMemberships) < 4; u++ {
		if !slices.Contains(base.UserGroups(u, nil), roleIdx) {
			m.AddMemberships = append(m.AddMemberships, cognitoemu.Membership{User: u, Group: role})
		}
	}
	after, err := base.Mutate(m)
	if err != nil {
		t.Fatal(err)
	}
	var wantAdded []string
	for _, ms := range m.AddMemberships {
		u := after.User(ms.User)
		wantAdded = append(wantAdded, u.Username+"|"+u.Sub+"|"+role)
	}
	slices.Sort(wantAdded)

	dir := filepath.Join(t.TempDir(), "pool="+base.ID())
	export := func(p *cognitoemu.Pool, day string, args ...string) (string, result) {
		out := filepath.Join(dir, "dt="+day)
		env := cleanEnv(append(creds(), "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER="+serveEmu(t, p))...)
		all := append([]string{"export", "--user-pool-id", p.ID(), "--output", out, "--log-format", "json", "--report",
			"--attributes", strings.Join(diffAttributes, ","), "--rate", "UserResourceRead=0", "--rate", "UserList=0",
			"--rate", "UserPoolResourceRead=0", "--rate", "UserPoolRead=0"}, args...)
		r := runCLI(t, env, all...)
		if r.code != 0 {
			t.Fatalf("export %s: exit %d: %s", day, r.code, r.stderr)
		}
		return out, r
	}

	day1, r := export(base, "2026-12-01")
	if !strings.Contains(r.stderr, "no earlier complete export of this pool beside this one: the report has no comparison") {
		t.Errorf("day 1: no log line about the missing comparison:\n%s", r.stderr)
	}
	rep1 := readReport(t, filepath.Join(day1, "report.json"))
	if rep1.Previous != nil {
		t.Errorf("day 1: the report compares with %q", rep1.Previous.Location)
	}
	if _, evaluated := rep1.rows(t, "PRIVILEGED_MEMBERS_ADDED"); evaluated {
		t.Error("day 1: PRIVILEGED_MEMBERS_ADDED evaluated without a previous export")
	}

	day2, _ := export(after, "2026-12-02")
	for _, f := range []string{"report.html", "report.json"} {
		if st, err := os.Stat(filepath.Join(day2, f)); err != nil || st.Size() < 1000 {
			t.Fatalf("day 2: %s: %v", f, err)
		}
	}
	rep2 := readReport(t, filepath.Join(day2, "report.json"))
	if rep2.Previous == nil || rep2.Previous.Location != day1 {
		t.Fatalf("day 2: previous %+v, want %s", rep2.Previous, day1)
	}
	if rep2.Export.Users != int64(after.NumUsers()) {
		t.Errorf("day 2: %d users, the pool has %d", rep2.Export.Users, after.NumUsers())
	}
	if rows, _ := rep2.rows(t, "PRIVILEGED_MEMBERS_ADDED"); !slices.Equal(rows, wantAdded) {
		t.Errorf("day 2: PRIVILEGED_MEMBERS_ADDED %q, want %q", rows, wantAdded)
	}
	if rows, _ := rep2.rows(t, "ROLE_OR_PRECEDENCE_CHANGED"); !slices.Equal(rows, []string{"||" + role}) {
		t.Errorf("day 2: ROLE_OR_PRECEDENCE_CHANGED %q, want the group %q", rows, role)
	}
	want := expectedFindings(after, 10)
	for _, id := range []string{"DISABLED_WITH_GROUPS", "PRIVILEGED_NOT_CONFIRMED", "UNVERIFIED_EMAIL_PRIVILEGED"} {
		if rows, _ := rep2.rows(t, id); !slices.Equal(rows, want[id]) {
			t.Errorf("day 2: %s has %d rows, the emulator says %d", id, len(rows), len(want[id]))
		}
	}
	for _, d := range []string{day1, day2} {
		if r := runCLI(t, cleanEnv(), "verify", d); r.code != 0 {
			t.Errorf("verify %s beside its report: exit %d: %s", d, r.code, r.stdout+r.stderr)
		}
	}

	// report --previous latest finds day 1 too, with the same findings.
	page := filepath.Join(t.TempDir(), "latest.html")
	runReportCLI(t, day2, "--previous", "latest", "--output", page)
	again := readReport(t, strings.TrimSuffix(page, ".html")+".json")
	if again.Previous == nil || again.Previous.Location != day1 {
		t.Fatalf("report --previous latest: previous %+v, want %s", again.Previous, day1)
	}
	for _, f := range rep2.Findings {
		if g, _ := again.rows(t, f.ID); f.Count != int64(len(g)) {
			t.Errorf("%s: export --report counts %d, report --previous latest %d", f.ID, f.Count, len(g))
		}
	}
	r = runCLI(t, cleanEnv(), "report", day1, "--previous", "latest", "--output", page)
	if r.code != 2 || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 || !strings.Contains(r.stderr, "no earlier complete export of pool") {
		t.Errorf("report --previous latest without one: exit %d, stderr %q", r.code, r.stderr)
	}

	// An export made with other settings cannot be compared with days 1
	// and 2: its report passes over them, with a warning each, and has no
	// comparison, as a first run; day 3 passes over it in turn.
	odd, r := export(after, "2026-12-02-nogroupless", "--users-without-groups=false")
	if n := strings.Count(r.stderr, "passing over an earlier export that cannot be compared with this one"); n != 2 || !strings.Contains(r.stderr, "users-without-groups") {
		t.Errorf("an export with other settings: %d warnings about passing over, want 2:\n%s", n, r.stderr)
	}
	if rep := readReport(t, filepath.Join(odd, "report.json")); rep.Previous != nil {
		t.Errorf("an export with other settings: its report compares with %s", rep.Previous.Location)
	}

	// Day 3, the pool unchanged since day 2: the report comes from the
	// diff --diff-against made, and compares with day 2.
	day3, r := export(after, "2026-12-03", "--diff-against", "latest")
	if !strings.Contains(r.stderr, "passing over an earlier export that cannot be compared") || !strings.Contains(r.stderr, "nogroupless") {
		t.Errorf("day 3: no warning about passing over the export with other settings:\n%s", r.stderr)
	}
	if strings.Contains(r.stderr, "reporting against the latest earlier export") {
		t.Error("day 3: the report diffed again instead of using --diff-against's diff")
	}
	rep3 := readReport(t, filepath.Join(day3, "report.json"))
	if rep3.Previous == nil || rep3.Previous.Location != day2 {
		t.Fatalf("day 3: previous %+v, want %s", rep3.Previous, day2)
	}
	for _, id := range []string{"PRIVILEGED_MEMBERS_ADDED", "ROLE_OR_PRECEDENCE_CHANGED"} {
		if rows, evaluated := rep3.rows(t, id); !evaluated || len(rows) != 0 {
			t.Errorf("day 3: %s evaluated %v, rows %q; want none", id, evaluated, rows)
		}
	}
}
