package cognitoemu_test

import (
	"context"
	"maps"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cognito-export/cognito-export/internal/cognitoemu"
)

// snapshot is what one export strategy sees of a pool: users by username
// (with their attributes), memberships as (username, sub, group) and groups.
type snapshot struct {
	users       map[string]types.UserType
	memberships map[[3]string]bool
	groups      map[string]types.GroupType
}

// fetchPerUser reads the pool as the per-user strategy does: ListUsers, then
// AdminListGroupsForUser for every user. Small pages exercise the tokens.
func fetchPerUser(t *testing.T, c *cip.Client, pool string) snapshot {
	t.Helper()
	ctx := context.Background()
	s := snapshot{users: map[string]types.UserType{}, memberships: map[[3]string]bool{}, groups: map[string]types.GroupType{}}
	var token *string
	for {
		out, err := c.ListUsers(ctx, &cip.ListUsersInput{UserPoolId: &pool, Limit: aws.Int32(13), PaginationToken: token})
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range out.Users {
			name := aws.ToString(u.Username)
			if _, dup := s.users[name]; dup {
				t.Fatalf("ListUsers listed %q twice", name)
			}
			s.users[name] = u
			var next *string
			for {
				g, err := c.AdminListGroupsForUser(ctx, &cip.AdminListGroupsForUserInput{UserPoolId: &pool, Username: &name, Limit: aws.Int32(5), NextToken: next})
				if err != nil {
					t.Fatalf("groups of %q: %v", name, err)
				}
				for _, gr := range g.Groups {
					s.memberships[[3]string{name, sub(u.Attributes), aws.ToString(gr.GroupName)}] = true
					s.groups[aws.ToString(gr.GroupName)] = gr
				}
				if next = g.NextToken; next == nil {
					break
				}
			}
		}
		if token = out.PaginationToken; token == nil {
			return s
		}
	}
}

// fetchByGroup reads the pool as the by-group strategy does: ListGroups,
// ListUsersInGroup for each, and ListUsers for the users without groups. It
// checks that a user's record is the same in both listings.
func fetchByGroup(t *testing.T, c *cip.Client, pool string) snapshot {
	t.Helper()
	ctx := context.Background()
	all := fetchPerUser(t, c, pool) // only its users are used, as the strategy's ListUsers pass
	s := snapshot{users: all.users, memberships: map[[3]string]bool{}, groups: map[string]types.GroupType{}}
	var token *string
	for {
		out, err := c.ListGroups(ctx, &cip.ListGroupsInput{UserPoolId: &pool, Limit: aws.Int32(4), NextToken: token})
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range out.Groups {
			name := aws.ToString(g.GroupName)
			s.groups[name] = g
			var next *string
			for {
				m, err := c.ListUsersInGroup(ctx, &cip.ListUsersInGroupInput{UserPoolId: &pool, GroupName: &name, Limit: aws.Int32(9), NextToken: next})
				if err != nil {
					t.Fatalf("members of %q: %v", name, err)
				}
				for _, u := range m.Users {
					listed, ok := all.users[aws.ToString(u.Username)]
					if !ok || !sameUser(listed, u) {
						t.Fatalf("member %q of %q: %+v, ListUsers has %+v", aws.ToString(u.Username), name, u, listed)
					}
					s.memberships[[3]string{aws.ToString(u.Username), sub(u.Attributes), name}] = true
				}
				if next = m.NextToken; next == nil {
					break
				}
			}
		}
		if token = out.NextToken; token == nil {
			return s
		}
	}
}

func sameUser(a, b types.UserType) bool {
	return aws.ToString(a.Username) == aws.ToString(b.Username) && a.Enabled == b.Enabled && a.UserStatus == b.UserStatus &&
		a.UserCreateDate.Equal(*b.UserCreateDate) && a.UserLastModifiedDate.Equal(*b.UserLastModifiedDate) &&
		slices.EqualFunc(a.Attributes, b.Attributes, func(x, y types.AttributeType) bool {
			return aws.ToString(x.Name) == aws.ToString(y.Name) && aws.ToString(x.Value) == aws.ToString(y.Value)
		})
}

func sub(attrs []types.AttributeType) string {
	for _, a := range attrs {
		if aws.ToString(a.Name) == "sub" {
			return aws.ToString(a.Value)
		}
	}
	return ""
}

// checkAgainstModel compares what both strategies see with the pool's model.
func checkAgainstModel(t *testing.T, c *cip.Client, p *cognitoemu.Pool) snapshot {
	t.Helper()
	perUser, byGroup := fetchPerUser(t, c, p.ID()), fetchByGroup(t, c, p.ID())
	want := map[[3]string]bool{}
	live := 0
	for i := range p.NumUsers() {
		if !p.Exists(i) {
			continue
		}
		live++
		u := p.User(i)
		got, ok := perUser.users[u.Username]
		if !ok || sub(got.Attributes) != u.Sub || got.Enabled != u.Enabled || string(got.UserStatus) != u.Status ||
			!got.UserLastModifiedDate.Equal(u.Modified) || !got.UserCreateDate.Equal(u.Created) {
			t.Fatalf("user %d: listed %+v, model %+v", i, got, u)
		}
		attrs := p.UserAttributes(i, nil)
		if len(attrs) != len(got.Attributes) {
			t.Fatalf("user %d: %d attributes listed, %d in the model", i, len(got.Attributes), len(attrs))
		}
		for k, a := range attrs {
			if aws.ToString(got.Attributes[k].Name) != a.Name || aws.ToString(got.Attributes[k].Value) != a.Value {
				t.Fatalf("user %d attribute %d: %v, model %v", i, k, got.Attributes[k], a)
			}
		}
		for _, g := range p.UserGroups(i, nil) {
			want[[3]string{u.Username, u.Sub, p.Groups()[g].Name}] = true
		}
	}
	if len(perUser.users) != live {
		t.Fatalf("%d users listed, %d in the model", len(perUser.users), live)
	}
	if !maps.Equal(perUser.memberships, want) || !maps.Equal(byGroup.memberships, want) {
		t.Fatalf("memberships: per user %d, by group %d, model %d", len(perUser.memberships), len(byGroup.memberships), len(want))
	}
	if len(byGroup.groups) != len(p.Groups()) {
		t.Fatalf("%d groups listed, %d in the model", len(byGroup.groups), len(p.Groups()))
	}
	for _, g := range p.Groups() {
		got := byGroup.groups[g.Name]
		if aws.ToString(got.RoleArn) != deref(g.RoleArn) || aws.ToString(got.Description) != deref(g.Description) ||
			(got.Precedence == nil) != (g.Precedence == nil) || got.Precedence != nil && *got.Precedence != *g.Precedence ||
			!got.LastModifiedDate.Equal(g.Modified) {
			t.Fatalf("group %q: listed %+v, model %+v", g.Name, got, g)
		}
	}
	d, err := c.DescribeUserPool(context.Background(), &cip.DescribeUserPoolInput{UserPoolId: aws.String(p.ID())})
	if err != nil || int(d.UserPool.EstimatedNumberOfUsers) != live {
		t.Fatalf("DescribeUserPool: %v users (%v), want %d", d, err, live)
	}
	return perUser
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
