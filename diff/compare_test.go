package diff

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cognito-export/cognito-export/sink"
)

// joinRows joins rows and lists of rows.
func joinRows(xs ...any) []urow {
	var out []urow
	for _, x := range xs {
		switch x := x.(type) {
		case urow:
			out = append(out, x)
		case []urow:
			out = append(out, x...)
		default:
			panic(fmt.Sprintf("joinRows: %T", x))
		}
	}
	return out
}

// The groups of most cases: ops grants a role on both sides; gone granted
// admin and is deleted since; readers and board grant none.
var (
	oldTestGroups = groupsWith("ops", arnOps, "gone", arnAdmin, "readers", "", "board", "")
	newTestGroups = groupsWith("ops", arnOps, "readers", "", "board", "")
)

type compareCase struct {
	name     string
	old, new []urow
	roleOnly bool
	attrs    []string // the attribute columns compared
	want     []string // by user, each user's rows in the order written
}

var compareCases = []compareCase{
	{name: "unchanged",
		// Another export time and another row order change nothing.
		old: joinRows(du("alice").each("ops", "readers"), du("bob")),
		new: joinRows(du("bob").at("2026-03-02T00:00:00Z"), du("alice").at("2026-03-02T00:00:00Z").each("readers", "ops"))},
	{name: "user_added",
		new: joinRows(du("alice").each("ops", "readers"), du("bob")),
		want: []string{"user_added alice|sub-alice", "membership_added alice|sub-alice ops role=" + arnOps,
			"membership_added alice|sub-alice readers", "user_added bob|sub-bob"}},
	{name: "user_removed",
		old: joinRows(du("alice").each("gone", "ops"), du("bob")),
		want: []string{"user_removed alice|sub-alice", "membership_removed alice|sub-alice gone role=" + arnAdmin,
			"membership_removed alice|sub-alice ops role=" + arnOps, "user_removed bob|sub-bob"}},
	{name: "recreated_under_the_same_username",
		old: joinRows(du("alice").withSub("s1").in("ops")),
		new: joinRows(du("alice").withSub("s2").in("ops")),
		want: []string{"user_removed alice|s1", "membership_removed alice|s1 ops role=" + arnOps,
			"user_added alice|s2", "membership_added alice|s2 ops role=" + arnOps}},
	{name: "disabled",
		old: joinRows(du("alice").in("ops")), new: joinRows(du("alice").off().in("ops")),
		want: []string{`user_changed alice|sub-alice user_enabled: "true" -> "false"`}},
	{name: "enabled",
		old: joinRows(du("alice").off()), new: joinRows(du("alice")),
		want: []string{`user_changed alice|sub-alice user_enabled: "false" -> "true"`}},
	{name: "status",
		old: joinRows(du("alice").in("ops")), new: joinRows(du("alice").is("RESET_REQUIRED").in("ops")),
		want: []string{`user_changed alice|sub-alice user_status: "CONFIRMED" -> "RESET_REQUIRED"`}},
	{name: "attributes", attrs: []string{"email", "email_verified", "locale"},
		old: joinRows(du("alice").with("a@example.com", "true", "fr").in("ops")),
		new: joinRows(du("alice").with("b@example.com", "", "fr").in("ops")),
		want: []string{`user_changed alice|sub-alice email: "a@example.com" -> "b@example.com"`,
			`user_changed alice|sub-alice email_verified: "true" -> ""`}},
	{name: "attributes_unchanged", attrs: []string{"email"},
		old: joinRows(du("alice").with("a@example.com").each("ops", "readers")),
		new: joinRows(du("alice").with("a@example.com").each("ops", "readers"))},
	{name: "membership_added",
		old: joinRows(du("alice").in("readers")), new: joinRows(du("alice").each("ops", "readers")),
		want: []string{"membership_added alice|sub-alice ops role=" + arnOps}},
	{name: "first_membership_of_a_user_without_groups",
		old: joinRows(du("alice")), new: joinRows(du("alice").in("readers")),
		want: []string{"membership_added alice|sub-alice readers"}},
	{name: "membership_removed",
		old: joinRows(du("alice").each("ops", "readers")), new: joinRows(du("alice").in("readers")),
		want: []string{"membership_removed alice|sub-alice ops role=" + arnOps}},
	{name: "last_membership_removed",
		old: joinRows(du("alice").in("readers")), new: joinRows(du("alice")),
		want: []string{"membership_removed alice|sub-alice readers"}},
	{name: "membership_of_a_deleted_group_removed",
		old: joinRows(du("alice").each("gone", "readers")), new: joinRows(du("alice").in("readers")),
		want: []string{"membership_removed alice|sub-alice gone role=" + arnAdmin}},
	{name: "everything_at_once", attrs: []string{"email"},
		old: joinRows(du("alice").with("a@example.com").each("board", "ops")),
		new: joinRows(du("alice").is("RESET_REQUIRED").off().with("b@example.com").each("readers", "board")),
		want: []string{`user_changed alice|sub-alice user_status: "CONFIRMED" -> "RESET_REQUIRED"`,
			`user_changed alice|sub-alice user_enabled: "true" -> "false"`,
			`user_changed alice|sub-alice email: "a@example.com" -> "b@example.com"`,
			"membership_removed alice|sub-alice ops role=" + arnOps, "membership_added alice|sub-alice readers"}},
	{name: "role_only_leaves_out_users_of_no_role_group", roleOnly: true,
		old: joinRows(du("alice").in("readers"), du("bob").in("board")),
		new: joinRows(du("alice").is("RESET_REQUIRED").each("board", "readers"), du("carol").in("readers"))},
	{name: "role_only_keeps_members_of_a_role_group", roleOnly: true,
		old: joinRows(du("alice").each("ops", "readers")),
		new: joinRows(du("alice").is("RESET_REQUIRED").each("board", "readers"), du("carol").in("ops")),
		want: []string{`user_changed alice|sub-alice user_status: "CONFIRMED" -> "RESET_REQUIRED"`,
			"membership_removed alice|sub-alice ops role=" + arnOps,
			"user_added carol|sub-carol", "membership_added carol|sub-carol ops role=" + arnOps}},
	{name: "role_only_keeps_a_group_that_lost_its_role", roleOnly: true,
		old: joinRows(du("alice").each("gone", "readers")), new: joinRows(du("alice").in("readers")),
		want: []string{"membership_removed alice|sub-alice gone role=" + arnAdmin}},
}

