package remediation_test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cognito-export/cognito-export/decisions"
	"github.com/cognito-export/cognito-export/remediation"
)

// hostile are names a shell would run if they were not quoted: the
// command substitutions, quote breakouts and backticks Cognito allows in
// usernames and group names, and what it does not allow (spaces, line
// breaks, control characters) but a decisions file could hold.
var hostile = []string{
	"$(touch${IFS}pwned)", "';id;'", "`touch${IFS}pwned`", `"$(touch pwned)"`, `\'`, "'", "''", `a'b"c`,
	"x;touch pwned", "|touch${IFS}pwned", "&&touch${IFS}pwned", "${PATH}", "~root", "*", "-rf", "--debug", "--region=evil",
	"line\ntouch pwned", "cr\rx", "tab\tx", "space x", "\x1b[2Jesc", "\u202ertl", "名前", "🚀",
}

// shells run the scripts: dash (Debian's /bin/sh, the strictest common
// shell) and bash, which an administrator may run them with instead.
var shells = []string{"/bin/sh", "/bin/bash"}

// sh runs a script with each shell in dir, with PATH's first entry bin,
// and fails t unless they printed and exited alike; it returns dash's.
func sh(t *testing.T, dir, bin string, script string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	log := filepath.Join(dir, "args.log")
	var first []byte
	for k, shell := range shells {
		os.Remove(log)
		out, errOut, c := runShell(t, shell, dir, bin, script, args...)
		logged, _ := os.ReadFile(log)
		if k == 0 {
			stdout, stderr, code, first = out, errOut, c, logged
			continue
		}
		if out != stdout || c != code || !bytes.Equal(logged, first) {
			t.Errorf("%s and %s disagree on %s %q: exit %d and %d, printed %q and %q", shells[0], shell, script, args, code, c, stdout, out)
		}
	}
	return stdout, stderr, code
}

func runShell(t *testing.T, shell, dir, bin string, script string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(shell, append([]string{script}, args...)...)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + bin + ":/usr/bin:/bin", "HOME=" + dir, "ARGLOG=" + filepath.Join(dir, "args.log")}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

func TestQuoteIsOneLiteralWord(t *testing.T) {
	dir := t.TempDir()
	for _, v := range hostile {
		script := filepath.Join(dir, "q.sh")
		// Two words: the quoted value must be exactly one, and exactly v.
		if err := os.WriteFile(script, []byte("printf '%s\\000' "+remediation.Quote(v)+" end\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		out, stderr, code := sh(t, dir, dir, script)
		if code != 0 || out != v+"\x00end\x00" {
			t.Errorf("%q quoted as %s: printed %q (exit %d, %s)", v, remediation.Quote(v), out, code, stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "pwned")); err == nil {
		t.Fatal("a quoted value ran a command")
	}
}

// stubAWS is an aws on PATH that records its arguments, NUL-separated,
// one call per line of args.log.
func stubAWS(t *testing.T) string {
	t.Helper()
	bin := t.TempDir()
	stub := "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\000' \"$a\" >> \"$ARGLOG\"; done\nprintf '\\n' >> \"$ARGLOG\"\n"
	if err := os.WriteFile(filepath.Join(bin, "aws"), []byte(stub), 0o755); err != nil {
		t.Fatal(err)
	}
	return bin
}

func calls(t *testing.T, dir string) [][]string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "args.log"))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var out [][]string
	for _, call := range strings.SplitAfter(string(data), "\x00\n") {
		if call == "" {
			continue
		}
		out = append(out, strings.Split(strings.TrimSuffix(call, "\x00\n"), "\x00"))
	}
	return out
}

// sent is what one call asked to remove, from either form of command.
func sent(t *testing.T, call []string) (pool, user, group string, viaJSON bool) {
	t.Helper()
	head := []string{"--region", call[1], "cognito-idp", "admin-remove-user-from-group"}
	if len(call) < 5 || !slices.Equal(call[:4], head) {
		t.Fatalf("call %q is not admin-remove-user-from-group", call)
	}
	if call[4] == "--cli-input-json" && len(call) == 6 {
		var v struct{ UserPoolId, Username, GroupName string }
		if err := json.Unmarshal([]byte(call[5]), &v); err != nil {
			t.Fatalf("call %q: %v", call, err)
		}
		return v.UserPoolId, v.Username, v.GroupName, true
	}
	if len(call) != 7 {
		t.Fatalf("call %q: want --user-pool-id, --username, --group-name", call)
	}
	opt := func(k int, name string) string {
		v, ok := strings.CutPrefix(call[k], "--"+name+"=")
		if !ok {
			t.Fatalf("call %q: argument %d is not --%s=", call, k, name)
		}
		return v
	}
	return opt(4, "user-pool-id"), opt(5, "username"), opt(6, "group-name"), false
}

