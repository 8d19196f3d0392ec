package report

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/cognito-export/cognito-export/reader"
	"github.com/cognito-export/cognito-export/sink"
)

// groupText is a row of the groups table as one line.
func groupText(g Group) string {
	s := fmt.Sprintf("%s role=%q desc=%q members=%d privileged=%v", g.Name, g.RoleArn, g.Description, g.Members, g.Privileged)
	if g.Precedence != nil {
		s += fmt.Sprintf(" precedence=%d", *g.Precedence)
	}
	if g.Added != nil {
		s += fmt.Sprintf(" +%d -%d", *g.Added, *g.Removed)
	}
	return s
}

func groupsTable(gs []Group) []string {
	var out []string
	for _, g := range gs {
		out = append(out, groupText(g))
	}
	return out
}

// scanned is an export that exercises the scan: groups listed and not,
// a user without groups, a re-created user, a named privileged group.
func scanned() export {
	one := int32(1)
	desc := "Operators"
	ops := grp("ops", arnOps)
	ops.Precedence, ops.Description = &one, &desc
	late := func(m member, role, precedence string) member {
		m.roleArn, m.precedence, m.description = role, precedence, "Late"
		return m.in("late")
	}
	return export{
		groups: []sink.ManifestGroup{ops, grp("readers", ""), grp("spare", ""), grp("board", "")},
		attrs:  []sink.ManifestAttribute{attr("email"), redacted("phone_number")},
		rows: []member{
			u("alice").in("ops").set("email", "alice@example.com"), u("alice").in("readers"),
			u("bob").is("UNCONFIRMED").off().in("ops").set("email", "bob@example.com"),
			u("carol"),
			// A group the manifest does not list: its first row describes it.
			late(u("dave").is("FORCE_CHANGE_PASSWORD"), arnAudit, "7"),
			late(u("erin"), arnAdmin, "9"),
			u("frank").in("board"),
			u("alice").withSub("sub-alice-2").in("board"),
			u("grace").in("odd").role(arnOps).set("email", "grace@example.com"),
		},
	}
}

// TestGroupsTable: members counted per group, groups only the rows show
// described by their first row, privileged ones first.
func TestGroupsTable(t *testing.T) {
	e := scanned()
	e.rows = append(e.rows, member{user: "henry", sub: "sub-henry", status: "CONFIRMED", group: "bad", precedence: "x"})
	a := e.scan(t, Options{Privileged: []string{"board"}})
	got := groupsTable(a.groupRows(nil))
	want := []string{
		`board role="" desc="" members=2 privileged=true`,
		`late role="` + arnAudit + `" desc="Late" members=2 privileged=true precedence=7`,
		`odd role="` + arnOps + `" desc="" members=1 privileged=true`,
		`ops role="` + arnOps + `" desc="Operators" members=2 privileged=true precedence=1`,
		`bad role="" desc="" members=1 privileged=false`,
		`readers role="" desc="" members=1 privileged=false`,
		`spare role="" desc="" members=0 privileged=false`,
	}
	if !slices.Equal(got, want) {
		t.Fatalf("groups\n got %s\nwant %s", strings.Join(got, "\n     "), strings.Join(want, "\n     "))
	}

	// With a previous export every group has its added and removed
	// counts, 0 where the diff names it not.
	prev := &Comparison{ByGroup: []GroupDelta{{Group: "ops", RoleArn: arnOps, MembershipsAdded: 1, MembershipsRemoved: 2}}}
	for _, g := range a.groupRows(prev) {
		wantAdded, wantRemoved := int64(0), int64(0)
		if g.Name == "ops" {
			wantAdded, wantRemoved = 1, 2
		}
		if g.Added == nil || *g.Added != wantAdded || *g.Removed != wantRemoved {
			t.Errorf("with a previous export: %s", groupText(g))
		}
	}
}

// TestExportRef: users are (username, sub) pairs, rows include users
// without groups, and the groups are those listed and those seen.
func TestExportRef(t *testing.T) {
	a := scanned().scan(t, Options{})
	var side Side
	side.Manifest = scanned().manifest()
	side.Manifest.SHA256, side.Manifest.Format, side.Location = "abc", "parquet", "/exports/day1"
	side.Signature = reader.Signature{Present: true, Valid: true, Fingerprint: "SHA256:k", CheckedAgainst: "allowed", Principals: []string{"a@example.com"}}
	got := a.ref(side)
	want := ExportRef{Location: "/exports/day1", PoolID: "eu-west-1_Rules", Region: "eu-west-1",
		ExportedAt: "2026-03-01T00:00:00.000Z", ManifestSHA256: "abc", Format: "parquet",
		Users: 8, Rows: 9, Groups: 6, Memberships: 8,
		Signature: &SignatureRef{Signed: true, KeyFingerprint: "SHA256:k", Checked: true, AllowedSigners: "allowed", Principals: []string{"a@example.com"}}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("export\n got %+v\nwant %+v", got, want)
	}
}

