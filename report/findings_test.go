package report

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cognito-export/cognito-export/decisions"
	"github.com/cognito-export/cognito-export/reader"
	"github.com/cognito-export/cognito-export/sink"
)

const (
	arnOps    = "arn:aws:iam::123456789012:role/ops"
	arnAdmin  = "arn:aws:iam::123456789012:role/admin"
	arnAudit  = "arn:aws:iam::123456789012:role/audit"
	arnRetire = "arn:aws:iam::123456789012:role/retired"
)

// findingCase is one input of one rule and what the rule must make of it.
// Each rule has a case where it fires, one where it does not, and either
// "not_evaluated" (the export lacks what it needs) or "always_evaluated"
// (an empty export is still checked: 0 means none, not unknown).
type findingCase struct {
	name      string
	export    export
	opts      Options
	evaluated bool
	reason    string // a part of Finding.Reason when not evaluated
	count     int64
	rows      []string // "username|sub|group|detail", in any order
}

// The pool most cases share: a group granting a role, one granting none,
// and one granting none but named privileged.
var poolGroups = append(groupsOf("readers", "board"), grp("ops", arnOps))

func inPool(rows ...member) export { return export{groups: poolGroups, rows: rows} }

var findingCases = map[string][]findingCase{
	"DISABLED_WITH_GROUPS": {
		{name: "fires", evaluated: true, count: 2,
			export: export{rows: []member{u("alice").off().in("ops"), u("alice").off().in("readers"), u("bob").in("ops"), u("carol").off()}},
			rows:   []string{"alice|sub-alice|ops|", "alice|sub-alice|readers|"}},
		{name: "does_not_fire", evaluated: true,
			export: export{rows: []member{u("bob").in("ops"), u("carol").off()}}},
		{name: "always_evaluated", evaluated: true},
	},
	"PRIVILEGED_NOT_CONFIRMED": {
		{name: "fires", evaluated: true, count: 6, opts: Options{Privileged: []string{"board"}},
			export: inPool(
				u("u1").is("UNCONFIRMED").in("ops"), u("u2").is("RESET_REQUIRED").in("ops"),
				u("u3").is("FORCE_CHANGE_PASSWORD").in("ops"), u("u4").is("COMPROMISED").in("ops"), u("u5").is("UNKNOWN").in("ops"),
				// The row saw a role ARN the manifest's later list no longer has.
				u("u6").is("UNCONFIRMED").in("readers").role(arnRetire),
				u("u7").is("UNCONFIRMED").in("board"), u("u8").is("CONFIRMED").in("ops"), u("u9").is("EXTERNAL_PROVIDER").in("ops")),
			rows: []string{"u1|sub-u1|ops|UNCONFIRMED", "u2|sub-u2|ops|RESET_REQUIRED", "u3|sub-u3|ops|FORCE_CHANGE_PASSWORD",
				"u4|sub-u4|ops|COMPROMISED", "u5|sub-u5|ops|UNKNOWN", "u6|sub-u6|readers|UNCONFIRMED"}},
		{name: "does_not_fire", evaluated: true, opts: Options{Privileged: []string{"board"}},
			// Not confirmed but in groups granting no role (one of them
			// named privileged), and members of ops who are confirmed.
			export: inPool(u("u7").is("UNCONFIRMED").in("readers"), u("u7").is("UNCONFIRMED").in("board"),
				u("u8").is("CONFIRMED").in("ops"), u("u9").is("EXTERNAL_PROVIDER").in("ops"), u("u10").is("UNCONFIRMED"))},
		{name: "always_evaluated", evaluated: true},
	},
	"ROLE_OR_PRECEDENCE_CHANGED": {
		{name: "fires", evaluated: true, count: 6, opts: Options{Previous: &Comparison{RoleChanges: []Change{
			{Change: "group_changed", GroupName: "ops", Field: "group_role_arn", NewValue: arnOps},
			{Change: "group_changed", GroupName: "ops", Field: "group_precedence", OldValue: "1"},
			{Change: "group_changed", GroupName: "admins", Field: "role_arn", OldValue: arnAdmin, NewValue: arnAudit},
			{Change: "group_changed", GroupName: "admins", Field: "precedence", OldValue: "2", NewValue: "3"},
			{Change: "group_added", GroupName: "auditors", GroupRoleArn: arnAudit},
			{Change: "group_removed", GroupName: "retired", GroupRoleArn: arnRetire},
			{Change: "group_changed", GroupName: "ops", Field: "group_description", OldValue: "a", NewValue: "b"},
			{Change: "group_added", GroupName: "plain"},
		}}},
			rows: []string{"||ops|group_role_arn: (none) → " + arnOps, "||ops|group_precedence: 1 → (none)",
				"||admins|role_arn: " + arnAdmin + " → " + arnAudit, "||admins|precedence: 2 → 3",
				"||auditors|group_added: " + arnAudit, "||retired|group_removed: " + arnRetire}},
		{name: "does_not_fire", evaluated: true, opts: Options{Previous: &Comparison{
			RoleChanges: []Change{
				{Change: "group_changed", GroupName: "ops", Field: "group_description", OldValue: "a", NewValue: "b"},
				{Change: "group_added", GroupName: "plain"}, {Change: "group_removed", GroupName: "old-plain"},
			},
			Privileged: []Change{{Change: "membership_added", Username: "alice", GroupName: "ops", GroupRoleArn: arnOps}},
		}}},
		{name: "not_evaluated", reason: "--previous", export: inPool(u("alice").in("ops"))},
	},
	"PRIVILEGED_MEMBERS_ADDED": {
		{name: "fires", evaluated: true, count: 1, opts: Options{Previous: &Comparison{
			Privileged: []Change{
				{Change: "membership_added", Username: "alice", UserSub: "sub-alice", GroupName: "ops", GroupRoleArn: arnOps},
				{Change: "membership_removed", Username: "bob", UserSub: "sub-bob", GroupName: "ops", GroupRoleArn: arnOps},
				{Change: "membership_added", Username: "carol", UserSub: "sub-carol", GroupName: "board"},
			},
			ByGroup: []GroupDelta{{Group: "ops", RoleArn: arnOps, MembershipsAdded: 1, MembershipsRemoved: 1},
				{Group: "board", MembershipsAdded: 1}},
		}}, rows: []string{"alice|sub-alice|ops|" + arnOps}},
		{name: "does_not_fire", evaluated: true, opts: Options{Previous: &Comparison{
			Privileged: []Change{
				{Change: "membership_removed", Username: "bob", UserSub: "sub-bob", GroupName: "ops", GroupRoleArn: arnOps},
				{Change: "membership_added", Username: "carol", UserSub: "sub-carol", GroupName: "board"},
			},
			RoleChanges: []Change{{Change: "group_added", GroupName: "auditors", GroupRoleArn: arnAudit}},
			ByGroup: []GroupDelta{{Group: "ops", RoleArn: arnOps, MembershipsRemoved: 1},
				{Group: "board", MembershipsAdded: 1}, {Group: "readers", MembershipsAdded: 7}},
		}}},
		{name: "not_evaluated", reason: "--previous", export: inPool(u("alice").in("ops"))},
	},
	"SHARED_ROLE_ARN": {
		{name: "fires", evaluated: true, count: 4,
			// audit is granted by a listed group and by one only the rows show.
			export: export{groups: []sink.ManifestGroup{grp("a", arnAdmin), grp("b", arnAdmin), grp("c", arnAudit), grp("d", ""), grp("e", "")},
				rows: []member{u("alice").in("f").role(arnAudit)}},
			rows: []string{"||a|" + arnAdmin, "||b|" + arnAdmin, "||c|" + arnAudit, "||f|" + arnAudit}},
		{name: "does_not_fire", evaluated: true,
			// Groups without a role ARN share no role.
			export: export{groups: []sink.ManifestGroup{grp("a", arnAdmin), grp("c", arnAudit), grp("d", ""), grp("e", "")},
				rows: []member{u("alice").in("g")}}},
		{name: "always_evaluated", evaluated: true},
	},
	"UNVERIFIED_EMAIL_PRIVILEGED": {
		{name: "fires", evaluated: true, count: 2,
			export: export{groups: poolGroups, attrs: []sink.ManifestAttribute{attr("email"), attr("email_verified")}, rows: []member{
				u("alice").in("ops").set("email", "alice@example.com").set("email_verified", "false"),
				u("alice").in("readers").set("email", "alice@example.com").set("email_verified", "false"),
				u("bob").in("ops").set("email", "bob@example.com").set("email_verified", "true"),
				u("carol").in("ops").set("email", "carol@example.com"),
				u("dave").in("readers").set("email_verified", "false"),
				u("erin").in("lab").role(arnAudit).set("email", "erin@example.com").set("email_verified", "false"),
			}},
			rows: []string{"alice|sub-alice|ops|alice@example.com", "erin|sub-erin|lab|erin@example.com"}},
		{name: "fires_without_email", evaluated: true, count: 1,
			export: export{groups: poolGroups, attrs: []sink.ManifestAttribute{attr("email_verified")}, rows: []member{
				u("alice").in("ops").set("email_verified", "false")}},
			rows: []string{"alice|sub-alice|ops|"}},
		{name: "does_not_fire", evaluated: true,
			export: export{groups: poolGroups, attrs: []sink.ManifestAttribute{attr("email"), attr("email_verified")}, rows: []member{
				u("bob").in("ops").set("email_verified", "true"), u("carol").in("ops"),
				u("dave").in("readers").set("email_verified", "false"), u("frank").set("email_verified", "false"),
			}}},
		{name: "not_evaluated", reason: "email_verified",
			export: export{groups: poolGroups, attrs: []sink.ManifestAttribute{attr("email")}, rows: []member{
				u("alice").in("ops").set("email", "alice@example.com")}}},
		{name: "not_evaluated_redacted", reason: "email_verified",
			export: export{groups: poolGroups, attrs: []sink.ManifestAttribute{attr("email"), redacted("email_verified")}, rows: []member{
				u("alice").in("ops").set("email", "alice@example.com")}}},
	},
	"TOO_MANY_GROUPS": {
		{name: "fires", evaluated: true, count: 2, opts: Options{MaxGroupsPerUser: 2},
			// The detail is the user's count at the end, not where it
			// crossed the limit.
			export: export{rows: []member{
				u("alice").in("g1"), u("alice").in("g2"), u("alice").in("g3"),
				u("bob").in("g1"), u("bob").in("g2"),
				u("carol").in("g1"), u("carol").in("g2"), u("carol").in("g3"), u("carol").in("g4"),
			}},
			rows: []string{"alice|sub-alice||3", "carol|sub-carol||4"}},
		{name: "fires_past_the_default", evaluated: true, count: 1, export: export{rows: inGroups("alice", 11)},
			rows: []string{"alice|sub-alice||11"}},
		{name: "does_not_fire", evaluated: true, opts: Options{MaxGroupsPerUser: 2},
			// A user re-created under the same name is another user.
			export: export{rows: []member{
				u("bob").in("g1"), u("bob").in("g2"), u("bob"),
				u("dave").withSub("s1").in("g1"), u("dave").withSub("s1").in("g2"),
				u("dave").withSub("s2").in("g3"), u("dave").withSub("s2").in("g4"),
			}}},
		{name: "does_not_fire_at_the_default", evaluated: true, export: export{rows: inGroups("alice", 10)}},
		{name: "always_evaluated", evaluated: true},
	},
	"REVOKE_NOT_APPLIED": {
		{name: "fires", evaluated: true, count: 1, opts: decided(nil, dec("alice", "ops", decisions.Revoke), dec("bob", "ops", decisions.Keep), dec("carol", "ops", decisions.Revoke)),
			export: inPool(u("alice").in("ops"), u("bob").in("ops"), u("carol").in("readers")),
			rows:   []string{"alice|sub-alice|ops|revoke by Rita at 2026-12-05T10:00:00Z"}},
		{name: "does_not_fire", evaluated: true, opts: decided(nil, dec("alice", "ops", decisions.Revoke)),
			// Gone, and alice re-created is the other finding's.
			export: inPool(u("alice").withSub("new").in("ops"), u("bob").in("ops"))},
		{name: "not_evaluated", reason: "pass --decisions", export: inPool(u("alice").in("ops"))},
	},
	"REVOKED_MEMBER_READDED": {
		{name: "fires", evaluated: true, count: 2,
			opts: decided(&Side{Manifest: manifestSHA("old")}, dec("alice", "ops", decisions.Revoke), dec("dave", "ops", decisions.Revoke)),
			// alice re-created under her username; dave, decided on an
			// earlier export, gone from the previous one and back.
			export: inPool(u("alice").withSub("new").in("ops"), u("dave").in("ops")),
			rows: []string{"alice|new|ops|revoke by Rita at 2026-12-05T10:00:00Z of sub sub-alice; re-created under the same username",
				"dave|sub-dave|ops|revoke by Rita at 2026-12-05T10:00:00Z; gone from the previous export, a member again"}},
		{name: "does_not_fire", evaluated: true,
			opts:   decided(&Side{Manifest: manifestSHA("old")}, dec("alice", "ops", decisions.Revoke), dec("dave", "ops", decisions.Revoke)),
			export: export{groups: poolGroups, rows: []member{u("bob").in("ops"), u("dave").in("ops")}, old: []member{u("dave").in("ops")}}},
		{name: "not_evaluated", reason: "pass --decisions", export: inPool(u("alice").in("ops"))},
	},
	"PRIVILEGED_NOT_REVIEWED": {
		{name: "fires", evaluated: true, count: 1, opts: decided(&Side{}, dec("alice", "ops", decisions.Keep)),
			export: export{groups: poolGroups, old: []member{u("alice").in("ops").role(arnOps), u("bob").in("ops").role(arnOps), u("carol").in("readers")}},
			rows:   []string{"bob|sub-bob|ops|no decision"}},
		{name: "does_not_fire", evaluated: true, opts: decided(&Side{}, dec("alice", "ops", decisions.Revoke)),
			export: export{groups: poolGroups, old: []member{u("alice").in("ops").role(arnOps), u("carol").in("readers")}}},
		{name: "not_evaluated", reason: "pass --previous", opts: decided(nil, dec("alice", "ops", decisions.Keep))},
	},
	"EMPTY_GROUP": {
		{name: "fires", evaluated: true, count: 2,
			export: export{groups: []sink.ManifestGroup{grp("ops", arnOps), grp("spare", arnAudit), grp("unused", ""), grp("readers", "")},
				rows: []member{u("alice").in("ops"), u("bob").in("readers"), u("carol")}},
			rows: []string{"||spare|" + arnAudit, "||unused|"}},
		{name: "does_not_fire", evaluated: true,
			export: export{groups: []sink.ManifestGroup{grp("ops", arnOps), grp("readers", "")},
				rows: []member{u("alice").in("ops"), u("bob").in("readers")}}},
		{name: "not_evaluated", reason: "does not list the pool's groups",
			export: export{rows: []member{u("alice").in("ops"), u("carol")}}},
	},
}

