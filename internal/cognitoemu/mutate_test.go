package cognitoemu_test

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cognito-export/cognito-export/identity"
	"github.com/cognito-export/cognito-export/internal/cognitoemu"
)

// handWritten is one mutation of each kind on a small pool, with the
// changes a diff must report, written from the mutations and the seed pool
// (not from the mutated pool).
func handWritten(t *testing.T) (*cognitoemu.Pool, cognitoemu.Mutations, []cognitoemu.Change) {
	t.Helper()
	p := cognitoemu.NewPool(cognitoemu.PoolSpec{Users: 300, Groups: 12, Seed: 11})
	gs := p.Groups()
	taken := map[int]bool{1: true, 20: true, 50: true, 52: true} // each user takes one part
	find := func(ok func(i int) bool) int {
		for i := range p.NumUsers() {
			if !taken[i] && ok(i) {
				taken[i] = true
				return i
			}
		}
		t.Fatal("no user fits")
		return -1
	}
	groupsOf := func(i int) []string {
		var names []string
		for _, g := range p.UserGroups(i, nil) {
			names = append(names, gs[g].Name)
		}
		return names
	}
	attr := func(i int, name string) string {
		for _, a := range p.UserAttributes(i, nil) {
			if a.Name == name {
				return a.Value
			}
		}
		return ""
	}
	roled := -1
	for g := range gs {
		if g != 0 && g != 3 && g != 5 && gs[g].RoleArn != nil {
			roled = g
			break
		}
	}
	newArn, desc, prec := "arn:aws:iam::123456789012:role/new", "new description", int32(42)
	dead := gs[5].Name
	withGroups := func(i int) bool { return len(groupsOf(i)) > 0 && !slices.Contains(groupsOf(i), dead) }
	deleted, recreated := find(withGroups), 20
	disabled := find(func(i int) bool { return p.User(i).Enabled && i > 30 })
	enabled := find(func(i int) bool { return !p.User(i).Enabled })
	status := find(func(i int) bool { return p.User(i).Status == "UNCONFIRMED" })
	renamed, unnamed, verified := 50, find(func(i int) bool { return i > 50 && attr(i, "name") != "" }), 52
	leaver := find(func(i int) bool { return i > 60 && withGroups(i) })
	joiner := find(func(i int) bool { return i > 61 && !slices.Contains(groupsOf(i), gs[0].Name) })
	n := p.NumUsers()
	m := cognitoemu.Mutations{
		DeleteGroups: []string{dead},
		AddGroups:    []cognitoemu.NewGroup{{Name: "new-group", RoleArn: &newArn, Precedence: &prec, Members: []int{1, n}}},
		ChangeGroups: []cognitoemu.GroupChange{
			{Group: gs[0].Name, RoleArn: &newArn},
			{Group: gs[roled].Name, RemoveRoleArn: true, Precedence: &prec},
			{Group: gs[3].Name, Description: &desc},
		},
		DeleteUsers:   []int{deleted},
		AddUsers:      []cognitoemu.NewUser{{Groups: []string{gs[0].Name}}, {}},
		RecreateUsers: []cognitoemu.Recreate{{User: recreated, Groups: []string{gs[1].Name}}},
		DisableUsers:  []int{disabled},
		EnableUsers:   []int{enabled},
		SetStatus:     []cognitoemu.StatusChange{{User: status, Status: "CONFIRMED"}},
		SetAttributes: []cognitoemu.AttributeChange{
			{User: renamed, Name: "email", Value: "new.address@example.com"},
			{User: unnamed, Name: "name", Remove: true},
			{User: verified, Name: "email_verified", Value: strconv.FormatBool(attr(verified, "email_verified") != "true")},
		},
		RemoveMemberships: []cognitoemu.Membership{{User: leaver, Group: groupsOf(leaver)[0]}},
		AddMemberships:    []cognitoemu.Membership{{User: joiner, Group: gs[0].Name}},
	}

	var want []cognitoemu.Change
	add := func(c cognitoemu.Change) { want = append(want, c) }
	user := func(kind string, i int, field, was, now string) {
		u := p.User(i)
		add(cognitoemu.Change{Kind: kind, Username: u.Username, Sub: u.Sub, Field: field, Old: was, New: now})
	}
	member := func(kind string, i int, sub, group string) {
		add(cognitoemu.Change{Kind: kind, Username: p.User(i).Username, Sub: sub, Group: group})
	}
	add(cognitoemu.Change{Kind: "group_removed", Group: dead})
	add(cognitoemu.Change{Kind: "group_added", Group: "new-group"})
	add(cognitoemu.Change{Kind: "group_changed", Group: gs[0].Name, Field: "group_role_arn", Old: deref(gs[0].RoleArn), New: newArn})
	add(cognitoemu.Change{Kind: "group_changed", Group: gs[roled].Name, Field: "group_role_arn", Old: *gs[roled].RoleArn})
	if gs[roled].Precedence == nil || *gs[roled].Precedence != prec {
		old := ""
		if gs[roled].Precedence != nil {
			old = strconv.Itoa(int(*gs[roled].Precedence))
		}
		add(cognitoemu.Change{Kind: "group_changed", Group: gs[roled].Name, Field: "group_precedence", Old: old, New: "42"})
	}
	add(cognitoemu.Change{Kind: "group_changed", Group: gs[3].Name, Field: "group_description", Old: deref(gs[3].Description), New: desc})
	for i := range p.NumUsers() {
		if i != deleted && i != recreated && slices.Contains(groupsOf(i), dead) {
			member("membership_removed", i, p.User(i).Sub, dead)
		}
	}
	user("user_removed", deleted, "", "", "")
	for _, g := range groupsOf(deleted) {
		member("membership_removed", deleted, p.User(deleted).Sub, g)
	}
	user("user_removed", recreated, "", "", "")
	for _, g := range groupsOf(recreated) {
		member("membership_removed", recreated, p.User(recreated).Sub, g)
	}
	user("user_changed", disabled, "user_enabled", "true", "false")
	user("user_changed", enabled, "user_enabled", "false", "true")
	user("user_changed", status, "user_status", "UNCONFIRMED", "CONFIRMED")
	user("user_changed", renamed, "email", attr(renamed, "email"), "new.address@example.com")
	user("user_changed", unnamed, "name", attr(unnamed, "name"), "")
	user("user_changed", verified, "email_verified", attr(verified, "email_verified"), m.SetAttributes[2].Value)
	member("membership_removed", leaver, p.User(leaver).Sub, groupsOf(leaver)[0])
	member("membership_added", joiner, p.User(joiner).Sub, gs[0].Name)
	member("membership_added", 1, p.User(1).Sub, "new-group")
	return p, m, want
}

