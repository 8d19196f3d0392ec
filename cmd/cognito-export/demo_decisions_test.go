package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cognito-export/cognito-export/decisions"
	"github.com/cognito-export/cognito-export/review"
)

// TestMakeDemoClosesTheReviewLoop runs make demo's own demo lines, on a
// smaller pool: day 1 writes a reviewer's decisions (a few revokes, the
// rest kept, a group undecided), and day 2's report checks them, half the
// revocations carried out in between: its report.json counts the
// decisions and REVOKE_NOT_APPLIED holds the rest.
func TestMakeDemoClosesTheReviewLoop(t *testing.T) {
	t.Parallel()
	mk, err := os.ReadFile(filepath.Join(repoRoot, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	recipe := strings.SplitN(string(mk), "\ndemo: build\n", 2)
	if len(recipe) != 2 {
		t.Fatal("the Makefile has no demo target")
	}
	dir := t.TempDir()
	var days [][]string
	for _, line := range strings.Split(recipe[1], "\n") {
		if !strings.HasPrefix(line, "\t") {
			break
		}
		if words := shellWords(strings.TrimSpace(line)); len(words) > 1 && words[0] == "$(BIN)" {
			for i, w := range words {
				words[i] = strings.ReplaceAll(w, "cognito-export-demo", filepath.Join(dir, "cognito-export-demo"))
			}
			days = append(days, append(words[1:], "--users", "2000"))
		}
	}
	if len(days) != 2 {
		t.Fatalf("make demo runs %d demos, want day 1 and day 2", len(days))
	}
	for _, args := range days {
		if r := runCLI(t, cleanEnv(), args...); r.code != 0 {
			t.Fatalf("%v: exit %d: %s", args, r.code, r.stderr)
		}
	}
	day1, day2 := filepath.Join(dir, "cognito-export-demo", "day1"), filepath.Join(dir, "cognito-export-demo", "day2")
	f, err := os.Open(filepath.Join(day1, "decisions.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ds, err := decisions.Read(f)
	if err != nil {
		t.Fatalf("day 1's decisions: %v", err)
	}
	var revokes int64
	for _, d := range ds {
		if d.Reviewer != review.DemoReviewer {
			t.Errorf("a decision by %q", d.Reviewer)
		}
		if d.Verdict == decisions.Revoke {
			revokes++
		}
	}
	if revokes < 2 || revokes > 6 || int64(len(ds)) < 10*revokes {
		t.Errorf("day 1 decided %d memberships, %d revoked: want a few revokes and the rest kept", len(ds), revokes)
	}

	var r struct {
		Decisions *struct {
			Decisions, Kept, Revoked int64
			Done                     int64 `json:"revoked_carried_out"`
			Present                  int64 `json:"revoked_still_present"`
			Readded                  int64 `json:"revoked_readded"`
			Unreviewed               int64
		} `json:"decisions"`
	}
	data, err := os.ReadFile(filepath.Join(day2, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &r); err != nil || r.Decisions == nil {
		t.Fatalf("day 2's report.json has no decisions (%v)", err)
	}
	s := *r.Decisions
	if s.Decisions != int64(len(ds)) || s.Revoked != revokes || s.Kept != s.Decisions-revokes {
		t.Errorf("day 2 counts %+v, day 1 decided %d with %d revokes", s, len(ds), revokes)
	}
	// Every other revocation was carried out (the pool's other changes
	// may have taken more); the rest are still there.
	if s.Done < (revokes+1)/2 || s.Present == 0 || s.Done+s.Present+s.Readded != revokes || s.Unreviewed == 0 {
		t.Errorf("day 2: %+v of %d revokes", s, revokes)
	}
	notApplied, evaluated := readReport(t, filepath.Join(day2, "report.json")).rows(t, "REVOKE_NOT_APPLIED")
	if !evaluated || int64(len(notApplied)) != s.Present {
		t.Errorf("REVOKE_NOT_APPLIED %q (evaluated %v), want the %d still present", notApplied, evaluated, s.Present)
	}
	if page, _ := os.ReadFile(filepath.Join(day2, "report.html")); !strings.Contains(string(page), "<h2>Decisions of the previous review</h2>") {
		t.Error("day 2's report.html has no section on the previous review's decisions")
	}
}

// TestDemoDecideNeedsItsReport: --decide decides on the day's report, so
// without one it is a usage error, and --carry-out of a file that is not
// a decisions file is one too; nothing is exported either way.
func TestDemoDecideNeedsItsReport(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bad := filepath.Join(dir, "not-decisions.csv")
	if err := os.WriteFile(bad, []byte("a,b\n1,2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--decide", "--report=false"}, "--decide decides on the report"},
		{[]string{"--carry-out", bad}, "missing column"},
	} {
		out := filepath.Join(dir, "out")
		r := runCLI(t, cleanEnv(), append([]string{"demo", "--users", "50", "--output", out}, c.args...)...)
		if _, err := os.Stat(filepath.Join(out, "manifest.json")); r.code != 2 || !strings.Contains(r.stderr, c.want) || err == nil {
			t.Errorf("demo %v: exit %d, manifest %v: %s", c.args, r.code, err == nil, r.stderr)
		}
	}
}