// TestUsersByStatus: a user counts once whatever its groups; most first,
// ties by name.
func TestUsersByStatus(t *testing.T) {
	got := scanned().scan(t, Options{}).statuses()
	want := []Count{{"CONFIRMED", 6}, {"FORCE_CHANGE_PASSWORD", 1}, {"UNCONFIRMED", 1}}
	if !slices.Equal(got, want) {
		t.Fatalf("statuses %v, want %v", got, want)
	}
}

func memberText(m Member) string {
	return fmt.Sprintf("%s %s|%s %s enabled=%v %v", m.Group, m.Username, m.UserSub, m.Status, m.Enabled, m.Attrs)
}

// TestPrivilegedMembers: every membership of a group with a role ARN or
// named privileged, each user counted once, sorted by group then user;
// redacted attributes are not columns.
func TestPrivilegedMembers(t *testing.T) {
	a := scanned().scan(t, Options{Privileged: []string{"board"}})
	p := a.privileged()
	if !slices.Equal(a.attrCols, []string{"email"}) {
		t.Errorf("attribute columns %v, want [email]: phone_number is redacted", a.attrCols)
	}
	if !slices.Equal(p.Groups, []string{"board", "late", "odd", "ops"}) || p.Total != 7 || p.Users != 7 || p.Truncated {
		t.Fatalf("groups %v, %d memberships, %d users, truncated %v: want [board late odd ops], 7, 7, no", p.Groups, p.Total, p.Users, p.Truncated)
	}
	var got []string
	for _, m := range p.Members {
		got = append(got, memberText(m))
	}
	want := []string{
		"board alice|sub-alice-2 CONFIRMED enabled=true []",
		"board frank|sub-frank CONFIRMED enabled=true []",
		"late dave|sub-dave FORCE_CHANGE_PASSWORD enabled=true []",
		"late erin|sub-erin CONFIRMED enabled=true []",
		"odd grace|sub-grace CONFIRMED enabled=true [grace@example.com]",
		"ops alice|sub-alice CONFIRMED enabled=true [alice@example.com]",
		"ops bob|sub-bob UNCONFIRMED enabled=false [bob@example.com]",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("members\n got %s\nwant %s", strings.Join(got, "\n     "), strings.Join(want, "\n     "))
	}
}

// TestPrivilegedUsersCountOnce: a user in two privileged groups is two
// memberships and one user.
func TestPrivilegedUsersCountOnce(t *testing.T) {
	e := export{rows: []member{u("a").in("x").role(arnOps), u("a").in("y").role(arnAdmin), u("b").in("x").role(arnOps), u("c").in("z")}}
	p := e.scan(t, Options{}).privileged()
	if p.Total != 3 || p.Users != 2 {
		t.Fatalf("%d memberships, %d users: want 3, 2", p.Total, p.Users)
	}
}

// TestPrivilegedMembersCap: past MaxListed the members listed are the
// first scanned, the counts stay exact and Truncated says so.
func TestPrivilegedMembersCap(t *testing.T) {
	e := export{rows: eachUser(func(n string) []member { return []member{u(n).in("ops").role(arnOps)} })}
	p := e.scan(t, Options{MaxListed: 2}).privileged()
	var got []string
	for _, m := range p.Members {
		got = append(got, m.Username)
	}
	if !slices.Equal(got, []string{"d", "e"}) || p.Total != 5 || p.Users != 5 || !p.Truncated {
		t.Fatalf("members %v, %d memberships, %d users, truncated %v: want [d e], 5, 5, truncated", got, p.Total, p.Users, p.Truncated)
	}
	p = e.scan(t, Options{MaxListed: 5}).privileged()
	if len(p.Members) != 5 || p.Truncated {
		t.Fatalf("at the cap: %d members, truncated %v", len(p.Members), p.Truncated)
	}
}

// TestEmptyScan: an export without rows is a report of nothing, with
// empty lists rather than nulls in report.json.
func TestEmptyScan(t *testing.T) {
	a := export{}.scan(t, Options{})
	p := a.privileged()
	if p.Members == nil || p.Groups == nil || a.attrCols == nil || len(a.statuses()) != 0 || len(a.groupRows(nil)) != 0 {
		t.Fatalf("empty export: %+v, attributes %v", p, a.attrCols)
	}
}
