package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cognito-export/cognito-export/internal/cognitoemu"
	"github.com/cognito-export/cognito-export/internal/s3server"
)

// TestReportCSVAndS3: exports in CSV to S3 (versitygw) with --report, on two
// days: the report of day 2 is written beside its manifest on S3, compared
// with day 1 found on S3, and has the emulator's findings; report reads the
// S3 CSV export again into an S3 output, capping report.json's rows while
// the counts stay exact; a Parquet export of the same pool on local disk
// gives the same findings.
func TestReportCSVAndS3(t *testing.T) {
	t.Parallel()
	s3srv := s3server.Start(t)
	s3srv.Bucket(t, "exports")
	base := cognitoemu.NewPool(cognitoemu.PoolSpec{Users: 400, Groups: 8, Seed: 21})
	var role string
	for _, g := range base.Groups() {
		if g.RoleArn != nil {
			role = g.Name
			break
		}
	}
	m := cognitoemu.Mutations{DisableUsers: []int{1, 2}}
	roleIdx := slices.Index(groupNames(base.Groups()), role)
	for u := 0; len(m.AddMemberships) < 5; u++ {
		if !slices.Contains(base.UserGroups(u, nil), roleIdx) {
			m.AddMemberships = append(m.AddMemberships, cognitoemu.Membership{User: u, Group: role})
		}
	}
	after, err := base.Mutate(m)
	if err != nil {
		t.Fatal(err)
	}
	export := func(p *cognitoemu.Pool, out string, args ...string) {
		env := cleanEnv(append(s3srv.Env(), "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER="+serveEmu(t, p))...)
		all := append([]string{"export", "--user-pool-id", p.ID(), "--output", out, "--attributes", strings.Join(diffAttributes, ","),
			"--rate", "UserResourceRead=0", "--rate", "UserList=0", "--rate", "UserPoolResourceRead=0", "--rate", "UserPoolRead=0"}, args...)
		if r := runCLI(t, env, all...); r.code != 0 {
			t.Fatalf("export to %s: exit %d: %s", out, r.code, r.stderr)
		}
	}
	export(base, "s3://exports/pool/dt=1/", "--format", "csv", "--report")
	export(after, "s3://exports/pool/dt=2/", "--format", "csv", "--report")
	object := func(key string) string { return filepath.Join(s3srv.Dir, "exports", filepath.FromSlash(key)) }

	got := readReport(t, object("pool/dt=2/report.json"))
	if st, err := os.Stat(object("pool/dt=2/report.html")); err != nil || st.Size() < 1000 {
		t.Fatalf("report.html on S3: %v", err)
	}
	if got.Previous == nil || got.Previous.Location != "s3://exports/pool/dt=1/" {
		t.Fatalf("previous %+v, want s3://exports/pool/dt=1/", got.Previous)
	}
	want := expectedFindings(after, 10)
	var added []string
	for _, ms := range m.AddMemberships {
		u := after.User(ms.User)
		added = append(added, u.Username+"|"+u.Sub+"|"+role)
	}
	slices.Sort(added)
	want["PRIVILEGED_MEMBERS_ADDED"] = added
	for _, id := range []string{"DISABLED_WITH_GROUPS", "PRIVILEGED_NOT_CONFIRMED", "UNVERIFIED_EMAIL_PRIVILEGED", "PRIVILEGED_MEMBERS_ADDED"} {
		if rows, _ := got.rows(t, id); len(want[id]) == 0 || !slices.Equal(rows, want[id]) {
			t.Errorf("%s from the CSV export on S3: %d rows, the emulator says %d", id, len(rows), len(want[id]))
		}
	}

	// report: S3 in, S3 out, report.json capped at 3 rows a finding.
	env := cleanEnv(s3srv.Env()...)
	if r := runCLI(t, env, "report", "s3://exports/pool/dt=2/", "--previous", "latest", "--output", "s3://exports/reviews/r.html",
		"--max-finding-rows", "3"); r.code != 0 {
		t.Fatalf("report to S3: exit %d: %s", r.code, r.stderr)
	}
	capped := readReport(t, object("reviews/r.json"))
	if _, err := os.Stat(object("reviews/r.html")); err != nil {
		t.Fatal(err)
	}
	for i, f := range capped.Findings {
		full := got.Findings[i]
		if f.ID != full.ID || f.Count != full.Count || len(f.Rows) != min(3, int(full.Count)) || f.Truncated != (full.Count > 3) {
			t.Errorf("%s capped at 3: count %d, %d rows, truncated %v; uncapped count %d", f.ID, f.Count, len(f.Rows), f.Truncated, full.Count)
		}
	}

	// The same pool in Parquet on local disk: the same findings.
	local := filepath.Join(t.TempDir(), "parquet")
	exportTo(t, serveEmu(t, after), after.ID(), local)
	page := filepath.Join(t.TempDir(), "p.html")
	runReportCLI(t, local, "--output", page)
	pq := readReport(t, strings.TrimSuffix(page, ".html")+".json")
	for i, f := range pq.Findings {
		if f.Count != got.Findings[i].Count && f.Evaluated {
			t.Errorf("%s: Parquet gives %d, CSV %d", f.ID, f.Count, got.Findings[i].Count)
		}
	}
}
