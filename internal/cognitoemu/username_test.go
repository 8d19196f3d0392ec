package cognitoemu_test

import (
	"context"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"

	"github.com/cognito-export/cognito-export/internal/cognitoemu"
)

// TestAddUsersWithUsernames: users added under names a test gives (hostile
// markup here) are served by every API as any user is, found by
// AdminListGroupsForUser, and keep their names across later mutations; a
// generated user still is found by its name beside them, and a deleted
// named user's name can be taken again.
func TestAddUsersWithUsernames(t *testing.T) {
	base := cognitoemu.NewPool(cognitoemu.PoolSpec{Users: 40, Groups: 3, Seed: 5})
	g := base.Groups()[0].Name
	names := []string{"<script>alert(1)</script>", `"><img/src=x/onerror=alert(1)>`}
	p, err := base.Mutate(cognitoemu.Mutations{AddUsers: []cognitoemu.NewUser{{Username: names[0], Groups: []string{g}}, {}, {Username: names[1], Groups: []string{g}}}})
	if err != nil {
		t.Fatal(err)
	}
	// A later mutation keeps them, and sees the generated one between.
	if p, err = p.Mutate(cognitoemu.Mutations{DisableUsers: []int{40}}); err != nil {
		t.Fatal(err)
	}
	for k, i := range []int{40, 42} {
		if u := p.User(i); u.Username != names[k] {
			t.Errorf("user %d is %q, want %q", i, u.Username, names[k])
		}
		if j, ok := p.Lookup(names[k]); !ok || j != i {
			t.Errorf("Lookup(%q) = %d, %v; want %d", names[k], j, ok, i)
		}
	}
	if j, ok := p.Lookup(p.User(41).Username); !ok || j != 41 {
		t.Errorf("the generated user 41 (%q) is not found: %d, %v", p.User(41).Username, j, ok)
	}

	c, _ := client(t, cognitoemu.Options{}, p)
	ctx := context.Background()
	users, _ := listAll(t, c, cip.ListUsersInput{UserPoolId: aws.String(p.ID())})
	var listed []string
	for _, u := range users {
		listed = append(listed, aws.ToString(u.Username))
	}
	in, err := c.ListUsersInGroup(ctx, &cip.ListUsersInGroupInput{UserPoolId: aws.String(p.ID()), GroupName: aws.String(g), Limit: aws.Int32(60)})
	if err != nil {
		t.Fatal(err)
	}
	var members []string
	for _, u := range in.Users {
		members = append(members, aws.ToString(u.Username))
	}
	for _, name := range names {
		if !slices.Contains(listed, name) || !slices.Contains(members, name) {
			t.Errorf("%q: in ListUsers %v, in ListUsersInGroup %v", name, slices.Contains(listed, name), slices.Contains(members, name))
		}
		out, err := c.AdminListGroupsForUser(ctx, &cip.AdminListGroupsForUserInput{UserPoolId: aws.String(p.ID()), Username: aws.String(name)})
		if err != nil || len(out.Groups) != 1 || aws.ToString(out.Groups[0].GroupName) != g {
			t.Errorf("AdminListGroupsForUser(%q): %v, %v", name, err, out)
		}
	}

	// Deleted, the name is free again, and the new user holds it.
	q, err := p.Mutate(cognitoemu.Mutations{DeleteUsers: []int{40}, AddUsers: []cognitoemu.NewUser{{Username: names[0]}}})
	if err != nil {
		t.Fatal(err)
	}
	if j, ok := q.Lookup(names[0]); !ok || j != 43 {
		t.Errorf("after delete and add, Lookup(%q) = %d, %v; want 43", names[0], j, ok)
	}
	if j, ok := p.Lookup(names[0]); !ok || j != 40 {
		t.Errorf("the pool before is changed: Lookup(%q) = %d, %v", names[0], j, ok)
	}
}
