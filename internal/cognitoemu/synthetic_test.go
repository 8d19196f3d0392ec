package cognitoemu_test

import (
	"context"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"

	"github.com/cognito-export/cognito-export/internal/cognitoemu"
)

// usernames lists a synthetic pool as served, with the SDK's own retries.
func usernames(t *testing.T, s cognitoemu.Synthetic) ([]string, *cognitoemu.Server, error) {
	t.Helper()
	srv, err := s.Server()
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	c := cip.New(cip.Options{Region: "us-east-1", BaseEndpoint: aws.String(hs.URL), Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", "")})
	var names []string
	var token *string
	for {
		out, err := c.ListUsers(context.Background(), &cip.ListUsersInput{UserPoolId: aws.String(s.Pool.ID), Limit: aws.Int32(10), PaginationToken: token})
		if err != nil {
			return names, srv, err
		}
		for _, u := range out.Users {
			names = append(names, aws.ToString(u.Username))
		}
		if token = out.PaginationToken; token == nil {
			return names, srv, nil
		}
	}
}

// The demo's and emulate's pool: as generated, or changed by a share of
// its users, and under Cognito's quotas when asked.
func TestSyntheticPool(t *testing.T) {
	spec := cognitoemu.PoolSpec{ID: "us-east-1_Synth", Users: 200, Groups: 10, Seed: 4}
	asGenerated, _, err := usernames(t, cognitoemu.Synthetic{Pool: spec})
	if err != nil || len(asGenerated) != 200 {
		t.Fatalf("%d users as generated (%v)", len(asGenerated), err)
	}
	changed, _, err := usernames(t, cognitoemu.Synthetic{Pool: spec, ChangedShare: 0.1})
	if err != nil {
		t.Fatal(err)
	}
	var gone int
	for _, u := range asGenerated {
		if !slices.Contains(changed, u) {
			gone++
		}
	}
	if gone == 0 || slices.Equal(asGenerated, changed) {
		t.Fatalf("a tenth of the pool changed, yet the same %d users are served", len(changed))
	}
	// UserList at 0.1 of 30/s: a burst of 5 calls, then throttled.
	small := cognitoemu.PoolSpec{ID: spec.ID, Users: 80, Groups: 2, Seed: 4}
	if _, srv, _ := usernames(t, cognitoemu.Synthetic{Pool: small, QuotaScale: 0.1}); srv.Throttled("ListUsers") == 0 {
		t.Fatal("8 pages listed at once under a quota of 3/s, none throttled")
	}
	if _, srv, _ := usernames(t, cognitoemu.Synthetic{Pool: spec}); srv.Throttled("ListUsers") != 0 {
		t.Fatal("throttled without a quota")
	}
}

// TestSyntheticCarriedOut: the memberships an administrator removed are
// gone from AdminListGroupsForUser, the user's other groups stay, and one
// that is not there (unknown user, or not a member) is passed over.
func TestSyntheticCarriedOut(t *testing.T) {
	spec := cognitoemu.PoolSpec{ID: "us-east-1_Carry", Users: 100, Groups: 6, Seed: 7}
	pool := cognitoemu.NewPool(spec)
	var user string
	var groups []string
	for i := range pool.NumUsers() {
		if gs := pool.UserGroups(i, nil); len(gs) >= 2 {
			user = pool.User(i).Username
			for _, g := range gs {
				groups = append(groups, pool.Groups()[g].Name)
			}
			break
		}
	}
	if user == "" {
		t.Fatal("no user in two groups")
	}
	s := cognitoemu.Synthetic{Pool: spec, CarriedOut: []cognitoemu.NamedMembership{
		{Username: user, Group: groups[0]}, {Username: user, Group: groups[0]}, {Username: "nobody", Group: groups[0]}, {Username: user, Group: "no-such-group"}}}
	srv, err := s.Server()
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	c := cip.New(cip.Options{Region: "us-east-1", BaseEndpoint: aws.String(hs.URL), Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", "")})
	out, err := c.AdminListGroupsForUser(context.Background(), &cip.AdminListGroupsForUserInput{UserPoolId: aws.String(spec.ID), Username: aws.String(user)})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, g := range out.Groups {
		got = append(got, aws.ToString(g.GroupName))
	}
	if !slices.Equal(got, groups[1:]) {
		t.Errorf("%s is in %q after removing %q, want %q", user, got, groups[0], groups[1:])
	}
}
