package cognitoemu

import (
	"cmp"
	"slices"
	"strconv"
)

// Kinds of Change.
const (
	UserAdded         = "user_added"
	UserRemoved       = "user_removed"
	UserChanged       = "user_changed"
	MembershipAdded   = "membership_added"
	MembershipRemoved = "membership_removed"
	GroupAdded        = "group_added"
	GroupRemoved      = "group_removed"
	GroupChanged      = "group_changed"
)

// Change is one difference an access review's diff of two exports must
// report. Users are (Username, Sub): the same username with another sub is
// a user removed and one added. Group changes leave Username and Sub empty;
// user changes leave Group empty; memberships set both.
type Change struct {
	Kind, Username, Sub, Group string
	// Field and Old, New are set for user_changed (user_status,
	// user_enabled as "true"/"false", or an attribute's column) and
	// group_changed (group_role_arn, group_precedence in decimal,
	// group_description). An absent value is "".
	Field, Old, New string
}

// Changes computes from the two models (not from an export) every change
// between the pool before and after: users added and removed, memberships
// added and removed (a removed or re-created user's memberships count as
// removed, an added one's as added, as do those of a deleted group), changes
// of status, enabled and the given attributes (Cognito names; column names
// the export's column for one, as identity.ColumnName does: cognitoemu may
// not import identity) of users with the same identity in both, and groups
// added, removed and changed.
//
// Groups are compared as ListGroups lists them, members or not. An export,
// though, holds only groups that have at least one member (it has one row
// per membership), so a diff of exports sees a group added or removed only
// when it has members; generated pools do have empty groups when there are
// many groups for the users (NewPool favours low group indexes).
//
// The users the server's DeletedShare and RemovedShare options hide are in
// the model: Changes does not see server options. The result is sorted by
// Username, Sub, Group, Kind, Field; group changes, with no username, first.
// For two pools that come from the same generated pool (by Mutate) it costs
// one cheap pass over the user indexes; otherwise it maps usernames.
func Changes(before, after *Pool, attributes []string, column func(string) string) []Change {
	var out []Change
	out = groupChanges(before, after, out)
	d := userDiff{before: before, after: after, attributes: attributes, column: column, out: out}
	if before.spec == after.spec {
		affected := affectedGroups(before, after)
		for i := range max(before.NumUsers(), after.NumUsers()) {
			b, a := before.Exists(i), after.Exists(i)
			if b && a && i < before.spec.Users && !before.touched(i) && !after.touched(i) && !inAny(before.flat[before.offsets[i]:before.offsets[i+1]], affected) {
				continue // both generated, untouched: the same user, in the same groups unless one was deleted
			}
			d.pair(index(i, b), index(i, a))
		}
	} else {
		names := make(map[string]int, after.liveUsers())
		for i := range after.NumUsers() {
			if after.Exists(i) {
				names[after.User(i).Username] = i
			}
		}
		for i := range before.NumUsers() {
			if before.Exists(i) {
				a, ok := names[before.User(i).Username]
				if ok {
					delete(names, before.User(i).Username)
				} else {
					a = -1
				}
				d.pair(i, a)
			}
		}
		for _, a := range names {
			d.pair(-1, a)
		}
	}
	slices.SortFunc(d.out, func(x, y Change) int {
		return cmp.Or(cmp.Compare(x.Username, y.Username), cmp.Compare(x.Sub, y.Sub), cmp.Compare(x.Group, y.Group),
			cmp.Compare(x.Kind, y.Kind), cmp.Compare(x.Field, y.Field))
	})
	return d.out
}

func index(i int, ok bool) int {
	if ok {
		return i
	}
	return -1
}

// affectedGroups marks the generated groups that are not the same group in
// both pools (deleted in one); nil when there are none.
func affectedGroups(before, after *Pool) []bool {
	if remapOf(before) == nil && remapOf(after) == nil {
		return nil
	}
	name := func(p *Pool, g int) string {
		if r := remapOf(p); r != nil {
			if g = int(r[g]); g < 0 {
				return ""
			}
		}
		return p.groups[g].Name
	}
	affected := make([]bool, before.spec.Groups)
	for g := range affected {
		affected[g] = name(before, g) != name(after, g)
	}
	return affected
}

func remapOf(p *Pool) []int32 {
	if p.mut == nil {
		return nil
	}
	return p.mut.remap
}

