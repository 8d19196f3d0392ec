package report

import (
	"slices"
	"testing"

	"github.com/cognito-export/cognito-export/sink"
)

// fiveUsers are e, d, c, b, a, in that order: kept rows that are the
// first scanned differ from those first by name.
var fiveUsers = []string{"e", "d", "c", "b", "a"}

func eachUser(f func(name string) []member) []member {
	var rows []member
	for _, n := range fiveUsers {
		rows = append(rows, f(n)...)
	}
	return rows
}

func eachGroup(role func(name string) string) []sink.ManifestGroup {
	var gs []sink.ManifestGroup
	for _, n := range fiveUsers {
		gs = append(gs, grp(n, role(n)))
	}
	return gs
}

// TestFindingRowsCap: past Options.MaxFindingRows a finding keeps the
// count exact, says it is truncated, and keeps rows that do not depend on
// chance (the first scanned, or the first by name where the rule gathers
// from a map).
func TestFindingRowsCap(t *testing.T) {
	diffOf := func(n int, c func(name string) Change) *Comparison {
		p := &Comparison{}
		for _, name := range fiveUsers[:n] {
			p.RoleChanges = append(p.RoleChanges, c(name))
			p.Privileged = append(p.Privileged, c(name))
		}
		return p
	}
	cases := []struct {
		id, name string
		export   export
		opts     Options
		count    int64
		rows     []string // in the order the report lists them
	}{
		{id: "DISABLED_WITH_GROUPS", name: "first_scanned", count: 5,
			export: export{rows: eachUser(func(n string) []member { return []member{u(n).off().in("g")} })},
			rows:   []string{"d|sub-d|g|", "e|sub-e|g|"}},
		{id: "PRIVILEGED_NOT_CONFIRMED", name: "first_scanned", count: 5,
			export: export{rows: eachUser(func(n string) []member { return []member{u(n).is("UNCONFIRMED").in("g").role(arnOps)} })},
			rows:   []string{"d|sub-d|g|UNCONFIRMED", "e|sub-e|g|UNCONFIRMED"}},
		{id: "UNVERIFIED_EMAIL_PRIVILEGED", name: "first_scanned", count: 5,
			export: export{attrs: []sink.ManifestAttribute{attr("email_verified")},
				rows: eachUser(func(n string) []member { return []member{u(n).in("g").role(arnOps).set("email_verified", "false")} })},
			rows: []string{"d|sub-d|g|", "e|sub-e|g|"}},
		{id: "TOO_MANY_GROUPS", name: "first_by_name", count: 5, opts: Options{MaxGroupsPerUser: 1},
			export: export{rows: eachUser(func(n string) []member { return []member{u(n).in("g1"), u(n).in("g2")} })},
			rows:   []string{"a|sub-a||2", "b|sub-b||2"}},
		// Three role ARNs, each granted by two groups: the rows kept are
		// the first by group name, whatever order the ARNs come in.
		{id: "SHARED_ROLE_ARN", name: "first_by_name", count: 6,
			export: export{groups: []sink.ManifestGroup{grp("a", arnOps), grp("b", arnAdmin), grp("c", arnAudit),
				grp("d", arnOps), grp("e", arnAdmin), grp("f", arnAudit)}},
			rows: []string{"||a|" + arnOps, "||b|" + arnAdmin}},
		{id: "EMPTY_GROUP", name: "first_listed", count: 5,
			export: export{groups: eachGroup(func(string) string { return "" })},
			rows:   []string{"||d|", "||e|"}},
		{id: "ROLE_OR_PRECEDENCE_CHANGED", name: "first_in_the_diff", count: 5,
			opts: Options{Previous: diffOf(5, func(n string) Change {
				return Change{Change: "group_added", GroupName: n, GroupRoleArn: arnOps}
			})},
			rows: []string{"||d|group_added: " + arnOps, "||e|group_added: " + arnOps}},
		{id: "PRIVILEGED_MEMBERS_ADDED", name: "first_in_the_diff", count: 5,
			opts: Options{Previous: diffOf(5, func(n string) Change {
				return Change{Change: "membership_added", Username: n, UserSub: "sub-" + n, GroupName: "ops", GroupRoleArn: arnOps}
			})},
			rows: []string{"d|sub-d|ops|" + arnOps, "e|sub-e|ops|" + arnOps}},
		// The diff capped its rows: the count is its per-group count.
		{id: "PRIVILEGED_MEMBERS_ADDED", name: "capped_by_the_diff", count: 5,
			opts: Options{Previous: &Comparison{
				Privileged: []Change{{Change: "membership_added", Username: "a", UserSub: "sub-a", GroupName: "ops", GroupRoleArn: arnOps}},
				ByGroup:    []GroupDelta{{Group: "ops", RoleArn: arnOps, MembershipsAdded: 5}, {Group: "plain", MembershipsAdded: 9}},
				Truncated:  true,
			}},
			rows: []string{"a|sub-a|ops|" + arnOps}},
	}
	for _, c := range cases {
		t.Run(c.id+"/"+c.name, func(t *testing.T) {
			c.opts.MaxFindingRows = 2
			f := findingsOf(t, c.export, c.opts)[c.id]
			if f.Count != c.count || !f.Truncated {
				t.Fatalf("count %d, truncated %v: want %d, truncated", f.Count, f.Truncated, c.count)
			}
			if got := rowText(f.Rows); !slices.Equal(got, c.rows) {
				t.Fatalf("rows\n got %q\nwant %q", got, c.rows)
			}
		})
	}
}

// TestFindingAtTheCap: as many rows as the cap is not truncated.
func TestFindingAtTheCap(t *testing.T) {
	e := export{rows: []member{u("a").off().in("g"), u("b").off().in("g")}}
	f := findingsOf(t, e, Options{MaxFindingRows: 2})["DISABLED_WITH_GROUPS"]
	if f.Count != 2 || len(f.Rows) != 2 || f.Truncated {
		t.Fatalf("count %d, %d rows, truncated %v: want 2, 2, not truncated", f.Count, len(f.Rows), f.Truncated)
	}
}

// TestFindingRowsAreSorted: the page lists a finding's rows by group, then
// user, whatever order they were found in.
func TestFindingRowsAreSorted(t *testing.T) {
	e := export{rows: []member{u("b").off().in("y"), u("a").off().in("y"), u("c").off().in("x"), u("a").withSub("s0").off().in("y")}}
	got := rowText(findingsOf(t, e, Options{})["DISABLED_WITH_GROUPS"].Rows)
	want := []string{"c|sub-c|x|", "a|s0|y|", "a|sub-a|y|", "b|sub-b|y|"}
	if !slices.Equal(got, want) {
		t.Fatalf("rows\n got %q\nwant %q", got, want)
	}
}
