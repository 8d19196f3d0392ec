// Package cognitoemu is an Amazon Cognito user pools emulator for tests, the
// demo and benchmarks: it speaks the AWS JSON 1.1 wire protocol of the list
// operations the exporter uses, over synthetic pools generated from a seed.
package cognitoemu

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"sync"
	"time"
)

// PoolSpec describes a synthetic pool; the same spec always yields the same pool.
type PoolSpec struct {
	ID                string // default "us-east-1_EmuPool01"; the prefix is the pool's region
	Name              string // default "emulated pool"
	Users             int
	Groups            int
	Seed              int64
	MeanGroupsPerUser float64 // default 1.5
	NoGroupShare      float64 // share of users without groups; default 0.2, negative for none
	WideUsers         int     // users in more than 60 groups (needs Groups > 60); default Users/2000, at least 1
	// EmailAsUsername makes email the pool's username attribute
	// (UsernameAttributes ["email"]): usernames are then UUIDs, equal to
	// the sub as Cognito makes them, and the email is the sign-in name.
	EmailAsUsername bool
}

// User is one user as ListUsers returns it.
type User struct {
	Username, Sub, Email, Status string
	Enabled                      bool
	Created, Modified            time.Time
}

// Group is one group as ListGroups returns it.
type Group struct {
	Name                 string
	Description, RoleArn *string
	Precedence           *int32
	Created, Modified    time.Time
}

// Pool is a generated user pool. Users are derived from their index on
// demand; only the memberships are stored, as one flat array of group
// indexes, so a million users cost a few tens of MB.
type Pool struct {
	spec    PoolSpec
	groups  []Group
	offsets []uint32 // user i's groups are flat[offsets[i]:offsets[i+1]]
	flat    []uint16
	created time.Time

	membersOnce sync.Once
	members     [][]int32 // group → users, built on first ListUsersInGroup

	universalState

	// mut holds what Mutate changed on top of the generated users and
	// memberships, which it shares with the pool it came from; nil for a
	// pool NewPool made.
	mut *overlay
}

const indexDigits = 8 // usernames carry their index in 8 digits; no style prefix has digits

// splitmix64 is a fast, well-mixed hash for deriving per-user values.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

func (p *Pool) hash(salt uint64, i int) uint64 {
	return splitmix64(uint64(p.spec.Seed)*0x100000001b3 ^ salt<<40 ^ uint64(i))
}

func unit(h uint64) float64 { return float64(h>>11) / (1 << 53) }

var epoch = time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC)

// dateFrom picks a millisecond-precision instant in 2019-2025.
func dateFrom(h uint64) time.Time {
	const span = 6 * 365 * 24 * 3600 * 1000
	return epoch.Add(time.Duration(h%span) * time.Millisecond)
}

// NewPool generates the pool of spec.
func NewPool(spec PoolSpec) *Pool {
	if spec.ID == "" {
		spec.ID = "us-east-1_EmuPool01"
	}
	if spec.MeanGroupsPerUser == 0 {
		spec.MeanGroupsPerUser = 1.5
	}
	if spec.NoGroupShare == 0 {
		spec.NoGroupShare = 0.2
	} else if spec.NoGroupShare < 0 {
		spec.NoGroupShare = 0
	}
	if spec.Groups > 60 && spec.WideUsers == 0 {
		spec.WideUsers = max(1, spec.Users/2000)
	}
	if spec.Groups <= 60 {
		spec.WideUsers = 0
	}
	p := &Pool{spec: spec, created: dateFrom(uint64(spec.Seed))}
	p.groups = make([]Group, spec.Groups)
	for g := range p.groups {
		p.groups[g] = p.makeGroup(g)
	}
	p.offsets = make([]uint32, spec.Users+1)
	p.flat = make([]uint16, 0, int(float64(spec.Users)*spec.MeanGroupsPerUser*1.1)+16)
	wideEvery := 0
	if spec.WideUsers > 0 {
		wideEvery = max(1, spec.Users/spec.WideUsers)
	}
	// Geometric group counts with mean E give MeanGroupsPerUser overall
	// once the users without groups are taken out.
	e := spec.MeanGroupsPerUser / max(1e-9, 1-spec.NoGroupShare)
	logq := math.Log(1 - 1/max(e, 1.0000001))
	var pick []int
	for i := range spec.Users {
		p.offsets[i] = uint32(len(p.flat))
		k := 0
		h := p.hash(1, i)
		switch {
		case spec.Groups == 0:
		case wideEvery > 0 && i%wideEvery == wideEvery/2:
			hi := min(spec.Groups, 150)
			k = 61 + int(h%uint64(hi-60))
		case unit(h) < spec.NoGroupShare:
		default:
			k = 1 + int(math.Log(1-unit(p.hash(2, i)))/logq)
			k = min(k, spec.Groups, 40)
		}
		pick = p.pickGroups(i, k, pick[:0])
		for _, g := range pick {
			p.flat = append(p.flat, uint16(g))
		}
	}
	p.offsets[spec.Users] = uint32(len(p.flat))
	return p
}

