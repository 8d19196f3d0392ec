package diff

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cognito-export/cognito-export/sink"
)

// g is a group of one side: role ARN, precedence, description.
func groupOf(role, precedence, description string) group {
	return group{role: role, precedence: precedence, description: description}
}

// TestGroupChanges: each change of a group, with the exact rows it
// gives, and those that give none.
func TestGroupChanges(t *testing.T) {
	cases := []struct {
		name     string
		old, new groupSet
		roleOnly bool
		want     []string
	}{
		{name: "unchanged", old: groupSet{"ops": groupOf(arnOps, "1", "Operators"), "readers": groupOf("", "", "")},
			new: groupSet{"ops": groupOf(arnOps, "1", "Operators"), "readers": groupOf("", "", "")}},
		{name: "added", old: groupSet{}, new: groupSet{"ops": groupOf(arnOps, "1", "x"), "readers": groupOf("", "", "")},
			want: []string{"group_added ops role=" + arnOps, "group_added readers"}},
		{name: "removed", old: groupSet{"ops": groupOf(arnOps, "1", "x"), "readers": groupOf("", "", "")}, new: groupSet{},
			want: []string{"group_removed ops role=" + arnOps, "group_removed readers"}},
		{name: "role_arn_changed", old: groupSet{"ops": groupOf(arnOps, "", "")}, new: groupSet{"ops": groupOf(arnAdmin, "", "")},
			want: []string{`group_changed ops role=` + arnAdmin + ` group_role_arn: "` + arnOps + `" -> "` + arnAdmin + `"`}},
		{name: "role_arn_granted", old: groupSet{"ops": groupOf("", "", "")}, new: groupSet{"ops": groupOf(arnOps, "", "")},
			want: []string{`group_changed ops role=` + arnOps + ` group_role_arn: "" -> "` + arnOps + `"`}},
		{name: "role_arn_taken_away", old: groupSet{"ops": groupOf(arnOps, "", "")}, new: groupSet{"ops": groupOf("", "", "")},
			want: []string{`group_changed ops group_role_arn: "` + arnOps + `" -> ""`}},
		{name: "precedence_changed", old: groupSet{"ops": groupOf(arnOps, "1", "")}, new: groupSet{"ops": groupOf(arnOps, "2", "")},
			want: []string{`group_changed ops role=` + arnOps + ` group_precedence: "1" -> "2"`}},
		{name: "precedence_set", old: groupSet{"readers": groupOf("", "", "")}, new: groupSet{"readers": groupOf("", "0", "")},
			want: []string{`group_changed readers group_precedence: "" -> "0"`}},
		{name: "description_changed", old: groupSet{"readers": groupOf("", "", "Read")}, new: groupSet{"readers": groupOf("", "", "Read only")},
			want: []string{`group_changed readers group_description: "Read" -> "Read only"`}},
		{name: "every_field_changed_in_order", old: groupSet{"ops": groupOf(arnOps, "1", "a")}, new: groupSet{"ops": groupOf(arnAdmin, "2", "b")},
			want: []string{
				`group_changed ops role=` + arnAdmin + ` group_role_arn: "` + arnOps + `" -> "` + arnAdmin + `"`,
				`group_changed ops role=` + arnAdmin + ` group_precedence: "1" -> "2"`,
				`group_changed ops role=` + arnAdmin + ` group_description: "a" -> "b"`}},
		{name: "by_name", old: groupSet{"c": groupOf("", "", ""), "a": groupOf("", "", "")}, new: groupSet{"b": groupOf("", "", ""), "d": groupOf("", "", "")},
			want: []string{"group_removed a", "group_added b", "group_removed c", "group_added d"}},
		{name: "role_only_leaves_out_groups_without_a_role", roleOnly: true,
			old: groupSet{"readers": groupOf("", "1", "a"), "gone": groupOf("", "", "")},
			new: groupSet{"readers": groupOf("", "2", "b"), "new": groupOf("", "", "")}},
		{name: "role_only_keeps_groups_with_a_role_on_either_side", roleOnly: true,
			old: groupSet{"ops": groupOf(arnOps, "", "a"), "gone": groupOf(arnAdmin, "", ""), "readers": groupOf("", "", "")},
			new: groupSet{"ops": groupOf("", "", "b"), "new": groupOf(arnAdmin, "", ""), "readers": groupOf("", "", "x")},
			want: []string{"group_removed gone role=" + arnAdmin, "group_added new role=" + arnAdmin,
				`group_changed ops group_role_arn: "` + arnOps + `" -> ""`, `group_changed ops group_description: "a" -> "b"`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := texts(groupChanges(diffPool, c.old, c.new, c.roleOnly, sink.Change{}))
			want := c.want
			if want == nil {
				want = []string{}
			}
			if !slices.Equal(got, want) {
				t.Fatalf("changes\n got %s\nwant %s", strings.Join(got, "\n     "), strings.Join(want, "\n     "))
			}
		})
	}
}

