package main

import (
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/cognito-export/cognito-export/internal/cognitoemu"
	"github.com/cognito-export/cognito-export/internal/hubemu"
)

const hubAccount = "111122223333"

// reportFindings are report.json's findings by id.
func reportFindings(t *testing.T, dir string) map[string]struct {
	Severity  string
	Evaluated bool
	Count     int64
} {
	t.Helper()
	var rep struct {
		Findings []struct {
			ID        string `json:"id"`
			Severity  string `json:"severity"`
			Evaluated bool   `json:"evaluated"`
			Count     int64  `json:"count"`
		} `json:"findings"`
	}
	data, err := os.ReadFile(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	out := map[string]struct {
		Severity  string
		Evaluated bool
		Count     int64
	}{}
	for _, f := range rep.Findings {
		out[f.ID] = struct {
			Severity  string
			Evaluated bool
			Count     int64
		}{f.Severity, f.Evaluated, f.Count}
	}
	return out
}

// TestSecurityHubImportsAndUpdatesTheFindings reports a pool on two days
// into Security Hub's emulator: the first import holds every finding
// present; the second, after the disabled users were enabled and members
// added to a role-granting group, updates them in place (the same Ids, the
// first CreatedAt), archives DISABLED_WITH_GROUPS and adds
// PRIVILEGED_MEMBERS_ADDED. A Security Hub that refuses the findings fails
// the report and leaves the ASFF file as it was.
func TestSecurityHubImportsAndUpdatesTheFindings(t *testing.T) {
	spec := cognitoemu.PoolSpec{ID: "us-east-1_HubPool", Users: 400, Groups: 12, Seed: 8}
	before := cognitoemu.NewPool(spec)
	var m cognitoemu.Mutations
	for i := range spec.Users {
		if !before.User(i).Enabled {
			m.EnableUsers = append(m.EnableUsers, i)
		}
	}
	for gi, g := range before.Groups() {
		if g.RoleArn == nil {
			continue
		}
		for i := 0; i < spec.Users && len(m.AddMemberships) < 3; i++ {
			if !slices.Contains(before.UserGroups(i, nil), gi) {
				m.AddMemberships = append(m.AddMemberships, cognitoemu.Membership{User: i, Group: g.Name})
			}
		}
		break
	}
	after, err := before.Mutate(m)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	noPace := []string{"--rate", "UserResourceRead=0", "--rate", "UserList=0", "--rate", "UserPoolResourceRead=0", "--rate", "UserPoolRead=0"}
	for day, pool := range []*cognitoemu.Pool{before, after} {
		srv := httptest.NewServer(cognitoemu.NewServer(cognitoemu.Options{}, pool))
		r := runCLI(t, cleanEnv(creds()...), append([]string{"export", "--endpoint-url", srv.URL, "--user-pool-id", spec.ID,
			"--output", filepath.Join(dir, "day"+strconv.Itoa(day+1))}, noPace...)...)
		srv.Close()
		if r.code != 0 {
			t.Fatalf("export day %d: exit %d: %s", day+1, r.code, lastLine(r.stderr))
		}
	}
	hub := hubemu.New(hubAccount, "us-east-1")
	hubSrv := httptest.NewServer(hub)
	t.Cleanup(hubSrv.Close)
	env := cleanEnv(append(creds(), "AWS_ENDPOINT_URL_SECURITYHUB="+hubSrv.URL)...)
	asffFile := filepath.Join(dir, "findings.asff.json")
	report := func(day, previous string, env []string) result {
		args := []string{"report", filepath.Join(dir, day), "--output", filepath.Join(dir, "review-"+day) + "/",
			"--asff", asffFile, "--asff-account", hubAccount, "--security-hub"}
		if previous != "" {
			args = append(args, "--previous", filepath.Join(dir, previous))
		}
		return runCLI(t, env, args...)
	}
	stored := func() map[string]hubemu.Stored {
		out := map[string]hubemu.Stored{}
		for _, f := range hub.Findings() {
			out[f["GeneratorId"].(string)] = f
		}
		return out
	}

	r := report("day1", "", env)
	if r.code != 0 {
		t.Fatalf("report day 1: exit %d: %s", r.code, r.stderr)
	}
	rep1 := reportFindings(t, filepath.Join(dir, "review-day1"))
	if rep1["DISABLED_WITH_GROUPS"].Count == 0 {
		t.Fatal("day 1 has no DISABLED_WITH_GROUPS: the test would archive nothing")
	}
	first := stored()
	for id, fd := range rep1 {
		f, ok := first["cognito-export/"+id]
		if ok != (fd.Evaluated && fd.Count > 0) {
			t.Errorf("day 1: %s in Security Hub %v, count %d", id, ok, fd.Count)
			continue
		}
		if ok && (f["RecordState"] != "ACTIVE" || f["Severity"].(map[string]any)["Label"] != strings.ToUpper(fd.Severity) ||
			f["ProductFields"].(map[string]any)["cognito-export/count"] != strconv.FormatInt(fd.Count, 10)) {
			t.Errorf("day 1: %s is %v", id, f)
		}
	}
	if !strings.Contains(r.stdout, "security hub: imported") {
		t.Errorf("stdout: %s", r.stdout)
	}

	if r := report("day2", "day1", env); r.code != 0 {
		t.Fatalf("report day 2: exit %d: %s", r.code, r.stderr)
	}
	rep2 := reportFindings(t, filepath.Join(dir, "review-day2"))
	second := stored()
	if n := len(hub.Findings()); n != len(second) {
		t.Fatalf("%d findings stored for %d generators: a re-import duplicated", n, len(second))
	}
	gone := second["cognito-export/DISABLED_WITH_GROUPS"]
	if rep2["DISABLED_WITH_GROUPS"].Count != 0 || gone["RecordState"] != "ARCHIVED" || gone["Id"] != first["cognito-export/DISABLED_WITH_GROUPS"]["Id"] {
		t.Errorf("DISABLED_WITH_GROUPS on day 2: count %d, stored %v", rep2["DISABLED_WITH_GROUPS"].Count, gone)
	}
	added := second["cognito-export/PRIVILEGED_MEMBERS_ADDED"]
	if added == nil || added["RecordState"] != "ACTIVE" || added["ProductFields"].(map[string]any)["cognito-export/count"] != "3" {
		t.Errorf("PRIVILEGED_MEMBERS_ADDED on day 2: %v", added)
	}
	_, updates := hub.Requests()
	kept := 0
	for gen, f := range first {
		if again := second[gen]; again["RecordState"] == "ACTIVE" {
			kept++
			if again["CreatedAt"] != f["CreatedAt"] || again["UpdatedAt"] == f["UpdatedAt"] {
				t.Errorf("%s: created %v then %v, updated %v then %v", gen, f["CreatedAt"], again["CreatedAt"], f["UpdatedAt"], again["UpdatedAt"])
			}
		}
	}
	if kept == 0 || updates < kept+1 {
		t.Errorf("%d findings kept, %d updates", kept, updates)
	}

	// A Security Hub of another account refuses them all: exit 1, and the
	// file still says what the first Security Hub holds.
	before2, _ := os.ReadFile(asffFile)
	other := httptest.NewServer(hubemu.New("444455556666", "us-east-1"))
	t.Cleanup(other.Close)
	r = report("day2", "day1", cleanEnv(append(creds(), "AWS_ENDPOINT_URL_SECURITYHUB="+other.URL)...))
	if r.code != 1 || !strings.Contains(lastLine(r.stderr), "AccessDeniedException") {
		t.Fatalf("refused import: exit %d, %s", r.code, lastLine(r.stderr))
	}
	if after2, _ := os.ReadFile(asffFile); string(after2) != string(before2) {
		t.Fatal("a refused import rewrote the ASFF file")
	}
	if r := runCLI(t, env, "report", filepath.Join(dir, "day1"), "--output", t.TempDir()+"/", "--asff", asffFile); r.code != 2 ||
		!strings.Contains(lastLine(r.stderr), "--asff-account") {
		t.Fatalf("--asff without an account: exit %d, %s", r.code, lastLine(r.stderr))
	}
}
