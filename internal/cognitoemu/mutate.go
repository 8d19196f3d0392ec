package cognitoemu

import (
	"errors"
	"fmt"
	"slices"
	"time"
	"unicode/utf8"
)

// mutation is Mutate's work in progress.
type mutation struct {
	old, q *Pool
	o      *overlay
	at     time.Time
	gidx   map[string]int // group name → index in q.groups
	edited map[int]bool   // patches already copied for this mutation
}

// Mutate returns a new pool: p with m applied. p is unchanged, and both may
// be served at once (by two servers, as the pool's id is the same). The
// generated data is shared, so the new pool costs what m changes.
func (p *Pool) Mutate(m Mutations) (*Pool, error) {
	at := m.At
	if at.IsZero() {
		at = DefaultMutationTime
	}
	o := p.mut.clone()
	o.gen++
	mu := &mutation{old: p, o: o, at: at.UTC().Truncate(time.Millisecond), edited: map[int]bool{},
		q: &Pool{spec: p.spec, offsets: p.offsets, flat: p.flat, created: p.created, mut: o}}
	if err := mu.groups(&m); err != nil {
		return nil, err
	}
	if err := mu.users(&m); err != nil {
		return nil, err
	}
	adds := m.AddMemberships
	for _, ng := range m.AddGroups {
		for _, u := range ng.Members {
			adds = append(adds, Membership{u, ng.Name})
		}
	}
	for _, ms := range m.RemoveMemberships {
		if err := mu.membership(ms, false); err != nil {
			return nil, fmt.Errorf("remove user %d from %q: %w", ms.User, ms.Group, err)
		}
	}
	for _, ms := range adds {
		if err := mu.membership(ms, true); err != nil {
			return nil, fmt.Errorf("add user %d to %q: %w", ms.User, ms.Group, err)
		}
	}
	return mu.q, nil
}

// later is at, or just after t when t is not before it: a change never
// makes a last-modified date go back.
func later(at, t time.Time) time.Time {
	if at.After(t) {
		return at
	}
	return t.Add(time.Millisecond)
}

func (mu *mutation) groups(m *Mutations) error {
	groups := slices.Clone(mu.old.groups)
	mu.gidx = make(map[string]int, len(groups)+len(m.AddGroups))
	for g := range groups {
		mu.gidx[groups[g].Name] = g
	}
	if len(m.DeleteGroups) > 0 {
		step := make([]int32, len(groups)) // old index → new, -1 deleted
		for _, name := range m.DeleteGroups {
			g, ok := mu.gidx[name]
			if !ok || step[g] < 0 {
				return fmt.Errorf("delete group %q: no such group", name)
			}
			step[g] = -1
		}
		kept := groups[:0]
		for g := range groups {
			if step[g] >= 0 {
				step[g] = int32(len(kept))
				kept = append(kept, groups[g])
			}
		}
		groups = kept
		remap := make([]int32, mu.old.spec.Groups)
		for b := range remap {
			r := int32(b)
			if mu.o.remap != nil {
				r = mu.o.remap[b]
			}
			if r >= 0 {
				r = step[r]
			}
			remap[b] = r
		}
		mu.o.remap = remap
		for i, list := range mu.o.groups {
			moved := make([]uint16, 0, len(list))
			for _, g := range list {
				if r := step[g]; r >= 0 {
					moved = append(moved, uint16(r))
				}
			}
			mu.o.groups[i] = moved
		}
		clear(mu.gidx)
		for g := range groups {
			mu.gidx[groups[g].Name] = g
		}
	}
	for _, ng := range m.AddGroups {
		if _, dup := mu.gidx[ng.Name]; dup || ng.Name == "" || utf8.RuneCountInString(ng.Name) > 128 || !namePattern.MatchString(ng.Name) {
			return fmt.Errorf("add group %q: the name is taken or invalid", ng.Name)
		}
		mu.gidx[ng.Name] = len(groups)
		groups = append(groups, Group{Name: ng.Name, Description: ng.Description, RoleArn: ng.RoleArn,
			Precedence: ng.Precedence, Created: mu.at, Modified: mu.at})
	}
	if len(groups) > 1<<16 {
		return fmt.Errorf("add groups: %d groups, the emulator holds at most %d", len(groups), 1<<16)
	}
	for _, c := range m.ChangeGroups {
		g, ok := mu.gidx[c.Group]
		if !ok {
			return fmt.Errorf("change group %q: no such group", c.Group)
		}
		gr := &groups[g]
		set := func(dst **string, v *string, remove bool) {
			if remove {
				*dst = nil
			} else if v != nil {
				s := *v
				*dst = &s
			}
		}
		set(&gr.Description, c.Description, c.RemoveDescription)
		set(&gr.RoleArn, c.RoleArn, c.RemoveRoleArn)
		if c.RemovePrecedence {
			gr.Precedence = nil
		} else if c.Precedence != nil {
			v := *c.Precedence
			gr.Precedence = &v
		}
		gr.Modified = later(mu.at, gr.Modified)
	}
	mu.q.groups = groups
	return nil
}