// pickGroups draws k distinct groups for user i, favouring low indexes so
// that a few groups are large, as in real pools.
func (p *Pool) pickGroups(i, k int, dst []int) []int {
	n := p.spec.Groups
	for j := uint64(0); len(dst) < k; j++ {
		h := p.hash(3+j, i)
		var g int
		if k*2 > n {
			g = int(h % uint64(n)) // wide users: uniform, or the draw takes long
		} else {
			u := unit(h)
			g = int(u * u * float64(n))
		}
		if !slices.Contains(dst, g) {
			dst = append(dst, g)
		}
	}
	slices.Sort(dst)
	return dst
}

var groupStyles = []string{"admins-%03d", "グループ-%03d", `team,"%03d"`, "g=%03d+ops", "ünïcödé-%03d", "🚀-%03d", "Ops;Team-%03d"}

var descriptions = []string{
	"Line one\nline two, \"quoted\"",
	"=SUM(A1:A2) looks like a formula",
	"CRLF\r\ninside, and a tab\there",
	"plain description",
	"emoji 🚀🔐 and 漢字",
	"",
}

func (p *Pool) makeGroup(g int) Group {
	h := p.hash(100, g)
	gr := Group{
		Name:    fmt.Sprintf(groupStyles[g%len(groupStyles)], g),
		Created: dateFrom(p.hash(101, g)),
	}
	gr.Modified = gr.Created.Add(time.Duration(h%(400*24*3600)) * time.Second)
	if h%4 != 0 {
		d := descriptions[(h>>8)%uint64(len(descriptions))] + " #" + strconv.Itoa(g)
		gr.Description = &d
	}
	if (h>>16)%5 < 3 {
		arn := "arn:aws:iam::123456789012:role/cognito-" + strconv.Itoa(g)
		gr.RoleArn = &arn
	}
	if g == 0 || (h>>24)%10 < 7 {
		prec := int32(0)
		if g != 0 {
			prec = int32((h >> 32) % 100)
		}
		gr.Precedence = &prec
	}
	return gr
}

var userStyles = []string{"user%08d", "名前%08d", "o'brien,%08d", `"quoted"%08d`, "émile+%08d@example.com", "🚀rocket%08d", "a=b%08d", "user%08d"}

// ID is the pool's id.
func (p *Pool) ID() string { return p.spec.ID }

// Name is the pool's name, as DescribeUserPool and ListUserPools give it.
func (p *Pool) Name() string {
	if p.spec.Name == "" {
		return "emulated pool"
	}
	return p.spec.Name
}

// NumUsers is the number of user indexes: the generated users and those
// Mutate added. Indexes of users Mutate deleted stay counted (Exists says
// which are gone), so an index means the same user in every mutation of a
// pool.
func (p *Pool) NumUsers() int {
	if p.mut == nil {
		return p.spec.Users
	}
	return p.spec.Users + p.mut.added
}

// Exists reports whether user i is in the pool: not deleted by Mutate.
func (p *Pool) Exists(i int) bool {
	if i < 0 || i >= p.NumUsers() {
		return false
	}
	return p.mut == nil || !p.mut.gone[i]
}

// Groups returns every group, in ListGroups order.
func (p *Pool) Groups() []Group { return p.groups }

func (p *Pool) username(i int) string {
	if p.spec.EmailAsUsername {
		return p.uuid(i)
	}
	return fmt.Sprintf(userStyles[i%len(userStyles)], i)
}

// User returns user i, in ListUsers order. For a user Mutate deleted it is
// the user as last seen.
func (p *Pool) User(i int) User {
	if p.mut != nil {
		if pt := p.mut.users[i]; pt != nil {
			return pt.user
		}
	}
	return p.genUser(i)
}