func TestMutateEveryKind(t *testing.T) {
	p, m, want := handWritten(t)
	before := fetchPerUser(t, mustClient(t, p), p.ID())
	q, err := p.Mutate(m)
	if err != nil {
		t.Fatal(err)
	}
	// Both pools served at once, each by its own server.
	oldC, newC := mustClient(t, p), mustClient(t, q)
	checkAgainstModel(t, oldC, p)
	after := checkAgainstModel(t, newC, q)
	if again := fetchPerUser(t, oldC, p.ID()); !sameSnapshot(before, again) {
		t.Fatal("the original pool changed when it was mutated")
	}

	// The ones the hand-written list cannot know: the added users' and the
	// re-created user's new identities.
	n := p.NumUsers()
	if q.NumUsers() != n+2 || !q.Exists(n) || !q.Exists(n+1) {
		t.Fatalf("NumUsers %d after adding two to %d", q.NumUsers(), n)
	}
	a0, a1, re := q.User(n), q.User(n+1), q.User(20)
	want = append(want,
		cognitoemu.Change{Kind: "user_added", Username: a0.Username, Sub: a0.Sub},
		cognitoemu.Change{Kind: "membership_added", Username: a0.Username, Sub: a0.Sub, Group: p.Groups()[0].Name},
		cognitoemu.Change{Kind: "membership_added", Username: a0.Username, Sub: a0.Sub, Group: "new-group"},
		cognitoemu.Change{Kind: "user_added", Username: a1.Username, Sub: a1.Sub},
		cognitoemu.Change{Kind: "user_added", Username: re.Username, Sub: re.Sub},
		cognitoemu.Change{Kind: "membership_added", Username: re.Username, Sub: re.Sub, Group: p.Groups()[1].Name},
	)
	if re.Username != p.User(20).Username || re.Sub == p.User(20).Sub || !re.Created.After(p.User(20).Created) {
		t.Fatalf("re-created user %+v, was %+v", re, p.User(20))
	}
	got := cognitoemu.Changes(p, q, []string{"email", "name", "email_verified"}, identity.ColumnName)
	if !sameChanges(got, want) {
		t.Fatalf("Changes:\n%s", changesDiff(got, want))
	}

	// Dates move forward for changed users and groups only.
	for _, i := range append(m.DisableUsers, m.SetAttributes[0].User, m.SetStatus[0].User) {
		if !q.User(i).Modified.After(p.User(i).Modified) {
			t.Errorf("user %d: modified %v, was %v", i, q.User(i).Modified, p.User(i).Modified)
		}
	}
	if q.User(m.AddMemberships[0].User) != p.User(m.AddMemberships[0].User) {
		t.Error("a membership change changed the user's record")
	}

	// Lookup, Filter and AttributesToGet see the mutations.
	ctx := context.Background()
	gone := p.User(m.DeleteUsers[0]).Username
	if _, ok := q.Lookup(gone); ok {
		t.Errorf("Lookup found the deleted %q", gone)
	}
	if _, ok := p.Lookup(gone); !ok {
		t.Errorf("the original lost %q", gone)
	}
	if i, ok := q.Lookup(a0.Username); !ok || i != n {
		t.Errorf("Lookup(%q) = %d, %v", a0.Username, i, ok)
	}
	var notFound *types.UserNotFoundException
	if _, err := newC.AdminListGroupsForUser(ctx, &cip.AdminListGroupsForUserInput{UserPoolId: aws.String(q.ID()), Username: &gone}); !errors.As(err, &notFound) {
		t.Errorf("groups of a deleted user: %v", err)
	}
	var noGroup *types.ResourceNotFoundException
	if _, err := newC.ListUsersInGroup(ctx, &cip.ListUsersInGroupInput{UserPoolId: aws.String(q.ID()), GroupName: &m.DeleteGroups[0]}); !errors.As(err, &noGroup) {
		t.Errorf("members of a deleted group: %v", err)
	}
	for _, c := range []struct {
		client *cip.Client
		want   int
	}{{oldC, 0}, {newC, 1}} {
		out, err := c.client.ListUsers(ctx, &cip.ListUsersInput{UserPoolId: aws.String(p.ID()),
			Filter: aws.String(`email = "new.address@example.com"`), AttributesToGet: []string{"email"}})
		if err != nil || len(out.Users) != c.want {
			t.Fatalf("filter on the new address: %v, %v", out, err)
		}
		if c.want == 1 && (aws.ToString(out.Users[0].Username) != p.User(50).Username || len(out.Users[0].Attributes) != 1) {
			t.Fatalf("filter on the new address: %+v", out.Users[0])
		}
	}
	if _, ok := after.users[gone]; ok {
		t.Error("ListUsers lists the deleted user")
	}
}