var errNoUser = errors.New("no such user")

// edit is the patch of user i for this mutation, copied from the previous
// pool's the first time.
func (mu *mutation) edit(i int) (*userPatch, error) {
	if !mu.q.Exists(i) {
		return nil, errNoUser
	}
	pt := mu.o.users[i]
	switch {
	case pt == nil:
		pt = &userPatch{user: mu.q.User(i)}
	case !mu.edited[i]:
		pt = pt.clone()
	}
	mu.o.users[i], mu.edited[i] = pt, true
	return pt, nil
}

// touch marks user i changed now.
func (mu *mutation) touch(pt *userPatch) { pt.user.Modified = later(mu.at, pt.user.Modified) }

func (mu *mutation) groupList(names []string) ([]uint16, error) {
	list := make([]uint16, 0, len(names))
	for _, name := range names {
		g, ok := mu.gidx[name]
		if !ok {
			return nil, fmt.Errorf("no group %q", name)
		}
		if slices.Contains(list, uint16(g)) {
			return nil, fmt.Errorf("group %q given twice", name)
		}
		list = append(list, uint16(g))
	}
	slices.Sort(list)
	return list, nil
}

func (mu *mutation) users(m *Mutations) error {
	for _, i := range m.DeleteUsers {
		if !mu.q.Exists(i) {
			return fmt.Errorf("delete user %d: %w", i, errNoUser)
		}
		mu.o.gone[i] = true
	}
	for k, nu := range m.AddUsers {
		list, err := mu.groupList(nu.Groups)
		if err != nil {
			return fmt.Errorf("add user %d: %w", k, err)
		}
		i := mu.q.NumUsers()
		u := mu.q.genUser(i)
		if nu.Username != "" {
			if err := mu.name(nu.Username); err != nil {
				return fmt.Errorf("add user %d: %w", k, err)
			}
			u.Username = nu.Username
			mu.o.names[u.Username] = i
		} else if _, taken := mu.q.Lookup(u.Username); taken {
			// A name given earlier may be the one the generator makes now.
			return fmt.Errorf("add user %d: its generated username %q is taken", k, u.Username)
		}
		mu.o.added++
		u.Created, u.Modified = mu.at, mu.at
		mu.o.users[i], mu.edited[i] = &userPatch{user: u}, true
		mu.o.groups[i] = list
	}
	for _, r := range m.RecreateUsers {
		if mu.q.spec.EmailAsUsername {
			return fmt.Errorf("re-create user %d: the username is the sub in this pool: delete and add instead", r.User)
		}
		list, err := mu.groupList(r.Groups)
		if err != nil {
			return fmt.Errorf("re-create user %d: %w", r.User, err)
		}
		pt, err := mu.edit(r.User)
		if err != nil {
			return fmt.Errorf("re-create user %d: %w", r.User, err)
		}
		pt.user.Sub = mu.q.newSub(r.User)
		pt.user.Created = later(mu.at, pt.user.Modified)
		pt.user.Modified = pt.user.Created
		mu.o.groups[r.User] = list
	}
	for _, c := range []struct {
		users   []int
		enabled bool
	}{{m.DisableUsers, false}, {m.EnableUsers, true}} {
		for _, i := range c.users {
			pt, err := mu.edit(i)
			if err != nil {
				return fmt.Errorf("set enabled of user %d: %w", i, err)
			}
			pt.user.Enabled = c.enabled
			mu.touch(pt)
		}
	}
	for _, c := range m.SetStatus {
		if !slices.Contains(userStatuses, c.Status) {
			return fmt.Errorf("set status of user %d: unknown status %q", c.User, c.Status)
		}
		pt, err := mu.edit(c.User)
		if err != nil {
			return fmt.Errorf("set status of user %d: %w", c.User, err)
		}
		// The generator derives email_verified from the status: pin it.
		if _, ok := pt.attr("email_verified"); !ok {
			v, has := mu.q.attribute(c.User, &pt.user, "email_verified")
			pt.set("email_verified", v, !has)
		}
		pt.user.Status = c.Status
		mu.touch(pt)
	}
	for _, c := range m.SetAttributes {
		if c.Name == "sub" || !inSchema(c.Name) {
			return fmt.Errorf("set attribute %q of user %d: not a mutable attribute of the schema", c.Name, c.User)
		}
		pt, err := mu.edit(c.User)
		if err != nil {
			return fmt.Errorf("set attribute %q of user %d: %w", c.Name, c.User, err)
		}
		pt.set(c.Name, c.Value, c.Remove)
		if c.Name == "email" {
			delete(mu.o.emails, pt.user.Email)
			pt.user.Email = ""
			if !c.Remove {
				pt.user.Email = c.Value
				mu.o.emails[c.Value] = c.User
			}
		}
		mu.touch(pt)
	}
	return nil
}