func dec(user, group string, v decisions.Verdict) decisions.Decision {
	return decisions.Decision{PoolID: "eu-west-1_Rules", Username: user, Sub: "sub-" + user, Group: group, Verdict: v, Reviewer: "Rita",
		DecidedAt: time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC), ManifestSHA256: "reviewed"}
}

func decided(old *Side, ds ...decisions.Decision) Options {
	d := &Decided{File: "decisions.csv", Old: old}
	for _, x := range ds {
		d.Add(x)
	}
	return Options{Decided: d}
}

func manifestSHA(sha string) reader.Manifest {
	var m reader.Manifest
	m.SHA256 = sha
	return m
}

func inGroups(user string, n int) []member {
	var rows []member
	for i := range n {
		rows = append(rows, u(user).in(fmt.Sprintf("g%02d", i)))
	}
	return rows
}

// TestFindings runs every rule over its cases: a broken rule fails
// TestFindings/<ID>/<case>.
func TestFindings(t *testing.T) {
	for _, id := range FindingIDs() {
		t.Run(id, func(t *testing.T) {
			cases := findingCases[id]
			names := []string{}
			for _, c := range cases {
				names = append(names, c.name)
			}
			if !slices.Contains(names, "fires") || !slices.Contains(names, "does_not_fire") ||
				!slices.Contains(names, "not_evaluated") && !slices.Contains(names, "always_evaluated") {
				t.Fatalf("%s has cases %v: want fires, does_not_fire, and not_evaluated or always_evaluated", id, names)
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					f, ok := findingsOf(t, c.export, c.opts)[id]
					if !ok {
						t.Fatalf("no finding %s", id)
					}
					if f.Evaluated != c.evaluated {
						t.Fatalf("evaluated %v (%q), want %v", f.Evaluated, f.Reason, c.evaluated)
					}
					if c.evaluated != (f.Reason == "") || !strings.Contains(f.Reason, c.reason) {
						t.Errorf("reason %q, want one that says %q", f.Reason, c.reason)
					}
					if f.Count != c.count || f.Truncated {
						t.Errorf("count %d (truncated %v), want %d", f.Count, f.Truncated, c.count)
					}
					want := slices.Clone(c.rows)
					if want == nil {
						want = []string{}
					}
					slices.Sort(want)
					if got := sortedText(f.Rows); !slices.Equal(got, want) {
						t.Errorf("rows\n got %q\nwant %q", got, want)
					}
					if f.Rows == nil {
						t.Error("rows are nil: report.json would say null")
					}
				})
			}
		})
	}
}

