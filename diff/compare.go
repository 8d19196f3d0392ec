package diff

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/cognito-export/cognito-export/sink"
)

// Change kinds, in the order a partition's rows of one user are written.
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

// Kinds lists every change kind: group changes first, as a review reads
// them.
var Kinds = []string{GroupChanged, GroupAdded, GroupRemoved, MembershipAdded, MembershipRemoved, UserAdded, UserRemoved, UserChanged}

var kindOrder = map[string]int{UserRemoved: 0, UserAdded: 1, UserChanged: 2, MembershipRemoved: 3, MembershipAdded: 4}

// user is one user of one side of a partition.
type user struct {
	key        string // username NUL sub
	status     string
	enabled    string
	exportedAt string
	attrs      []string
	groups     []string
}

// interner keeps one copy of the strings that repeat across a partition's
// rows (statuses, group names, timestamps).
type interner map[string]string

func (in interner) get(s string) string {
	if v, ok := in[s]; ok {
		return v
	}
	in[s] = s
	return s
}

// loadSide gathers a partition's users of one side.
func loadSide(path string, attrs int, in interner) (map[string]*user, error) {
	users := map[string]*user{}
	err := readPartition(path, attrs, func(r *spillRecord) {
		u := users[r.key]
		if u == nil {
			u = &user{key: r.key, status: in.get(r.status), enabled: in.get(r.enabled), exportedAt: in.get(r.exportedAt),
				attrs: slices.Clone(r.attrs)}
			users[r.key] = u
		}
		if r.group != "" {
			u.groups = append(u.groups, in.get(r.group))
		}
	})
	return users, err
}

// comparer turns two sides of a partition into change rows.
type comparer struct {
	poolID     string
	attrCols   []string
	roleOf     func(group string) string // the group's role ARN, NEW's else OLD's
	roleOnly   bool
	privileged func(group string) bool
}

func (c *comparer) compare(old, new map[string]*user) []sink.Change {
	var out []sink.Change
	for k, o := range old {
		out = c.user(out, o, new[k])
	}
	for k, n := range new {
		if old[k] == nil {
			out = c.user(out, nil, n)
		}
	}
	slices.SortFunc(out, func(a, b sink.Change) int {
		return cmp.Or(cmp.Compare(a.Username, b.Username), cmp.Compare(a.UserSub, b.UserSub),
			cmp.Compare(kindOrder[a.Change], kindOrder[b.Change]), cmp.Compare(a.GroupName, b.GroupName), cmp.Compare(a.Field, b.Field))
	})
	return out
}

// user appends the changes of one user, present in old, new or both.
func (c *comparer) user(out []sink.Change, o, n *user) []sink.Change {
	named := n
	if named == nil {
		named = o
	}
	if c.roleOnly && !c.anyPrivileged(o) && !c.anyPrivileged(n) {
		return out
	}
	username, sub, _ := strings.Cut(named.key, "\x00")
	base := sink.Change{UserPoolID: c.poolID, Username: username, UserSub: sub, Attrs: make([]sink.Attr, len(named.attrs))}
	for i, a := range named.attrs {
		base.Attrs[i] = sink.Attr{Value: a, Set: a != ""}
	}
	if o != nil {
		base.OldExportedAt = parseTime(o.exportedAt)
	}
	if n != nil {
		base.NewExportedAt = parseTime(n.exportedAt)
	}
	row := func(kind, group, field, oldV, newV string) {
		ch := base
		ch.Change, ch.GroupName, ch.Field, ch.OldValue, ch.NewValue = kind, group, field, oldV, newV
		if group != "" {
			ch.GroupRoleArn = c.roleOf(group)
		}
		out = append(out, ch)
	}
	switch {
	case o == nil:
		row(UserAdded, "", "", "", "")
	case n == nil:
		row(UserRemoved, "", "", "", "")
	default:
		if o.status != n.status {
			row(UserChanged, "", "user_status", o.status, n.status)
		}
		if o.enabled != n.enabled {
			row(UserChanged, "", "user_enabled", o.enabled, n.enabled)
		}
		for i, col := range c.attrCols {
			if o.attrs[i] != n.attrs[i] {
				row(UserChanged, "", col, o.attrs[i], n.attrs[i])
			}
		}
	}
	var og, ng []string
	if o != nil {
		og = o.groups
	}
	if n != nil {
		ng = n.groups
	}
	for _, g := range og {
		if !slices.Contains(ng, g) && (!c.roleOnly || c.privileged(g)) {
			row(MembershipRemoved, g, "", "", "")
		}
	}
	for _, g := range ng {
		if !slices.Contains(og, g) && (!c.roleOnly || c.privileged(g)) {
			row(MembershipAdded, g, "", "", "")
		}
	}
	return out
}

func (c *comparer) anyPrivileged(u *user) bool {
	if u == nil {
		return false
	}
	return slices.ContainsFunc(u.groups, c.privileged)
}

func parseTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}
	}
	return t
}
