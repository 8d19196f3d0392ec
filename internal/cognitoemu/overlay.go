package cognitoemu

import "maps"

// overlay is what Mutate changed on top of a generated pool. The generated
// users and memberships (offsets, flat) stay shared with the pool it came
// from and are never written, so a mutation of a million-user pool costs
// what it changes, and both pools serve at once.
type overlay struct {
	added int          // users after the generated ones, at indexes spec.Users...
	gone  map[int]bool // users deleted
	users map[int]*userPatch
	// groups replaces the generated groups of a user (in the current group
	// numbering, ascending); present even when empty.
	groups map[int][]uint16
	// remap takes a generated group index to the current one (-1: deleted);
	// nil while no group was deleted, as added groups only append.
	remap  []int32
	emails map[string]int // addresses Mutate set, for Lookup by alias
	// names are the usernames NewUser.Username gave: they carry no index,
	// so Lookup needs them; a few, set by tests.
	names map[string]int
	gen   int // Mutate calls that led here; salts the subs of re-created users
}

// userPatch is a user whose record or attributes Mutate changed, or whom it
// added. Patches are never changed once a pool holds them: a later Mutate
// copies the ones it changes.
type userPatch struct {
	user  User
	attrs []attrPatch // at most one per name
}

type attrPatch struct {
	name, value string
	remove      bool
}

func (pt *userPatch) attr(name string) (attrPatch, bool) {
	for _, a := range pt.attrs {
		if a.name == name {
			return a, true
		}
	}
	return attrPatch{}, false
}

// apply changes the generated attributes in place and appends those the
// generator did not give the user, in the order they were set.
func (pt *userPatch) apply(attrs []Attribute) []Attribute {
	out := attrs[:0]
	for _, a := range attrs {
		if ap, ok := pt.attr(a.Name); ok {
			if ap.remove {
				continue
			}
			a.Value = ap.value
		}
		out = append(out, a)
	}
	for _, ap := range pt.attrs {
		if !ap.remove && !hasAttr(out, ap.name) {
			out = append(out, Attribute{ap.name, ap.value})
		}
	}
	return out
}

func hasAttr(attrs []Attribute, name string) bool {
	for _, a := range attrs {
		if a.Name == name {
			return true
		}
	}
	return false
}

func (pt *userPatch) clone() *userPatch {
	c := *pt
	c.attrs = append([]attrPatch(nil), pt.attrs...)
	return &c
}

func (pt *userPatch) set(name, value string, remove bool) {
	for k := range pt.attrs {
		if pt.attrs[k].name == name {
			pt.attrs[k] = attrPatch{name, value, remove}
			return
		}
	}
	pt.attrs = append(pt.attrs, attrPatch{name, value, remove})
}

// userGroups is user i's groups under the overlay.
func (o *overlay) userGroups(p *Pool, i int, buf []uint16) []uint16 {
	if g, ok := o.groups[i]; ok {
		return g
	}
	if i >= p.spec.Users {
		return nil
	}
	gen := p.flat[p.offsets[i]:p.offsets[i+1]]
	if o.remap == nil {
		return gen
	}
	buf = buf[:0]
	for _, g := range gen {
		if r := o.remap[g]; r >= 0 {
			buf = append(buf, uint16(r)) // remap keeps the order: deletion only closes gaps
		}
	}
	return buf
}

// clone copies the maps, not the patches or group lists they hold, which are
// replaced, never written.
func (o *overlay) clone() *overlay {
	if o == nil {
		return &overlay{gone: map[int]bool{}, users: map[int]*userPatch{}, groups: map[int][]uint16{}, emails: map[string]int{}, names: map[string]int{}}
	}
	return &overlay{added: o.added, gone: maps.Clone(o.gone), users: maps.Clone(o.users), groups: maps.Clone(o.groups),
		remap: o.remap, emails: maps.Clone(o.emails), names: maps.Clone(o.names), gen: o.gen}
}

// liveUsers counts the users that exist.
func (p *Pool) liveUsers() int {
	if p.mut == nil {
		return p.spec.Users
	}
	return p.NumUsers() - len(p.mut.gone)
}