func sampleScript() remediation.Script {
	at := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	s := remediation.Script{PoolID: "eu-west-1_AbC123", Region: "eu-west-1", Generator: "cognito-export test", WrittenAt: at,
		Export: "/exports/day2\n# injected", ExportSHA256: "ab12", ExportedAt: at, DecisionsFile: "decisions.csv", Policy: "remove-policy.json"}
	for i, v := range hostile {
		s.Remove = append(s.Remove, decisions.Decision{PoolID: s.PoolID, Username: v, Group: "g-" + v, Sub: "sub-" + v, Verdict: decisions.Revoke,
			Reviewer: "Rita\ntouch pwned-by-reviewer", DecidedAt: at.Add(time.Duration(i) * time.Minute), Comment: "left\r\n$(touch pwned-by-comment)", Line: i + 2})
	}
	s.Gone = []decisions.Decision{{Username: "gone\n$(touch pwned-by-gone)", Group: "admins", Verdict: decisions.Revoke, Reviewer: "R", DecidedAt: at}}
	return s
}

// TestScriptRunsExactlyTheDecidedRemovals runs a written script with a
// recording aws: one call per revocation, its arguments exactly the
// decision's values, nothing run from a name, a reviewer or a comment.
func TestScriptRunsExactlyTheDecidedRemovals(t *testing.T) {
	dir, bin := t.TempDir(), stubAWS(t)
	s := sampleScript()
	var buf bytes.Buffer
	if err := remediation.WriteScript(&buf, "remove.sh", s); err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(dir, "remove.sh")
	if err := os.WriteFile(script, buf.Bytes(), 0o700); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := sh(t, dir, bin, script)
	if code != 0 {
		t.Fatalf("exit %d: %s\n%s", code, stderr, buf.String())
	}
	got := calls(t, dir)
	if len(got) != len(s.Remove) {
		t.Fatalf("%d calls of aws, want %d:\n%q", len(got), len(s.Remove), got)
	}
	for k, d := range s.Remove {
		pool, user, group, viaJSON := sent(t, got[k])
		if pool != s.PoolID || user != d.Username || group != d.Group || got[k][1] != "eu-west-1" {
			t.Errorf("call %d sent pool %q, user %q, group %q (%q); want %q in %q", k+1, pool, user, group, got[k], d.Username, d.Group)
		}
		// Names Cognito allows stay readable options; the rest go as JSON.
		if plain := !strings.ContainsAny(d.Username, " \t\r\n\x1b\u202e"); viaJSON == plain {
			t.Errorf("call %d (%q): via --cli-input-json %v", k+1, d.Username, viaJSON)
		}
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "pwned") {
			t.Errorf("%s was created: a value ran as a command", e.Name())
		}
	}
	// A value is only ever inside a comment or a command's quotes: no
	// line break in one starts a line of its own, and every line holds
	// printable characters only.
	for _, line := range strings.Split(buf.String(), "\n") {
		if strings.Contains(line, "pwned") && !strings.HasPrefix(line, "#") && !strings.HasPrefix(line, "$run aws ") {
			t.Errorf("a value starts a line: %q", line)
		}
		if strings.ContainsAny(line, "\r\x1b\u202e") {
			t.Errorf("a line holds a control or bidi character: %q", line)
		}
	}
	if !strings.Contains(buf.String(), "\nset -eu\n") {
		t.Error("no set -eu")
	}
	if want := `decided by "Rita\ntouch pwned-by-reviewer" at 2026-12-05T10:01:00Z, comment "left\r\n$(touch pwned-by-comment)" (line 3)`; !strings.Contains(buf.String(), want) {
		t.Errorf("the second decision's comment line does not say %s", want)
	}
}