// TestMutateRefuses checks that mutations that make no sense are errors.
func TestMutateRefuses(t *testing.T) {
	p := cognitoemu.NewPool(cognitoemu.PoolSpec{Users: 50, Groups: 4, Seed: 2})
	member := -1
	for i := range 50 {
		if len(p.UserGroups(i, nil)) > 0 {
			member = i
			break
		}
	}
	g0 := p.Groups()[p.UserGroups(member, nil)[0]].Name
	emailPool := cognitoemu.NewPool(cognitoemu.PoolSpec{Users: 5, Groups: 1, Seed: 2, EmailAsUsername: true})
	for name, c := range map[string]struct {
		p *cognitoemu.Pool
		m cognitoemu.Mutations
	}{
		"unknown group":         {p, cognitoemu.Mutations{DeleteGroups: []string{"nope"}}},
		"group twice":           {p, cognitoemu.Mutations{AddGroups: []cognitoemu.NewGroup{{Name: g0}}}},
		"user twice":            {p, cognitoemu.Mutations{DeleteUsers: []int{3, 3}}},
		"user out of range":     {p, cognitoemu.Mutations{DisableUsers: []int{50}}},
		"deleted then changed":  {p, cognitoemu.Mutations{DeleteUsers: []int{3}, EnableUsers: []int{3}}},
		"existing membership":   {p, cognitoemu.Mutations{AddMemberships: []cognitoemu.Membership{{member, g0}}}},
		"absent membership":     {p, cognitoemu.Mutations{RemoveMemberships: []cognitoemu.Membership{{member, "nope"}}}},
		"unknown status":        {p, cognitoemu.Mutations{SetStatus: []cognitoemu.StatusChange{{1, "HAPPY"}}}},
		"sub":                   {p, cognitoemu.Mutations{SetAttributes: []cognitoemu.AttributeChange{{User: 1, Name: "sub", Value: "x"}}}},
		"unknown attribute":     {p, cognitoemu.Mutations{SetAttributes: []cognitoemu.AttributeChange{{User: 1, Name: "custom:nope", Value: "x"}}}},
		"re-create email-named": {emailPool, cognitoemu.Mutations{RecreateUsers: []cognitoemu.Recreate{{User: 1}}}},
		"existing username":     {p, cognitoemu.Mutations{AddUsers: []cognitoemu.NewUser{{Username: p.User(7).Username}}}},
		"username twice":        {p, cognitoemu.Mutations{AddUsers: []cognitoemu.NewUser{{Username: "x"}, {Username: "x"}}}},
		"username with a space": {p, cognitoemu.Mutations{AddUsers: []cognitoemu.NewUser{{Username: "a b"}}}},
		"named email-named":     {emailPool, cognitoemu.Mutations{AddUsers: []cognitoemu.NewUser{{Username: "x"}}}},
	} {
		if _, err := c.p.Mutate(c.m); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
