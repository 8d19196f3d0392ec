package cognitoemu

import (
	"fmt"
	"math"
	mrand "math/rand/v2"
	"slices"
	"strconv"
)

// RandomMutations draws a realistic mix of changes to p, the same for the
// same seed: share of the users deleted and as many added (in up to two
// groups), about 3% of the memberships changed (half removed, half added),
// two groups' role ARNs changed, one precedence and one description
// changed, one group deleted and one added with a few members, attribute
// changes (email, name set or removed, email_verified) on 0.5% of the users
// (at least 4), one user re-created (unless the username is the email), one
// disabled, one enabled and one with a new status. Parts that p is too
// small for are left out. The result always applies to p with Mutate.
func RandomMutations(p *Pool, seed int64, share float64) Mutations {
	r := mrand.New(mrand.NewPCG(uint64(seed), 0x6d757461))
	var m Mutations
	busy := map[int]bool{} // users deleted or re-created: nothing else may touch them
	pick := func(ok func(i int) bool) int {
		for range 200 {
			i := r.IntN(max(1, p.NumUsers()))
			if p.Exists(i) && !busy[i] && (ok == nil || ok(i)) {
				return i
			}
		}
		return -1
	}

	groups := p.Groups()
	var alive []string // groups that survive
	deleted := -1
	if len(groups) >= 2 {
		// One of the upper half, the smaller groups (low indexes are the
		// large ones): a realistic clean-up, not half the pool's rows.
		deleted = max(1, len(groups)/2) + r.IntN(len(groups)-max(1, len(groups)/2))
		m.DeleteGroups = []string{groups[deleted].Name}
	}
	for g := range groups {
		if g != deleted {
			alive = append(alive, groups[g].Name)
		}
	}
	order := r.Perm(len(groups))
	changed := 0
	for _, g := range order {
		if g == deleted {
			continue
		}
		c := GroupChange{Group: groups[g].Name}
		switch changed {
		case 0, 1:
			arn := "arn:aws:iam::123456789012:role/rotated-" + strconv.Itoa(g) + "-" + strconv.FormatInt(seed, 10)
			c.RoleArn = &arn
		case 2:
			prec := int32(100 + r.IntN(100))
			c.Precedence = &prec
		case 3:
			d := "changed by mutation " + strconv.FormatInt(seed, 10)
			c.Description = &d
		}
		m.ChangeGroups = append(m.ChangeGroups, c)
		if changed++; changed == 4 {
			break
		}
	}
	someGroups := func(k int) []string {
		var out []string
		for range k {
			if len(alive) == 0 {
				break
			}
			if g := alive[r.IntN(len(alive))]; !slices.Contains(out, g) {
				out = append(out, g)
			}
		}
		return out
	}

	k := int(math.Round(share * float64(p.liveUsers())))
	for range k {
		if i := pick(nil); i >= 0 {
			busy[i] = true
			m.DeleteUsers = append(m.DeleteUsers, i)
		}
		var gs []string
		if len(alive) > 0 {
			gs = someGroups(r.IntN(3))
		}
		m.AddUsers = append(m.AddUsers, NewUser{Groups: gs})
	}
	if i := pick(nil); i >= 0 && !p.spec.EmailAsUsername && len(alive) > 0 {
		busy[i] = true
		m.RecreateUsers = []Recreate{{User: i, Groups: someGroups(1 + r.IntN(2))}}
	}
	if i := pick(func(i int) bool { return p.User(i).Enabled }); i >= 0 {
		m.DisableUsers = []int{i}
	}
	if i := pick(func(i int) bool { return !p.User(i).Enabled }); i >= 0 {
		m.EnableUsers = []int{i}
	}
	if i := pick(func(i int) bool { return p.User(i).Status != "RESET_REQUIRED" }); i >= 0 {
		m.SetStatus = []StatusChange{{i, "RESET_REQUIRED"}}
	}
	for n := range max(4, p.liveUsers()/200) {
		i := pick(nil)
		if i < 0 {
			break
		}
		c := AttributeChange{User: i}
		switch n % 4 {
		case 0:
			c.Name, c.Value = "email", fmt.Sprintf("renamed.%d.%d@example.com", i, seed)
		case 1:
			c.Name, c.Value = "name", "Renamed Person "+strconv.Itoa(i)
		case 2:
			c.Name, c.Value = "email_verified", "true"
			if v, _ := p.attribute(i, new(p.User(i)), "email_verified"); v == "true" {
				c.Value = "false"
			}
		case 3:
			c.Name, c.Remove = "name", true
		}
		m.SetAttributes = append(m.SetAttributes, c)
	}

	if len(alive) > 0 {
		m.memberships(p, r, pick, alive, deleted)
		ng := NewGroup{Name: fmt.Sprintf("added-%d-%03d", seed, len(groups))}
		for range min(5, p.liveUsers()) {
			if i := pick(nil); i >= 0 && !slices.Contains(ng.Members, i) {
				ng.Members = append(ng.Members, i)
			}
		}
		if !slices.ContainsFunc(groups, func(g Group) bool { return g.Name == ng.Name }) {
			m.AddGroups = []NewGroup{ng}
		}
	}
	return m
}

// memberships draws the ~3% of memberships changed, never touching the
// deleted group or one pair twice.
func (m *Mutations) memberships(p *Pool, r *mrand.Rand, pick func(func(int) bool) int, alive []string, deleted int) {
	total := 0
	var buf [64]uint16
	for i := range p.NumUsers() {
		if p.Exists(i) {
			total += len(p.userGroups16(i, buf[:0]))
		}
	}
	half := int(math.Round(0.015 * float64(total)))
	seen := map[Membership]bool{}
	for tries := 0; len(m.RemoveMemberships) < half && tries < 10*half; tries++ {
		i := pick(nil)
		if i < 0 {
			break
		}
		list := p.userGroups16(i, buf[:0])
		if len(list) == 0 || int(list[0]) == deleted && len(list) == 1 {
			continue
		}
		g := int(list[r.IntN(len(list))])
		if ms := (Membership{i, p.groups[g].Name}); g != deleted && !seen[ms] {
			seen[ms] = true
			m.RemoveMemberships = append(m.RemoveMemberships, ms)
		}
	}
	for tries := 0; len(m.AddMemberships) < half && tries < 10*half; tries++ {
		i := pick(nil)
		if i < 0 {
			break
		}
		name := alive[r.IntN(len(alive))]
		ms := Membership{i, name}
		if seen[ms] || slices.ContainsFunc(p.userGroups16(i, buf[:0]), func(g uint16) bool { return p.groups[g].Name == name }) {
			continue
		}
		seen[ms] = true
		m.AddMemberships = append(m.AddMemberships, ms)
	}
}
