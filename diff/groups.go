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