// genUser is user i as the generator makes it, for any index.
func (p *Pool) genUser(i int) User {
	h := p.hash(10, i)
	u := User{
		Username: p.username(i),
		Email:    p.email(i),
		Status:   "CONFIRMED",
		Enabled:  h%100 >= 3,
		Created:  dateFrom(p.hash(11, i)),
	}
	switch s := (h >> 8) % 100; {
	case s < 5:
		u.Status = "FORCE_CHANGE_PASSWORD"
	case s < 10:
		u.Status = "UNCONFIRMED"
	case s < 15:
		u.Status = "EXTERNAL_PROVIDER"
	}
	u.Modified = u.Created.Add(time.Duration((h>>16)%(500*24*3600*1000)) * time.Millisecond)
	if p.spec.EmailAsUsername {
		u.Sub = u.Username
		return u
	}
	s := p.hash(12, i)
	s2 := p.hash(13, i)
	u.Sub = fmt.Sprintf("%08x-%04x-4%03x-%04x-%012x", uint32(s), uint16(s>>32), uint16(s>>48)&0xfff, uint16(s2)&0x3fff|0x8000, s2>>16&0xffffffffffff)
	return u
}

// UserGroups appends the indexes (into Groups) of user i's groups to dst,
// in the order AdminListGroupsForUser returns them.
func (p *Pool) UserGroups(i int, dst []int) []int {
	var buf [64]uint16
	for _, g := range p.userGroups16(i, buf[:0]) {
		dst = append(dst, int(g))
	}
	return dst
}

// userGroups16 is user i's groups, ascending. It may be buf (reused) or
// shared storage: callers only read it.
func (p *Pool) userGroups16(i int, buf []uint16) []uint16 {
	if p.mut == nil {
		return p.flat[p.offsets[i]:p.offsets[i+1]]
	}
	return p.mut.userGroups(p, i, buf)
}

// Lookup finds a user by username (or, when email is the username
// attribute, by email too, as Cognito's Admin operations accept an alias):
// the index is in the name, and the name is regenerated to check it, so no
// map of a million strings is needed.
// A user Mutate deleted is not found.
func (p *Pool) Lookup(username string) (int, bool) {
	i, ok := p.lookup(username)
	return i, ok && p.Exists(i)
}

func (p *Pool) lookup(username string) (int, bool) {
	if p.mut != nil && len(p.mut.names) > 0 {
		if i, ok := p.mut.names[username]; ok {
			return i, true // re-added after a delete, the name points at the new user
		}
	}
	if p.spec.EmailAsUsername {
		i, ok := p.uuidIndex(username)
		if !ok && p.mut != nil {
			i, ok = p.mut.emails[username] // an address Mutate set carries no index
		}
		if !ok {
			i = emailIndex(username)
			ok = i >= 0 && i < p.NumUsers() && p.User(i).Email == username
		}
		return i, ok
	}
	run, start := 0, -1
	for k := 0; k < len(username); k++ {
		if c := username[k]; c >= '0' && c <= '9' {
			if run == 0 {
				start = k
			}
			run++
			if run == indexDigits {
				i, err := strconv.Atoi(username[start : start+indexDigits])
				if err != nil || i >= p.NumUsers() || p.username(i) != username {
					return 0, false
				}
				if i >= p.spec.Users && p.User(i).Username != username {
					return 0, false // an added user whose name was given, not generated
				}
				return i, true
			}
		} else {
			run = 0
		}
	}
	return 0, false
}

// members returns the users of group g, in ListUsersInGroup order.
func (p *Pool) membersOf(g int) []int32 {
	p.membersOnce.Do(func() {
		counts := make([]int, len(p.groups))
		var buf [64]uint16
		for i := range p.NumUsers() {
			if p.Exists(i) {
				for _, gi := range p.userGroups16(i, buf[:0]) {
					counts[gi]++
				}
			}
		}
		p.members = make([][]int32, len(p.groups))
		for gi := range p.members {
			p.members[gi] = make([]int32, 0, counts[gi])
		}
		for i := range p.NumUsers() {
			if p.Exists(i) {
				for _, gi := range p.userGroups16(i, buf[:0]) {
					p.members[gi] = append(p.members[gi], int32(i))
				}
			}
		}
	})
	return p.members[g]
}

// GroupSize is the number of members of group g (an index into Groups). A
// group may have none: generated pools with many groups for their users
// (at most 60, as more bring users in over 60 groups who fill them) leave
// some of the last, smallest ones empty, and Mutate may add or empty one.
// An export has no row for an empty group.
func (p *Pool) GroupSize(g int) int { return len(p.membersOf(g)) }

func (p *Pool) groupIndex(name string) (int, bool) {
	for g := range p.groups {
		if p.groups[g].Name == name {
			return g, true
		}
	}
	return 0, false
}