// TestCompare: each kind of change of a user and of a membership, with
// the exact rows it gives, and the cases that give none.
func TestCompare(t *testing.T) {
	for _, c := range compareCases {
		t.Run(c.name, func(t *testing.T) {
			cp := newComparer(diffPool, c.attrs, roles{old: oldTestGroups, new: newTestGroups}, c.roleOnly)
			got := byUser(cp.compare(sideOf(len(c.attrs), c.old...), sideOf(len(c.attrs), c.new...)))
			want := c.want
			if want == nil {
				want = []string{}
			}
			if !slices.Equal(got, want) {
				t.Fatalf("changes\n got %s\nwant %s", strings.Join(got, "\n     "), strings.Join(want, "\n     "))
			}
		})
	}
}

// TestCompareManyUsers: walking both sides at once pairs each user with
// itself, however the users interleave.
func TestCompareManyUsers(t *testing.T) {
	var old, new []urow
	for i := range 200 {
		r := du(fmt.Sprintf("user%03d", i)).in("readers")
		switch {
		case i%50 == 7:
			old = append(old, r)
		case i%50 == 8:
			new = append(new, r)
		case i%50 == 9:
			old, new = append(old, r), append(new, r.is("COMPROMISED"))
		default:
			old, new = append(old, r), append(new, r)
		}
	}
	got := byUser(newComparer(diffPool, nil, roles{old: oldTestGroups, new: newTestGroups}, false).compare(sideOf(0, old...), sideOf(0, new...)))
	var want []string
	for i := range 200 {
		u := fmt.Sprintf("user%03d|sub-user%03d", i, i)
		switch i % 50 {
		case 7:
			want = append(want, "user_removed "+u, "membership_removed "+u+" readers")
		case 8:
			want = append(want, "user_added "+u, "membership_added "+u+" readers")
		case 9:
			want = append(want, "user_changed "+u+` user_status: "CONFIRMED" -> "COMPROMISED"`)
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("changes\n got %s\nwant %s", strings.Join(got, "\n     "), strings.Join(want, "\n     "))
	}
}

// TestChangeRowCarries: a row carries the pool, the user's attributes
// (NEW's, OLD's for a user removed) and each side's export time.
func TestChangeRowCarries(t *testing.T) {
	oldAt, newAt := "2026-03-01T10:00:00Z", "2026-03-02T11:30:00.5Z"
	cp := newComparer(diffPool, []string{"email", "locale"}, roles{old: oldTestGroups, new: newTestGroups}, false)
	got := cp.compare(
		sideOf(2, du("alice").at(oldAt).with("a@example.com", "fr").in("ops"), du("bob").at(oldAt).with("b@example.com", "")),
		sideOf(2, du("alice").at(newAt).with("new@example.com", "").in("ops")))
	var alice, bob sink.Change
	for _, c := range got {
		switch c.Username {
		case "alice":
			alice = c
		case "bob":
			bob = c
		}
	}
	attrs := func(c sink.Change) string { return fmt.Sprint(c.Attrs) }
	if alice.UserPoolID != diffPool || attrs(alice) != "[{new@example.com true} { false}]" ||
		!alice.OldExportedAt.Equal(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)) ||
		!alice.NewExportedAt.Equal(time.Date(2026, 3, 2, 11, 30, 0, 5e8, time.UTC)) {
		t.Errorf("alice's change: %+v", alice)
	}
	if bob.Change != UserRemoved || attrs(bob) != "[{b@example.com true} { false}]" || !bob.NewExportedAt.IsZero() ||
		bob.OldExportedAt.IsZero() {
		t.Errorf("bob's change: %+v", bob)
	}
}