// TestFindingRowsNameThePerson: in a pool whose usernames are UUIDs, a
// finding's rows carry the user's identity attributes (in the order of the
// attribute columns, a redacted one left out) as the privileged members
// do, from the rows and from the comparison alike; a group's row has none.
func TestFindingRowsNameThePerson(t *testing.T) {
	const id = "f8d79add-0000-4000-8000-000000000001"
	e := export{
		groups: []sink.ManifestGroup{grp("admins", "arn:aws:iam::1:role/a"), grp("empty", "")},
		attrs:  []sink.ManifestAttribute{attr("email"), redacted("phone_number"), attr("name")},
		rows: []member{
			u(id).withSub(id).off().in("admins").role("arn:aws:iam::1:role/a").set("email", "ada@example.com").set("name", "Ada <b>L</b>"),
		},
	}
	prev := &Comparison{Privileged: []Change{{Change: "membership_added", Username: id, UserSub: id, GroupName: "admins",
		GroupRoleArn: "arn:aws:iam::1:role/a", Attributes: map[string]string{"email": "ada@example.com"}}}}
	got := findingsOf(t, e, Options{Previous: prev})
	for _, fid := range []string{"DISABLED_WITH_GROUPS", "PRIVILEGED_MEMBERS_ADDED"} {
		rows := got[fid].Rows
		if len(rows) != 1 {
			t.Fatalf("%s: %d rows", fid, len(rows))
		}
		want := []string{"ada@example.com", "Ada <b>L</b>"}
		if fid == "PRIVILEGED_MEMBERS_ADDED" {
			want = []string{"ada@example.com", ""} // the diff compared only email
		}
		if !slices.Equal(rows[0].Attrs, want) {
			t.Errorf("%s: attributes %q, want %q", fid, rows[0].Attrs, want)
		}
	}
	if rows := got["EMPTY_GROUP"].Rows; len(rows) != 1 || rows[0].Attrs != nil {
		t.Errorf("EMPTY_GROUP rows %+v: a group's row has no attributes", rows)
	}
}
