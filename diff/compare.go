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

// prow is one spilled row of a partition; its strings point into the
// partition's file, read whole.
type prow struct {
	h                                       uint64 // of key: most comparisons stop here
	key, status, enabled, group, exportedAt string
	attrs                                   int32 // offset into the side's attribute values
}

// side is one export's rows of a partition, sorted by user (by a hash of
// the user first, then the user), then group: comparing two sorted lists
// needs no map, and a user's groups come in order. A side is loaded again
// for each partition, reusing its memory.
type side struct {
	data   []byte // the partition's file: the rows' strings point into it
	rows   []prow
	sorted []prow
	order  []entry
	spare  []entry
	attrs  []string
	width  int // attribute values per row
}

type entry struct {
	h uint64
	i int32
}

func (s *side) attrsOf(r *prow) []string { return s.attrs[r.attrs : int(r.attrs)+s.width] }

func (s *side) load(path string, dict []string, width int) error {
	s.width, s.rows, s.attrs = width, s.rows[:0], s.attrs[:0]
	var err error
	s.data, err = readPartition(path, s.data, dict, width, func(r *spillRecord) {
		s.rows = append(s.rows, prow{h: keyHash(r.key), key: r.key, status: r.status, enabled: r.enabled, group: r.group,
			exportedAt: r.exportedAt, attrs: int32(len(s.attrs))})
		s.attrs = append(s.attrs, r.attrs...)
	})
	if err != nil {
		return err
	}
	s.sort()
	return nil
}

// sort orders the rows by user hash, user, then group. It radix-sorts
// small (hash, index) pairs on the hash's top 32 bits, then sorts each
// run of equal top bits (a user's rows, rarely two users) by comparison:
// a comparison sort of the whole partition was a quarter of a diff's CPU.
func (s *side) sort() {
	rows := s.rows
	s.order, s.spare = s.order[:0], s.spare[:0]
	for i := range rows {
		s.order = append(s.order, entry{rows[i].h, int32(i)})
	}
	s.spare = append(s.spare, s.order...)
	order, spare := s.order, s.spare
	for shift := 32; shift < 64; shift += 8 {
		var counts [257]int
		for _, e := range order {
			counts[(e.h>>shift)&0xff+1]++
		}
		for b := 1; b < len(counts); b++ {
			counts[b] += counts[b-1]
		}
		for _, e := range order {
			d := (e.h >> shift) & 0xff
			spare[counts[d]] = e
			counts[d]++
		}
		order, spare = spare, order
	}
	byRow := func(a, b entry) int {
		x, y := &rows[a.i], &rows[b.i]
		return cmp.Or(cmp.Compare(a.h, b.h), strings.Compare(x.key, y.key), strings.Compare(x.group, y.group))
	}
	for i := 0; i < len(order); {
		j := i + 1
		for j < len(order) && order[j].h>>32 == order[i].h>>32 {
			j++
		}
		if j-i > 1 {
			slices.SortFunc(order[i:j], byRow)
		}
		i = j
	}
	s.sorted = s.sorted[:0]
	for _, e := range order {
		s.sorted = append(s.sorted, rows[e.i])
	}
	s.rows, s.sorted = s.sorted, s.rows
}

func userOrder(a, b *prow) int { return cmp.Or(cmp.Compare(a.h, b.h), strings.Compare(a.key, b.key)) }

// keyHash orders users within a partition; any fixed hash does.
func keyHash(s string) uint64 {
	h := uint64(0xcbf29ce484222325)
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * 0x100000001b3
	}
	return h ^ h>>29
}

// run is one user's rows of one side, or none.
type run struct {
	s    *side
	rows []prow
}

func (r run) present() bool { return len(r.rows) > 0 }

// groups are the user's groups, sorted; a row without one (a user
// without groups) is skipped.
func (r run) groups() []string {
	var gs []string
	for _, row := range r.rows {
		if row.group != "" {
			gs = append(gs, row.group)
		}
	}
	return gs
}

// comparer turns two sides of a partition into change rows.
type comparer struct {
	poolID     string
	attrCols   []string
	roleOf     func(group string) string // the group's role ARN, NEW's else OLD's
	roleOnly   bool
	privileged func(group string) bool
}

