package diff

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/cognito-export/cognito-export/sink"
)

// The diff's unit tests build a partition's two sides directly, as
// side.load would from the spill files, and compare them; the spilling
// and the writing are tested through diff.Run (diff_test.go) and the
// binary (cmd/cognito-export/diff_test.go).

const (
	arnOps   = "arn:aws:iam::123456789012:role/ops"
	arnAdmin = "arn:aws:iam::123456789012:role/admin"
	diffPool = "eu-west-1_Diff"
)

// urow is one row of one side: a user and one of its groups ("" for a
// user without groups). Built with du(...) and the methods below.
type urow struct {
	user, sub, status, enabled, group, exportedAt string
	attrs                                         []string
}

func du(name string) urow {
	return urow{user: name, sub: "sub-" + name, status: "CONFIRMED", enabled: "true", exportedAt: "2026-03-01T00:00:00Z"}
}

func (r urow) in(group string) urow { r.group = group; return r }

func (r urow) is(status string) urow { r.status = status; return r }

func (r urow) off() urow { r.enabled = "false"; return r }

func (r urow) withSub(sub string) urow { r.sub = sub; return r }

func (r urow) at(exportedAt string) urow { r.exportedAt = exportedAt; return r }

// with sets the attribute values, in the comparer's column order.
func (r urow) with(values ...string) urow { r.attrs = values; return r }

// each is one row of the user per group.
func (r urow) each(groups ...string) []urow {
	var rows []urow
	for _, g := range groups {
		rows = append(rows, r.in(g))
	}
	return rows
}

// sideOf is a loaded partition side holding rows, sorted as load sorts it.
func sideOf(width int, rows ...urow) *side {
	s := &side{width: width}
	for _, r := range rows {
		key := r.user + "\x00" + r.sub
		s.rows = append(s.rows, prow{h: keyHash(key), key: key, status: r.status, enabled: r.enabled, group: r.group,
			exportedAt: r.exportedAt, attrs: int32(len(s.attrs))})
		attrs := make([]string, width)
		copy(attrs, r.attrs)
		s.attrs = append(s.attrs, attrs...)
	}
	s.sort()
	return s
}

// groupsWith is a side's groups: name, role ARN pairs.
func groupsWith(nameRole ...string) groupSet {
	set := groupSet{}
	for i := 0; i < len(nameRole); i += 2 {
		set[nameRole[i]] = group{role: nameRole[i+1]}
	}
	return set
}

// changeText is a change row as one line, without what every row of a
// diff carries alike (the diffPool, the export times, the attributes).
func changeText(c sink.Change) string {
	s := c.Change
	if c.Username != "" || c.UserSub != "" {
		s += " " + c.Username + "|" + c.UserSub
	}
	if c.GroupName != "" {
		s += " " + c.GroupName
	}
	if c.GroupRoleArn != "" {
		s += " role=" + c.GroupRoleArn
	}
	if c.Field != "" {
		s += fmt.Sprintf(" %s: %q -> %q", c.Field, c.OldValue, c.NewValue)
	}
	return s
}

// byUser orders change rows by user, keeping each user's rows in the
// order they were written (the partition's order between users is its
// hash's).
func byUser(changes []sink.Change) []string {
	changes = slices.Clone(changes)
	slices.SortStableFunc(changes, func(a, b sink.Change) int {
		return cmp.Or(cmp.Compare(a.Username, b.Username), cmp.Compare(a.UserSub, b.UserSub))
	})
	out := []string{}
	for _, c := range changes {
		out = append(out, changeText(c))
	}
	return out
}

func texts(changes []sink.Change) []string {
	out := []string{}
	for _, c := range changes {
		out = append(out, changeText(c))
	}
	return out
}