// TestGroupChangeCarries: a group row carries the pool and what the
// diff gives every row (the export times, empty attributes).
func TestGroupChangeCarries(t *testing.T) {
	at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	base := sink.Change{Attrs: make([]sink.Attr, 2), OldExportedAt: at, NewExportedAt: at.AddDate(0, 0, 1)}
	got := groupChanges(diffPool, groupSet{}, groupSet{"ops": groupOf(arnOps, "", "")}, false, base)
	if len(got) != 1 || got[0].UserPoolID != diffPool || len(got[0].Attrs) != 2 || !got[0].OldExportedAt.Equal(at) ||
		!got[0].NewExportedAt.Equal(at.AddDate(0, 0, 1)) || got[0].Username != "" {
		t.Fatalf("group row %+v", got)
	}
}

func listed(name, role string, precedence *int32, description string) sink.ManifestGroup {
	m := sink.ManifestGroup{Name: name, Precedence: precedence}
	if role != "" {
		m.RoleArn = &role
	}
	if description != "" {
		m.Description = &description
	}
	return m
}

// TestSideGroups: the manifests' lists when both exports made one, so an
// emptied group is no change; else the rows of both sides, where a group
// that lost its last member looks removed.
func TestSideGroups(t *testing.T) {
	three := int32(3)
	// spare has never had members: only the lists know it.
	oldListed := []sink.ManifestGroup{listed("ops", arnOps, &three, "Operators"), listed("emptied", "", nil, ""), listed("spare", "", nil, "")}
	newListed := []sink.ManifestGroup{listed("ops", arnOps, &three, "Operators"), listed("emptied", "", nil, ""), listed("spare", "", nil, "")}
	oldRows := groupSet{"ops": groupOf(arnOps, "3", "Operators"), "emptied": groupOf("", "", "")}
	newRows := groupSet{"ops": groupOf(arnOps, "3", "Operators")}
	changes := func(o, n groupSet) string {
		return strings.Join(texts(groupChanges(diffPool, o, n, false, sink.Change{})), "; ")
	}

	if o, n := sideGroups(oldListed, newListed, oldRows, newRows); changes(o, n) != "" {
		t.Errorf("both listed: %s, want no change", changes(o, n))
	}
	for _, c := range []struct {
		name        string
		old, new    []sink.ManifestGroup
		wantChanges string
	}{
		// One side's list is not set against the other's rows.
		{"old_not_listed", nil, newListed, "group_removed emptied"},
		{"new_not_listed", oldListed, nil, "group_removed emptied"},
		{"none_listed", nil, nil, "group_removed emptied"},
	} {
		o, n := sideGroups(c.old, c.new, oldRows, newRows)
		if got := changes(o, n); got != c.wantChanges {
			t.Errorf("%s: %q, want %q", c.name, got, c.wantChanges)
		}
	}
}

// TestManifestGroups: a listed group's absent fields are empty, its
// precedence is text as the rows have it.
func TestManifestGroups(t *testing.T) {
	zero, seven := int32(0), int32(7)
	got := manifestGroups([]sink.ManifestGroup{listed("a", arnOps, &seven, "d"), listed("b", "", nil, ""), listed("c", "", &zero, "")})
	want := groupSet{"a": groupOf(arnOps, "7", "d"), "b": groupOf("", "", ""), "c": groupOf("", "0", "")}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("groups %v, want %v", got, want)
	}
}

// TestRoles: a group's role ARN is NEW's, OLD's for a group deleted
// since; it is privileged with a role on either side.
func TestRoles(t *testing.T) {
	r := roles{old: groupsWith("ops", arnOps, "gone", arnAdmin, "lost", arnAdmin, "gained", ""),
		new: groupsWith("ops", arnOps, "lost", "", "gained", arnOps, "readers", "")}
	for _, c := range []struct {
		group, role string
		has         bool
	}{
		{"ops", arnOps, true}, {"gone", arnAdmin, true}, {"lost", "", true}, {"gained", arnOps, true},
		{"readers", "", false}, {"unknown", "", false},
	} {
		if got, has := r.of(c.group), r.has(c.group); got != c.role || has != c.has {
			t.Errorf("%s: role %q, has %v; want %q, %v", c.group, got, has, c.role, c.has)
		}
	}
}
