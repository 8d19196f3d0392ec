package diff

import (
	"slices"
	"strconv"

	"github.com/cognito-export/cognito-export/sink"
)

// group is what a diff compares of a group.
type group struct {
	role, precedence, description string
}

// groupSet is one side's groups: the manifest's list when the export made
// one (empty groups included), else the groups its rows show.
type groupSet map[string]group

func manifestGroups(gs []sink.ManifestGroup) groupSet {
	set := groupSet{}
	for _, g := range gs {
		v := group{}
		if g.RoleArn != nil {
			v.role = *g.RoleArn
		}
		if g.Precedence != nil {
			v.precedence = strconv.Itoa(int(*g.Precedence))
		}
		if g.Description != nil {
			v.description = *g.Description
		}
		set[g.Name] = v
	}
	return set
}

// sideGroups are the groups each side is compared with: the manifests'
// lists when both exports made one, else what the rows of each show, so
// that one side's list (empty groups included) is never set against the
// other's rows, where every empty group would look added or removed.
func sideGroups(oldListed, newListed []sink.ManifestGroup, oldRows, newRows groupSet) (groupSet, groupSet) {
	if oldListed != nil && newListed != nil {
		return manifestGroups(oldListed), manifestGroups(newListed)
	}
	return oldRows, newRows
}

// roles is what a diff asks of a group's role ARN, on both sides.
type roles struct{ old, new groupSet }

// of is the group's role ARN: NEW's, else OLD's for a group deleted since.
func (r roles) of(name string) string {
	if g, ok := r.new[name]; ok {
		return g.role
	}
	return r.old[name].role
}

// has says the group grants a role on either side: a group that lost its
// role is privileged too, as losing it is a change a review must see with
// the group's members.
func (r roles) has(name string) bool { return r.new[name].role != "" || r.old[name].role != "" }

// groupChanges are the group rows of a diff, by group name.
func groupChanges(poolID string, old, new groupSet, roleOnly bool, base sink.Change) []sink.Change {
	var out []sink.Change
	row := func(kind, name, role, field, o, n string) {
		ch := base
		ch.Change, ch.UserPoolID, ch.GroupName, ch.GroupRoleArn, ch.Field, ch.OldValue, ch.NewValue = kind, poolID, name, role, field, o, n
		out = append(out, ch)
	}
	for _, name := range sortedNames(old, new) {
		o, inOld := old[name]
		n, inNew := new[name]
		if roleOnly && o.role == "" && n.role == "" {
			continue
		}
		switch {
		case !inOld:
			row(GroupAdded, name, n.role, "", "", "")
		case !inNew:
			row(GroupRemoved, name, o.role, "", "", "")
		default:
			if o.role != n.role {
				row(GroupChanged, name, n.role, "group_role_arn", o.role, n.role)
			}
			if o.precedence != n.precedence {
				row(GroupChanged, name, n.role, "group_precedence", o.precedence, n.precedence)
			}
			if o.description != n.description {
				row(GroupChanged, name, n.role, "group_description", o.description, n.description)
			}
		}
	}
	return out
}

func sortedNames(sets ...groupSet) []string {
	seen := map[string]bool{}
	var names []string
	for _, s := range sets {
		for n := range s {
			if !seen[n] {
				seen[n] = true
				names = append(names, n)
			}
		}
	}
	slices.Sort(names)
	return names
}
