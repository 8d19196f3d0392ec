package cognitoemu_test

import (
	"fmt"
	"maps"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"

	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"

	"github.com/cognito-export/cognito-export/identity"
	"github.com/cognito-export/cognito-export/internal/cognitoemu"
)

func mustClient(t *testing.T, p *cognitoemu.Pool) *cip.Client {
	t.Helper()
	c, _ := client(t, cognitoemu.Options{}, p)
	return c
}

func sameSnapshot(a, b snapshot) bool {
	return maps.EqualFunc(a.users, b.users, sameUser) && maps.Equal(a.memberships, b.memberships)
}

func sameChanges(got, want []cognitoemu.Change) bool {
	return changesDiff(got, want) == ""
}

// changesDiff lists the changes only one side has, and duplicates.
func changesDiff(got, want []cognitoemu.Change) string {
	count := map[cognitoemu.Change]int{}
	for _, c := range got {
		count[c]++
	}
	for _, c := range want {
		count[c]--
	}
	var b strings.Builder
	for _, c := range slices.SortedFunc(maps.Keys(count), func(x, y cognitoemu.Change) int { return strings.Compare(fmt.Sprint(x), fmt.Sprint(y)) }) {
		if n := count[c]; n != 0 {
			fmt.Fprintf(&b, "%+d %+v\n", n, c)
		}
	}
	return b.String()
}

// bruteChanges is the oracle written the slow, obvious way, from what the
// models list: every user keyed by username, every group by name.
func bruteChanges(before, after *cognitoemu.Pool, attributes []string) []cognitoemu.Change {
	type user struct {
		u      cognitoemu.User
		attrs  map[string]string
		groups []string
	}
	users := func(p *cognitoemu.Pool) map[string]user {
		m := map[string]user{}
		for i := range p.NumUsers() {
			if !p.Exists(i) {
				continue
			}
			x := user{u: p.User(i), attrs: map[string]string{}}
			for _, a := range p.UserAttributes(i, nil) {
				x.attrs[a.Name] = a.Value
			}
			for _, g := range p.UserGroups(i, nil) {
				x.groups = append(x.groups, p.Groups()[g].Name)
			}
			m[x.u.Username] = x
		}
		return m
	}
	var out []cognitoemu.Change
	bu, au := users(before), users(after)
	membership := func(kind string, x user, except []string) {
		for _, g := range x.groups {
			if !slices.Contains(except, g) {
				out = append(out, cognitoemu.Change{Kind: kind, Username: x.u.Username, Sub: x.u.Sub, Group: g})
			}
		}
	}
	for name, b := range bu {
		a, ok := au[name]
		if !ok || a.u.Sub != b.u.Sub {
			out = append(out, cognitoemu.Change{Kind: "user_removed", Username: name, Sub: b.u.Sub})
			membership("membership_removed", b, nil)
			continue
		}
		field := func(f, was, now string) {
			if was != now {
				out = append(out, cognitoemu.Change{Kind: "user_changed", Username: name, Sub: b.u.Sub, Field: f, Old: was, New: now})
			}
		}
		field("user_status", b.u.Status, a.u.Status)
		field("user_enabled", strconv.FormatBool(b.u.Enabled), strconv.FormatBool(a.u.Enabled))
		for _, at := range attributes {
			field(identity.ColumnName(at), b.attrs[at], a.attrs[at])
		}
		membership("membership_removed", b, a.groups)
		membership("membership_added", a, b.groups)
	}
	for name, a := range au {
		if b, ok := bu[name]; !ok || a.u.Sub != b.u.Sub {
			out = append(out, cognitoemu.Change{Kind: "user_added", Username: name, Sub: a.u.Sub})
			membership("membership_added", a, nil)
		}
	}
	groups := func(p *cognitoemu.Pool) map[string]cognitoemu.Group {
		m := map[string]cognitoemu.Group{}
		for _, g := range p.Groups() {
			m[g.Name] = g
		}
		return m
	}
	bg, ag := groups(before), groups(after)
	prec := func(p *int32) string {
		if p == nil {
			return ""
		}
		return strconv.Itoa(int(*p))
	}
	for name, b := range bg {
		a, ok := ag[name]
		if !ok {
			out = append(out, cognitoemu.Change{Kind: "group_removed", Group: name})
			continue
		}
		for _, f := range [][3]string{{"group_role_arn", deref(b.RoleArn), deref(a.RoleArn)},
			{"group_precedence", prec(b.Precedence), prec(a.Precedence)}, {"group_description", deref(b.Description), deref(a.Description)}} {
			if f[1] != f[2] {
				out = append(out, cognitoemu.Change{Kind: "group_changed", Group: name, Field: f[0], Old: f[1], New: f[2]})
			}
		}
	}
	for name := range ag {
		if _, ok := bg[name]; !ok {
			out = append(out, cognitoemu.Change{Kind: "group_added", Group: name})
		}
	}
	return out
}