func newComparer(poolID string, attrCols []string, gr roles, roleOnly bool) *comparer {
	return &comparer{poolID: poolID, attrCols: attrCols, roleOf: gr.of, roleOnly: roleOnly, privileged: gr.has}
}

// compare walks both sorted sides at once, a user at a time, in the sides'
// order.
func (c *comparer) compare(old, new *side) []sink.Change {
	var out []sink.Change
	i, j := 0, 0
	for i < len(old.rows) || j < len(new.rows) {
		var o, n run
		switch {
		case j == len(new.rows) || i < len(old.rows) && userOrder(&old.rows[i], &new.rows[j]) < 0:
			o, i = take(old, i)
		case i == len(old.rows) || userOrder(&new.rows[j], &old.rows[i]) < 0:
			n, j = take(new, j)
		default:
			o, i = take(old, i)
			n, j = take(new, j)
		}
		out = c.user(out, o, n)
	}
	return out
}

// take is the run of rows of the user at rows[i].
func take(s *side, i int) (run, int) {
	k := i + 1
	for k < len(s.rows) && s.rows[k].key == s.rows[i].key {
		k++
	}
	return run{s, s.rows[i:k]}, k
}

// user appends the changes of one user, present in old, new or both.
// What it keeps is copied out of the partition's file.
func (c *comparer) user(out []sink.Change, o, n run) []sink.Change {
	og, ng := o.groups(), n.groups()
	if c.roleOnly && !slices.ContainsFunc(og, c.privileged) && !slices.ContainsFunc(ng, c.privileged) {
		return out
	}
	named := n
	if !named.present() {
		named = o
	}
	first := &named.rows[0]
	username, sub, _ := strings.Cut(first.key, "\x00")
	var base *sink.Change
	row := func(kind, group, field, oldV, newV string) {
		if base == nil {
			base = &sink.Change{UserPoolID: c.poolID, Username: strings.Clone(username), UserSub: strings.Clone(sub)}
			for _, a := range named.s.attrsOf(first) {
				base.Attrs = append(base.Attrs, sink.Attr{Value: strings.Clone(a), Set: a != ""})
			}
			if o.present() {
				base.OldExportedAt = parseTime(o.rows[0].exportedAt)
			}
			if n.present() {
				base.NewExportedAt = parseTime(n.rows[0].exportedAt)
			}
		}
		ch := *base
		ch.Change, ch.GroupName, ch.Field, ch.OldValue, ch.NewValue = kind, strings.Clone(group), field, strings.Clone(oldV), strings.Clone(newV)
		if group != "" {
			ch.GroupRoleArn = c.roleOf(group)
		}
		out = append(out, ch)
	}
	switch {
	case !o.present():
		row(UserAdded, "", "", "", "")
	case !n.present():
		row(UserRemoved, "", "", "", "")
	default:
		or, nr := &o.rows[0], &n.rows[0]
		if or.status != nr.status {
			row(UserChanged, "", "user_status", or.status, nr.status)
		}
		if or.enabled != nr.enabled {
			row(UserChanged, "", "user_enabled", or.enabled, nr.enabled)
		}
		oa, na := o.s.attrsOf(or), n.s.attrsOf(nr)
		for i, col := range c.attrCols {
			if oa[i] != na[i] {
				row(UserChanged, "", col, oa[i], na[i])
			}
		}
	}
	// Both lists are sorted: one merge finds what each lacks.
	i, j := 0, 0
	var removed, added []string
	for i < len(og) || j < len(ng) {
		switch {
		case j == len(ng) || i < len(og) && og[i] < ng[j]:
			removed, i = append(removed, og[i]), i+1
		case i == len(og) || ng[j] < og[i]:
			added, j = append(added, ng[j]), j+1
		default:
			i, j = i+1, j+1
		}
	}
	for _, g := range removed {
		if !c.roleOnly || c.privileged(g) {
			row(MembershipRemoved, g, "", "", "")
		}
	}
	for _, g := range added {
		if !c.roleOnly || c.privileged(g) {
			row(MembershipAdded, g, "", "", "")
		}
	}
	return out
}

func parseTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}
	}
	return t
}
