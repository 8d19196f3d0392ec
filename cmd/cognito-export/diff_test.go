package main

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cognito-export/cognito-export/identity"
	"github.com/cognito-export/cognito-export/internal/cognitoemu"
	"github.com/cognito-export/cognito-export/internal/duckdb"
)

// diffAttributes are exported by every export of these tests.
var diffAttributes = []string{"email", "name", "email_verified"}

// snapshots is a pool before and after a list of mutations, each served
// by its own emulator under the same pool id.
type snapshots struct {
	before, after       *cognitoemu.Pool
	beforeURL, afterURL string
}

func newSnapshots(t *testing.T, spec cognitoemu.PoolSpec, m cognitoemu.Mutations) snapshots {
	t.Helper()
	before := cognitoemu.NewPool(spec)
	after, err := before.Mutate(m)
	if err != nil {
		t.Fatal(err)
	}
	s := snapshots{before: before, after: after}
	for _, p := range []struct {
		pool *cognitoemu.Pool
		url  *string
	}{{before, &s.beforeURL}, {after, &s.afterURL}} {
		hs := httptest.NewServer(cognitoemu.NewServer(cognitoemu.Options{}, p.pool))
		t.Cleanup(hs.Close)
		*p.url = hs.URL
	}
	return s
}

// exportTo exports the pool served at url into dir.
func exportTo(t *testing.T, url, poolID, dir string, args ...string) {
	t.Helper()
	env := cleanEnv(append(creds(), "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER="+url)...)
	all := append([]string{"export", "--user-pool-id", poolID, "--output", dir, "--rate", "UserResourceRead=0", "--rate", "UserList=0",
		"--rate", "UserPoolResourceRead=0", "--rate", "UserPoolRead=0", "--attributes", strings.Join(diffAttributes, ",")}, args...)
	if r := runCLI(t, env, all...); r.code != 0 {
		t.Fatalf("export %v: exit %d: %s", args, r.code, lastLine(r.stderr))
	}
}

// changeKey is a change row as both the oracle and DuckDB give it.
type changeKey struct{ kind, username, sub, group, field, old, new string }

func expectedChanges(s snapshots) []changeKey {
	var out []changeKey
	for _, c := range cognitoemu.Changes(s.before, s.after, diffAttributes, identity.ColumnName) {
		out = append(out, changeKey{c.Kind, c.Username, c.Sub, c.Group, c.Field, c.Old, c.New})
	}
	return sortKeys(out)
}

func sortKeys(k []changeKey) []changeKey {
	slices.SortFunc(k, func(a, b changeKey) int {
		return cmp.Or(cmp.Compare(a.kind, b.kind), cmp.Compare(a.username, b.username), cmp.Compare(a.sub, b.sub),
			cmp.Compare(a.group, b.group), cmp.Compare(a.field, b.field), cmp.Compare(a.old, b.old), cmp.Compare(a.new, b.new))
	})
	return k
}

// readChanges reads a diff's change rows with DuckDB.
func readChanges(t *testing.T, dir, format string) []changeKey {
	t.Helper()
	from := fmt.Sprintf("read_parquet(%s)", duckdb.Quote(filepath.Join(dir, "part-*.parquet")))
	if format == "csv" {
		// all_varchar: the cells are text; neutralised ones start with a
		// quote that a spreadsheet hides and this strips.
		from = fmt.Sprintf("read_csv(%s, header=true, all_varchar=true, quote='\"', escape='\"')", duckdb.Quote(filepath.Join(dir, "part-*.csv")))
	}
	unq := func(c string) string {
		if format != "csv" {
			return fmt.Sprintf("coalesce(%s, '')", c)
		}
		return fmt.Sprintf(`coalesce(CASE WHEN regexp_matches(%[1]s, '^''[=+\-@\t\r'']') THEN substr(%[1]s, 2) ELSE %[1]s END, '')`, c)
	}
	res := duckdb.Query(t, fmt.Sprintf("SELECT change, %s, %s, %s, %s, %s, %s FROM %s",
		unq("username"), unq("user_sub"), unq("group_name"), unq("field"), unq("old_value"), unq("new_value"), from))
	var out []changeKey
	for _, r := range res.Rows {
		s := make([]string, len(r))
		for i, v := range r {
			s[i], _ = v.(string)
		}
		out = append(out, changeKey{s[0], s[1], s[2], s[3], s[4], s[5], s[6]})
	}
	return sortKeys(out)
}