// name checks a username NewUser gives, as AdminCreateUser would.
func (mu *mutation) name(username string) error {
	switch {
	case mu.q.spec.EmailAsUsername:
		return fmt.Errorf("username %q: this pool's usernames are generated UUIDs (email is the username attribute)", username)
	case utf8.RuneCountInString(username) > 128 || !namePattern.MatchString(username):
		return fmt.Errorf("username %q: not a username Cognito accepts (1 to 128 letters, marks, symbols, numbers or punctuation; no spaces)", username)
	}
	if _, taken := mu.q.Lookup(username); taken {
		return fmt.Errorf("username %q: taken (UsernameExistsException)", username)
	}
	return nil
}

// membership adds or removes one membership. The list is copied, never
// written in place: it may be the generated one, or the previous pool's.
func (mu *mutation) membership(ms Membership, add bool) error {
	if !mu.q.Exists(ms.User) {
		return errNoUser
	}
	g, ok := mu.gidx[ms.Group]
	if !ok {
		return errors.New("no such group")
	}
	var buf [64]uint16
	cur := mu.q.userGroups16(ms.User, buf[:0])
	at, member := slices.BinarySearch(cur, uint16(g))
	switch {
	case add && member:
		return errors.New("already a member")
	case !add && !member:
		return errors.New("not a member")
	}
	next := make([]uint16, 0, len(cur)+1)
	next = append(next, cur[:at]...)
	if add {
		next = append(next, uint16(g))
		next = append(next, cur[at:]...)
	} else {
		next = append(next, cur[at+1:]...)
	}
	mu.o.groups[ms.User] = next
	return nil
}

// newSub is the sub of user i re-created by this pool's Mutate call.
func (p *Pool) newSub(i int) string {
	s := p.hash(1000+uint64(p.mut.gen)*2, i)
	s2 := p.hash(1001+uint64(p.mut.gen)*2, i)
	return fmt.Sprintf("%08x-%04x-4%03x-%04x-%012x", uint32(s), uint16(s>>32), uint16(s>>48)&0xfff, uint16(s2)&0x3fff|0x8000, s2>>16&0xffffffffffff)
}