func TestScriptDryRunAndRegion(t *testing.T) {
	dir, bin := t.TempDir(), stubAWS(t)
	s := sampleScript()
	s.Remove = s.Remove[:2]
	var buf bytes.Buffer
	if err := remediation.WriteScript(&buf, "remove.sh", s); err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(dir, "remove.sh")
	os.WriteFile(script, buf.Bytes(), 0o700)

	out, stderr, code := sh(t, dir, bin, script, "--dry-run")
	if code != 0 || len(calls(t, dir)) != 0 {
		t.Fatalf("--dry-run: exit %d, %d calls: %s", code, len(calls(t, dir)), stderr)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "would run: aws --region eu-west-1 cognito-idp admin-remove-user-from-group --user-pool-id=eu-west-1_AbC123 --username=$(touch${IFS}pwned) ") {
		t.Fatalf("--dry-run printed:\n%s", out)
	}
	for _, args := range [][]string{{"--region", "us-west-2"}, {"--region=us-west-2"}} {
		os.Remove(filepath.Join(dir, "args.log"))
		if _, stderr, code := sh(t, dir, bin, script, args...); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, stderr)
		}
		for _, c := range calls(t, dir) {
			if c[1] != "us-west-2" {
				t.Errorf("%v: called with %q", args, c)
			}
		}
	}
	for _, args := range [][]string{{"--nope"}, {"--region"}} {
		os.Remove(filepath.Join(dir, "args.log"))
		if _, stderr, code := sh(t, dir, bin, script, args...); code != 2 || len(calls(t, dir)) != 0 || !strings.Contains(stderr, "remove.sh:") {
			t.Errorf("%v: exit %d, %d calls, %q; want exit 2 and nothing run", args, code, len(calls(t, dir)), stderr)
		}
	}
}

// TestValuesTheCLIWouldLoadGoAsJSON: a name starting file:// (a valid
// Cognito username) would make the AWS CLI send a local file's contents;
// such a command passes its values in --cli-input-json instead.
func TestValuesTheCLIWouldLoadGoAsJSON(t *testing.T) {
	dir, bin := t.TempDir(), stubAWS(t)
	s := sampleScript()
	s.Remove = []decisions.Decision{
		{Username: "file://~/.aws/credentials", Group: "admins", Verdict: decisions.Revoke},
		{Username: "alice", Group: "FILEB://$HOME/x", Verdict: decisions.Revoke},
		{Username: "https://x.example/'", Group: "a\"b", Verdict: decisions.Revoke},
	}
	var buf bytes.Buffer
	if err := remediation.WriteScript(&buf, "remove.sh", s); err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(dir, "remove.sh")
	os.WriteFile(script, buf.Bytes(), 0o700)
	if _, stderr, code := sh(t, dir, bin, script); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	got := calls(t, dir)
	if len(got) != len(s.Remove) {
		t.Fatalf("%d calls, want %d", len(got), len(s.Remove))
	}
	for k, d := range s.Remove {
		pool, user, group, viaJSON := sent(t, got[k])
		if !viaJSON || pool != s.PoolID || user != d.Username || group != d.Group {
			t.Errorf("call %d: %q; want %q in %q via --cli-input-json", k+1, got[k], d.Username, d.Group)
		}
	}
}

func TestScriptRefusesWhatNoCommandCanName(t *testing.T) {
	s := sampleScript()
	s.Remove = []decisions.Decision{{Username: "a\x00b", Group: "g", Verdict: decisions.Revoke, Line: 7}}
	if err := remediation.WriteScript(new(bytes.Buffer), "remove.sh", s); err == nil || !strings.Contains(err.Error(), "line 7") {
		t.Fatalf("err = %v, want a refusal naming line 7", err)
	}
	s.Remove[0].Username = "\xff"
	if err := remediation.WriteScript(new(bytes.Buffer), "remove.sh", s); err == nil {
		t.Fatal("a name that is not UTF-8 was written")
	}
}

func TestPolicy(t *testing.T) {
	for _, tc := range []struct{ pool, arn string }{
		{"eu-west-1_AbC123", "arn:aws:cognito-idp:eu-west-1:*:userpool/eu-west-1_AbC123"},
		{"cn-north-1_X1", "arn:aws-cn:cognito-idp:cn-north-1:*:userpool/cn-north-1_X1"},
		{"us-gov-west-1_Y2", "arn:aws-us-gov:cognito-idp:us-gov-west-1:*:userpool/us-gov-west-1_Y2"},
	} {
		var buf bytes.Buffer
		if err := remediation.WritePolicy(&buf, tc.pool); err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Version   string
			Statement []struct{ Effect, Action, Resource string }
		}
		if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
			t.Fatal(err)
		}
		if doc.Version != "2012-10-17" || len(doc.Statement) != 1 || doc.Statement[0].Effect != "Allow" ||
			doc.Statement[0].Action != "cognito-idp:AdminRemoveUserFromGroup" || doc.Statement[0].Resource != tc.arn {
			t.Errorf("%s: %s", tc.pool, buf.String())
		}
	}
	for _, bad := range []string{"", "no-underscore", "eu-west-1_a b", "eu-west-1_x'", "eu-west-1_x\n"} {
		if err := remediation.WritePolicy(new(bytes.Buffer), bad); err == nil {
			t.Errorf("pool %q: a policy was written", bad)
		}
	}
}