func sameChanges(t *testing.T, label string, got, want []changeKey) {
	t.Helper()
	if slices.Equal(got, want) {
		return
	}
	var missing, extra []changeKey
	for _, w := range want {
		if !slices.Contains(got, w) {
			missing = append(missing, w)
		}
	}
	for _, g := range got {
		if !slices.Contains(want, g) {
			extra = append(extra, g)
		}
	}
	t.Fatalf("%s: %d change rows, want %d\nmissing (first 10): %v\nextra (first 10): %v", label, len(got), len(want),
		missing[:min(10, len(missing))], extra[:min(10, len(extra))])
}

// TestDiffHoldsEveryChangeOfTheMutationList exports a pool before and
// after a realistic list of mutations with both strategies and both
// formats, diffs every combination (in both output formats, spilled into
// several partitions) and holds the change rows, read by DuckDB, against
// the emulator's own account of what changed.
func TestDiffHoldsEveryChangeOfTheMutationList(t *testing.T) {
	if testing.Short() {
		t.Skip("exports 8 times and reads 16 diffs with DuckDB")
	}
	duckdb.Require(t)
	spec := cognitoemu.PoolSpec{ID: "eu-west-1_DiffPool1", Users: 700, Groups: 14, Seed: 21}
	before := cognitoemu.NewPool(spec)
	s := newSnapshots(t, spec, cognitoemu.RandomMutations(before, 5, 0.02))
	want := expectedChanges(s)
	kinds := map[string]int{}
	for _, c := range want {
		kinds[c.kind]++
	}
	for _, k := range []string{"user_added", "user_removed", "user_changed", "membership_added", "membership_removed", "group_added", "group_removed", "group_changed"} {
		if kinds[k] == 0 {
			t.Fatalf("the mutations make no %s: the test would not test it (%v)", k, kinds)
		}
	}
	root := t.TempDir()
	type export struct{ name, dir string }
	var olds, news []export
	for _, strategy := range []string{"per-user", "by-group"} {
		for _, format := range []string{"parquet", "csv"} {
			name := strategy + "-" + format
			o, n := filepath.Join(root, "old-"+name), filepath.Join(root, "new-"+name)
			exportTo(t, s.beforeURL, spec.ID, o, "--strategy", strategy, "--format", format, "--page-size", "17")
			exportTo(t, s.afterURL, spec.ID, n, "--strategy", strategy, "--format", format, "--page-size", "17")
			olds, news = append(olds, export{name, o}), append(news, export{name, n})
		}
	}
	i := 0
	for _, o := range olds {
		for _, n := range news {
			format := []string{"parquet", "csv"}[i%2]
			i++
			out := filepath.Join(root, fmt.Sprintf("diff-%s-%s", o.name, n.name))
			r := runCLI(t, cleanEnv(), "diff", o.dir, n.dir, "--output", out, "--format", format, "--partitions", "3")
			if r.code != 0 {
				t.Fatalf("diff %s %s: exit %d: %s", o.name, n.name, r.code, r.stderr)
			}
			sameChanges(t, o.name+" → "+n.name, readChanges(t, out, format), want)
			if !strings.Contains(r.stdout, fmt.Sprintf("changes: %d (", len(want))) {
				t.Fatalf("stdout does not count %d changes:\n%s", len(want), r.stdout)
			}
			if v := runCLI(t, cleanEnv(), "verify", out); v.code != 0 {
				t.Fatalf("the diff does not verify: %s", v.stdout)
			}
		}
	}
}