func inAny(groups []uint16, affected []bool) bool {
	if affected == nil {
		return false
	}
	for _, g := range groups {
		if affected[g] {
			return true
		}
	}
	return false
}

// touched reports whether user i is not simply the generated one.
func (p *Pool) touched(i int) bool {
	if p.mut == nil {
		return false
	}
	_, regrouped := p.mut.groups[i]
	return regrouped || p.mut.users[i] != nil
}

func groupChanges(before, after *Pool, out []Change) []Change {
	names := make(map[string]*Group, len(after.groups))
	for g := range after.groups {
		names[after.groups[g].Name] = &after.groups[g]
	}
	for g := range before.groups {
		b := &before.groups[g]
		a := names[b.Name]
		if a == nil {
			out = append(out, Change{Kind: GroupRemoved, Group: b.Name})
			continue
		}
		delete(names, b.Name)
		for _, f := range []struct{ field, was, now string }{
			{"group_role_arn", deref(b.RoleArn), deref(a.RoleArn)},
			{"group_precedence", precedence(b.Precedence), precedence(a.Precedence)},
			{"group_description", deref(b.Description), deref(a.Description)},
		} {
			if f.was != f.now {
				out = append(out, Change{Kind: GroupChanged, Group: b.Name, Field: f.field, Old: f.was, New: f.now})
			}
		}
	}
	for name := range names {
		out = append(out, Change{Kind: GroupAdded, Group: name})
	}
	return out
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func precedence(p *int32) string {
	if p == nil {
		return ""
	}
	return strconv.Itoa(int(*p))
}

type userDiff struct {
	before, after  *Pool
	attributes     []string
	column         func(string) string
	out            []Change
	battrs, aattrs []Attribute
}

// pair compares user b of before with user a of after (-1: absent).
func (d *userDiff) pair(b, a int) {
	var bu, au User
	if b >= 0 {
		bu = d.before.User(b)
	}
	if a >= 0 {
		au = d.after.User(a)
	}
	if b >= 0 && a >= 0 && bu.Sub == au.Sub {
		d.changed(b, a, &bu, &au)
		bg, ag := groupNames(d.before, b), groupNames(d.after, a)
		d.memberships(MembershipRemoved, &bu, bg, ag)
		d.memberships(MembershipAdded, &au, ag, bg)
		return
	}
	if b >= 0 {
		d.out = append(d.out, Change{Kind: UserRemoved, Username: bu.Username, Sub: bu.Sub})
		d.memberships(MembershipRemoved, &bu, groupNames(d.before, b), nil)
	}
	if a >= 0 {
		d.out = append(d.out, Change{Kind: UserAdded, Username: au.Username, Sub: au.Sub})
		d.memberships(MembershipAdded, &au, groupNames(d.after, a), nil)
	}
}

// memberships reports the groups of from that are not in other.
func (d *userDiff) memberships(kind string, u *User, from, other []string) {
	for _, g := range from {
		if !slices.Contains(other, g) {
			d.out = append(d.out, Change{Kind: kind, Username: u.Username, Sub: u.Sub, Group: g})
		}
	}
}

func (d *userDiff) changed(b, a int, bu, au *User) {
	add := func(field, was, now string) {
		if was != now {
			d.out = append(d.out, Change{Kind: UserChanged, Username: au.Username, Sub: au.Sub, Field: field, Old: was, New: now})
		}
	}
	add("user_status", bu.Status, au.Status)
	add("user_enabled", strconv.FormatBool(bu.Enabled), strconv.FormatBool(au.Enabled))
	if len(d.attributes) == 0 {
		return
	}
	d.battrs = d.before.userAttributes(b, bu, d.battrs[:0])
	d.aattrs = d.after.userAttributes(a, au, d.aattrs[:0])
	for _, name := range d.attributes {
		add(d.column(name), attrValue(d.battrs, name), attrValue(d.aattrs, name))
	}
}

func attrValue(attrs []Attribute, name string) string {
	for _, a := range attrs {
		if a.Name == name {
			return a.Value
		}
	}
	return ""
}

func groupNames(p *Pool, i int) []string {
	var buf [64]uint16
	list := p.userGroups16(i, buf[:0])
	names := make([]string, len(list))
	for k, g := range list {
		names[k] = p.groups[g].Name
	}
	return names
}