func TestRandomMutations(t *testing.T) {
	attrs := []string{"email", "name", "email_verified", "custom:department"}
	for _, spec := range []cognitoemu.PoolSpec{
		{Users: 2000, Groups: 40, Seed: 21},
		{Users: 600, Groups: 70, Seed: 22, EmailAsUsername: true},
	} {
		p := cognitoemu.NewPool(spec)
		m := cognitoemu.RandomMutations(p, 1, 0.01)
		if !reflect.DeepEqual(m, cognitoemu.RandomMutations(p, 1, 0.01)) {
			t.Fatal("RandomMutations differs for the same seed")
		}
		q, err := p.Mutate(m)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range m.SetAttributes {
			if c.Name == "email" && spec.EmailAsUsername {
				// The address is the sign-in alias: Lookup follows it.
				if i, ok := q.Lookup(c.Value); !ok || i != c.User {
					t.Errorf("Lookup(%q) = %d, %v, want %d", c.Value, i, ok, c.User)
				}
				if _, ok := q.Lookup(p.User(c.User).Email); ok {
					t.Errorf("Lookup still finds the old address %q", p.User(c.User).Email)
				}
			}
		}
		// A second round on the mutated pool: chained overlays.
		r, err := q.Mutate(cognitoemu.RandomMutations(q, 2, 0.01))
		if err != nil {
			t.Fatal(err)
		}
		kinds := map[string]int{}
		for _, pair := range [][2]*cognitoemu.Pool{{p, q}, {q, r}, {p, r}, {r, p}} {
			got := cognitoemu.Changes(pair[0], pair[1], attrs, identity.ColumnName)
			if d := changesDiff(got, bruteChanges(pair[0], pair[1], attrs)); d != "" {
				t.Fatalf("%+v: Changes and the brute-force oracle differ:\n%s", spec, d)
			}
			if pair[0] == p && pair[1] == q {
				for _, c := range got {
					kinds[c.Kind]++
				}
			}
		}
		for _, k := range []string{"user_added", "user_removed", "user_changed", "membership_added", "membership_removed", "group_added", "group_removed", "group_changed"} {
			if kinds[k] == 0 {
				t.Errorf("%+v: no %s among the random changes (%v)", spec, k, kinds)
			}
		}
		if n := len(cognitoemu.Changes(p, p, attrs, identity.ColumnName)); n != 0 {
			t.Errorf("a pool differs from itself by %d changes", n)
		}
		for _, pool := range []*cognitoemu.Pool{p, q, r} {
			checkAgainstModel(t, mustClient(t, pool), pool)
		}
	}
}

// TestChangesOfUnrelatedPools takes the path for pools that do not come
// from the same generated pool: usernames are matched, not indexes.
func TestChangesOfUnrelatedPools(t *testing.T) {
	attrs := []string{"email", "name"}
	p := cognitoemu.NewPool(cognitoemu.PoolSpec{Users: 400, Groups: 20, Seed: 31})
	m := cognitoemu.RandomMutations(p, 3, 0.02)
	q, err := p.Mutate(m)
	if err != nil {
		t.Fatal(err)
	}
	// The same users and groups under another pool name: another spec.
	other := cognitoemu.NewPool(cognitoemu.PoolSpec{Users: 400, Groups: 20, Seed: 31, Name: "elsewhere"})
	oq, err := other.Mutate(m)
	if err != nil {
		t.Fatal(err)
	}
	got := cognitoemu.Changes(p, oq, attrs, identity.ColumnName)
	if d := changesDiff(got, cognitoemu.Changes(p, q, attrs, identity.ColumnName)); d != "" || len(got) == 0 {
		t.Fatalf("matched by username, %d changes; by index:\n%s", len(got), d)
	}
	if d := changesDiff(cognitoemu.Changes(cognitoemu.NewPool(cognitoemu.PoolSpec{Users: 30, Groups: 3, Seed: 1}), q, attrs, identity.ColumnName),
		bruteChanges(cognitoemu.NewPool(cognitoemu.PoolSpec{Users: 30, Groups: 3, Seed: 1}), q, attrs)); d != "" {
		t.Fatalf("pools of different seeds:\n%s", d)
	}
}

// TestMutateBigPoolStaysCompact checks that a mutation of a million-user
// pool costs what it changes, not what the pool holds.
func TestMutateBigPoolStaysCompact(t *testing.T) {
	if testing.Short() {
		t.Skip("a million-user pool")
	}
	p := cognitoemu.NewPool(cognitoemu.PoolSpec{Users: 1_000_000, Groups: 10, Seed: 1})
	m := cognitoemu.RandomMutations(p, 1, 0.001)
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	q, err := p.Mutate(m)
	if err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	grown := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	if grown > 16<<20 {
		t.Fatalf("mutating %d users and %d memberships holds %d MB", len(m.DeleteUsers)+len(m.AddUsers)+len(m.SetAttributes),
			len(m.AddMemberships)+len(m.RemoveMemberships), grown>>20)
	}
	t.Logf("%d users deleted, %d added, %d attributes, %d memberships: %d KB", len(m.DeleteUsers), len(m.AddUsers), len(m.SetAttributes),
		len(m.AddMemberships)+len(m.RemoveMemberships), grown>>10)
	changes := cognitoemu.Changes(p, q, []string{"email"}, identity.ColumnName)
	if len(changes) < len(m.DeleteUsers)+len(m.AddUsers) {
		t.Fatalf("%d changes", len(changes))
	}
	runtime.KeepAlive(q)
}