// TestDiffOfTwoRunsOfTheSamePoolIsEmpty: nothing changed, nothing to say,
// and --exit-code says so with 0; an export against itself is refused.
func TestDiffOfTwoRunsOfTheSamePoolIsEmpty(t *testing.T) {
	if testing.Short() {
		t.Skip("exports with the real binary")
	}
	spec := cognitoemu.PoolSpec{ID: "eu-west-1_DiffPool2", Users: 300, Groups: 8, Seed: 3}
	s := newSnapshots(t, spec, cognitoemu.Mutations{DisableUsers: []int{4}})
	root := t.TempDir()
	a, b, c := filepath.Join(root, "a"), filepath.Join(root, "b"), filepath.Join(root, "c")
	exportTo(t, s.beforeURL, spec.ID, a)
	exportTo(t, s.beforeURL, spec.ID, b, "--strategy", "by-group", "--format", "csv")
	exportTo(t, s.afterURL, spec.ID, c)

	r := runCLI(t, cleanEnv(), "diff", a, b, "--output", filepath.Join(root, "ab"), "--exit-code")
	if r.code != 0 || !strings.Contains(r.stdout, "changes: 0 (") {
		t.Fatalf("two runs of one pool: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = runCLI(t, cleanEnv(), "diff", a, c, "--output", filepath.Join(root, "ac"), "--exit-code")
	if r.code != 1 || !strings.Contains(r.stdout, `user_enabled: "true" -> "false"`) && !strings.Contains(r.stdout, "user_changed 1") {
		t.Fatalf("one user disabled, --exit-code: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = runCLI(t, cleanEnv(), "diff", a, a, "--output", filepath.Join(root, "aa"))
	if r.code != 2 || !strings.Contains(r.stderr, "are the same export") {
		t.Fatalf("an export with itself: exit %d: %s", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(root, "aa", "manifest.json")); err == nil {
		t.Fatal("a refused diff wrote a manifest")
	}
}

// TestExportDiffAgainstLatest is the scheduled review: each day's export
// diffs itself against the newest earlier export of the pool beside it,
// passing over what is not one (another pool's export, an unfinished one).
func TestExportDiffAgainstLatest(t *testing.T) {
	if testing.Short() {
		t.Skip("exports with the real binary")
	}
	duckdb.Require(t)
	spec := cognitoemu.PoolSpec{ID: "eu-west-1_DiffPool3", Users: 400, Groups: 10, Seed: 8}
	before := cognitoemu.NewPool(spec)
	s := newSnapshots(t, spec, cognitoemu.RandomMutations(before, 9, 0.03))
	root := t.TempDir()
	day1, day2 := filepath.Join(root, "dt=2026-12-01"), filepath.Join(root, "dt=2026-12-02")

	env := cleanEnv(append(creds(), "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER="+s.beforeURL)...)
	first := runCLI(t, env, "export", "--user-pool-id", spec.ID, "--output", day1, "--attributes", strings.Join(diffAttributes, ","),
		"--rate", "UserList=0", "--rate", "UserResourceRead=0", "--rate", "UserPoolResourceRead=0", "--rate", "UserPoolRead=0", "--diff-against", "latest")
	if first.code != 0 || !strings.Contains(first.stderr, "no earlier complete export of this pool") {
		t.Fatalf("a first run with nothing to diff against: exit %d: %s", first.code, first.stderr)
	}
	if _, err := os.Stat(filepath.Join(day1, "diff")); err == nil {
		t.Fatal("a first run wrote a diff")
	}
	// Beside them: another pool's export, later, and an unfinished one.
	other := cognitoemu.NewPool(cognitoemu.PoolSpec{ID: "eu-west-1_OtherPool", Users: 50, Groups: 3, Seed: 1})
	hs := httptest.NewServer(cognitoemu.NewServer(cognitoemu.Options{}, other))
	t.Cleanup(hs.Close)
	exportTo(t, hs.URL, other.ID(), filepath.Join(root, "dt=2026-12-01b"))
	if err := os.MkdirAll(filepath.Join(root, "dt=2026-12-01c"), 0o755); err != nil {
		t.Fatal(err)
	}

	exportTo(t, s.afterURL, spec.ID, day2, "--format", "csv", "--diff-against", "latest")
	got := readChanges(t, filepath.Join(day2, "diff"), "csv")
	sameChanges(t, "day 2 against latest", got, expectedChanges(s))
	if v := runCLI(t, cleanEnv(), "verify", day2); v.code != 0 {
		t.Fatalf("the diff under the export upsets its verify: %s", v.stdout)
	}
	// Day 2 exported again: its diff is made again, of the new export.
	exportTo(t, s.afterURL, spec.ID, day2, "--format", "csv", "--diff-against", "latest", "--fresh")
	m, _ := os.ReadFile(filepath.Join(day2, "manifest.json"))
	dm, _ := os.ReadFile(filepath.Join(day2, "diff", "manifest.json"))
	sum := sha256.Sum256(m)
	if !strings.Contains(string(dm), hex.EncodeToString(sum[:])) {
		t.Fatal("after --fresh, the diff is still the earlier export's")
	}
	sameChanges(t, "day 2 again", readChanges(t, filepath.Join(day2, "diff"), "csv"), expectedChanges(s))
}

// TestDiffRefusesWhatCannotBeCompared: each refusal is one line and exit
// 2, and leaves no diff that looks complete.
func TestDiffRefusesWhatCannotBeCompared(t *testing.T) {
	if testing.Short() {
		t.Skip("exports with the real binary")
	}
	spec := cognitoemu.PoolSpec{ID: "eu-west-1_DiffPool4", Users: 200, Groups: 6, Seed: 4}
	s := newSnapshots(t, spec, cognitoemu.Mutations{DisableUsers: []int{1}})
	other := cognitoemu.NewPool(cognitoemu.PoolSpec{ID: "eu-west-1_OtherPool", Users: 200, Groups: 6, Seed: 4})
	hs := httptest.NewServer(cognitoemu.NewServer(cognitoemu.Options{}, other))
	t.Cleanup(hs.Close)
	root := t.TempDir()
	dir := func(n string) string { return filepath.Join(root, n) }
	exportTo(t, s.beforeURL, spec.ID, dir("old"))
	exportTo(t, s.afterURL, spec.ID, dir("new"))
	exportTo(t, hs.URL, other.ID(), dir("other"))
	exportTo(t, s.afterURL, spec.ID, dir("no-empty-users"), "--users-without-groups=false")
	keyA := "COGNITO_EXPORT_HMAC_KEY=" + strings.Repeat("key-a-", 8)
	keyB := "COGNITO_EXPORT_HMAC_KEY=" + strings.Repeat("key-b-", 8)
	for _, k := range []struct{ name, key, url string }{{"pseudo-a", keyA, s.beforeURL}, {"pseudo-b", keyB, s.afterURL}, {"pseudo-a2", keyA, s.afterURL}} {
		env := cleanEnv(append(creds(), k.key, "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER="+k.url)...)
		if r := runCLI(t, env, "export", "--user-pool-id", spec.ID, "--output", dir(k.name), "--attributes", "email,name",
			"--pseudonymize", "email", "--rate", "UserList=0", "--rate", "UserResourceRead=0"); r.code != 0 {
			t.Fatalf("export %s: %s", k.name, r.stderr)
		}
	}
	// A corrupt copy of new: one byte of its part flipped.
	if err := os.CopyFS(dir("corrupt"), os.DirFS(dir("new"))); err != nil {
		t.Fatal(err)
	}
	parts, _ := filepath.Glob(filepath.Join(dir("corrupt"), "part-*"))
	data, _ := os.ReadFile(parts[0])
	data[len(data)/2] ^= 1
	os.WriteFile(parts[0], data, 0o644)

	for _, tc := range []struct {
		name     string
		args     []string
		code     int
		contains string
	}{
		{"two pools", []string{dir("old"), dir("other")}, 2, "--allow-different-pools"},
		{"keys differ", []string{dir("pseudo-a"), dir("pseudo-b")}, 2, "pseudonymise with different keys"},
		{"corrupt", []string{dir("old"), dir("corrupt")}, 2, "is not intact"},
		{"users without groups in one only", []string{dir("old"), dir("no-empty-users")}, 2, "--users-without-groups"},
		{"missing", []string{dir("old"), dir("nothing-here")}, 2, "no complete export"},
		{"one location", []string{dir("old")}, 2, "want two export locations"},
		{"bad format", []string{dir("old"), dir("new"), "--format", "xlsx"}, 2, "--format"},
		{"two pools allowed", []string{dir("old"), dir("other"), "--allow-different-pools"}, 0, "changes:"},
		{"same key", []string{dir("pseudo-a"), dir("pseudo-a2")}, 0, "changes: 1 ("},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "diff")
			r := runCLI(t, cleanEnv(), append([]string{"diff", "--output", out}, tc.args...)...)
			if r.code != tc.code || !strings.Contains(r.stdout+r.stderr, tc.contains) {
				t.Fatalf("exit %d, want %d with %q:\n%s%s", r.code, tc.code, tc.contains, r.stdout, r.stderr)
			}
			_, err := os.Stat(filepath.Join(out, "manifest.json"))
			if tc.code != 0 {
				if err == nil {
					t.Fatal("a refused diff wrote a manifest")
				}
				if lines := strings.Count(strings.TrimSpace(r.stderr), "\n"); lines > 0 {
					t.Fatalf("a refusal in %d lines:\n%s", lines+1, r.stderr)
				}
			} else if err != nil {
				t.Fatal("no manifest after a diff that succeeded")
			}
		})
	}
	// A second diff into a complete one is refused; parts an interrupted
	// diff left behind are cleared, not counted.
	done := filepath.Join(root, "d-done")
	if r := runCLI(t, cleanEnv(), "diff", dir("old"), dir("new"), "--output", done); r.code != 0 {
		t.Fatal(r.stderr)
	}
	if r := runCLI(t, cleanEnv(), "diff", dir("old"), dir("new"), "--output", done); r.code != 2 || !strings.Contains(r.stderr, "already holds a complete") {
		t.Fatalf("a diff into a complete one: exit %d: %s", r.code, r.stderr)
	}
	stale := filepath.Join(root, "d-stale")
	os.MkdirAll(stale, 0o755)
	os.WriteFile(filepath.Join(stale, "part-00007.parquet"), []byte("left by a killed diff"), 0o644)
	if r := runCLI(t, cleanEnv(), "diff", dir("old"), dir("new"), "--output", stale); r.code != 0 {
		t.Fatal(r.stderr)
	}
	if v := runCLI(t, cleanEnv(), "verify", stale); v.code != 0 {
		t.Fatalf("a stale part survived the diff: %s", v.stdout)
	}
	// An attribute only one side exported is left out, with a warning.
	exportTo(t, s.afterURL, spec.ID, dir("fewer"), "--attributes", "email")
	r := runCLI(t, cleanEnv(), "diff", dir("old"), dir("fewer"), "--output", dir("d-fewer"))
	if r.code != 0 || !strings.Contains(r.stderr, "only one side") || !strings.Contains(r.stderr, "name") {
		t.Fatalf("one-sided attributes: exit %d: %s", r.code, r.stderr)
	}
}

// TestDiffGroupsWithRoleOnly keeps exactly the full diff's rows about
// groups that grant a role on either side, and about their members.
func TestDiffGroupsWithRoleOnly(t *testing.T) {
	if testing.Short() {
		t.Skip("exports with the real binary")
	}
	duckdb.Require(t)
	spec := cognitoemu.PoolSpec{ID: "eu-west-1_DiffPool5", Users: 500, Groups: 12, Seed: 31}
	before := cognitoemu.NewPool(spec)
	s := newSnapshots(t, spec, cognitoemu.RandomMutations(before, 13, 0.03))
	root := t.TempDir()
	o, n := filepath.Join(root, "old"), filepath.Join(root, "new")
	exportTo(t, s.beforeURL, spec.ID, o)
	exportTo(t, s.afterURL, spec.ID, n)
	r := runCLI(t, cleanEnv(), "diff", o, n, "--output", filepath.Join(root, "d"), "--groups-with-role-only")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	hasRole := map[string]bool{}
	memberOfRoleGroup := map[string]bool{} // username NUL sub
	for _, p := range []*cognitoemu.Pool{s.before, s.after} {
		groups := p.Groups()
		for _, g := range groups {
			if g.RoleArn != nil && *g.RoleArn != "" {
				hasRole[g.Name] = true
			}
		}
	}
	for _, p := range []*cognitoemu.Pool{s.before, s.after} {
		groups := p.Groups()
		for i := range p.NumUsers() {
			if !p.Exists(i) {
				continue
			}
			u := p.User(i)
			for _, g := range p.UserGroups(i, nil) {
				if hasRole[groups[g].Name] {
					memberOfRoleGroup[u.Username+"\x00"+u.Sub] = true
				}
			}
		}
	}
	var want []changeKey
	for _, c := range expectedChanges(s) {
		switch {
		case c.username == "":
			if !hasRole[c.group] {
				continue
			}
		case c.group != "":
			if !hasRole[c.group] {
				continue
			}
		case !memberOfRoleGroup[c.username+"\x00"+c.sub]:
			continue
		}
		want = append(want, c)
	}
	if len(want) == 0 || len(want) == len(expectedChanges(s)) {
		t.Fatalf("%d of %d changes are about role groups: the test would not test the filter", len(want), len(expectedChanges(s)))
	}
	sameChanges(t, "role groups only", readChanges(t, filepath.Join(root, "d"), "parquet"), want)
}
