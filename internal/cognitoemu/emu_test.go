package cognitoemu_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cognito-export/cognito-export/internal/cognitoemu"
)

// client talks to the emulator over real HTTP with the real SDK. Retries
// are off when the emulator injects faults, so that every answer is seen as
// sent; otherwise the SDK's own retryer rides out loopback hiccups on a
// loaded machine.
func client(t *testing.T, opts cognitoemu.Options, pools ...*cognitoemu.Pool) (*cip.Client, *cognitoemu.Server) {
	t.Helper()
	srv := cognitoemu.NewServer(opts, pools...)
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	o := cip.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(hs.URL),
		Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""),
	}
	if opts.Quotas != nil || opts.FaultRate > 0 || opts.ResetRate > 0 {
		o.Retryer = aws.NopRetryer{}
	}
	return cip.New(o), srv
}

func TestPaginationCollectsEveryItemOnce(t *testing.T) {
	pool := cognitoemu.NewPool(cognitoemu.PoolSpec{Users: 500, Groups: 90, Seed: 3})
	c, _ := client(t, cognitoemu.Options{}, pool)
	ctx := context.Background()
	for _, limit := range []int32{0, 1, 7, 60} {
		var names []string
		var token *string
		for {
			out, err := c.ListUsers(ctx, &cip.ListUsersInput{UserPoolId: aws.String(pool.ID()), Limit: aws.Int32(limit), PaginationToken: token})
			if err != nil {
				t.Fatal(err)
			}
			if want := int(limit); want > 0 && len(out.Users) > want {
				t.Fatalf("page of %d with Limit %d", len(out.Users), limit)
			}
			for _, u := range out.Users {
				names = append(names, aws.ToString(u.Username))
			}
			if token = out.PaginationToken; token == nil {
				break
			}
		}
		if len(names) != pool.NumUsers() {
			t.Fatalf("limit %d: %d users, want %d", limit, len(names), pool.NumUsers())
		}
		for i, n := range names {
			if n != pool.User(i).Username {
				t.Fatalf("limit %d: user %d = %q, want %q", limit, i, n, pool.User(i).Username)
			}
		}
	}
	// Groups of a user in more than 60 groups, and the members of a group.
	wide := -1
	for i := range pool.NumUsers() {
		if len(pool.UserGroups(i, nil)) > 60 {
			wide = i
			break
		}
	}
	if wide < 0 {
		t.Fatal("no user in more than 60 groups")
	}
	var got []string
	var token *string
	for {
		out, err := c.AdminListGroupsForUser(ctx, &cip.AdminListGroupsForUserInput{UserPoolId: aws.String(pool.ID()), Username: aws.String(pool.User(wide).Username), NextToken: token})
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range out.Groups {
			got = append(got, aws.ToString(g.GroupName))
		}
		if token = out.NextToken; token == nil {
			break
		}
	}
	var want []string
	for _, g := range pool.UserGroups(wide, nil) {
		want = append(want, pool.Groups()[g].Name)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("groups of the wide user: %d, want %d", len(got), len(want))
	}
	members := 0
	token = nil
	for {
		out, err := c.ListUsersInGroup(ctx, &cip.ListUsersInGroupInput{UserPoolId: aws.String(pool.ID()), GroupName: aws.String(pool.Groups()[0].Name), Limit: aws.Int32(13), NextToken: token})
		if err != nil {
			t.Fatal(err)
		}
		members += len(out.Users)
		if token = out.NextToken; token == nil {
			break
		}
	}
	wantMembers := 0
	for i := range pool.NumUsers() {
		if slices.Contains(pool.UserGroups(i, nil), 0) {
			wantMembers++
		}
	}
	if members != wantMembers || members == 0 {
		t.Fatalf("group 0 has %d members over the wire, %d in the pool", members, wantMembers)
	}
}

func TestErrorsAreTheServicesOwn(t *testing.T) {
	pool := cognitoemu.NewPool(cognitoemu.PoolSpec{Users: 50, Groups: 5, Seed: 1})
	c, _ := client(t, cognitoemu.Options{Deny: map[string]string{"ListGroups": "NotAuthorizedException"}}, pool)
	ctx := context.Background()
	user := aws.String(pool.User(1).Username)
	first, err := c.ListUsers(ctx, &cip.ListUsersInput{UserPoolId: aws.String(pool.ID()), Limit: aws.Int32(10)})
	if err != nil {
		t.Fatal(err)
	}
	var invalid *types.InvalidParameterException
	var notFound *types.ResourceNotFoundException
	var userGone *types.UserNotFoundException
	var denied *types.NotAuthorizedException
	checks := []struct {
		name   string
		call   func() error
		target any
	}{
		{"limit 61", func() error {
			_, err := c.ListUsers(ctx, &cip.ListUsersInput{UserPoolId: aws.String(pool.ID()), Limit: aws.Int32(61)})
			return err
		}, &invalid},
		{"token of another request", func() error {
			_, err := c.AdminListGroupsForUser(ctx, &cip.AdminListGroupsForUserInput{UserPoolId: aws.String(pool.ID()), Username: user, NextToken: first.PaginationToken})
			return err
		}, &invalid},
		{"garbage token", func() error {
			_, err := c.ListUsers(ctx, &cip.ListUsersInput{UserPoolId: aws.String(pool.ID()), PaginationToken: aws.String("garbage")})
			return err
		}, &invalid},
		{"unknown pool", func() error {
			_, err := c.ListUsers(ctx, &cip.ListUsersInput{UserPoolId: aws.String("us-east-1_Nope")})
			return err
		}, &notFound},
		{"unknown user", func() error {
			_, err := c.AdminListGroupsForUser(ctx, &cip.AdminListGroupsForUserInput{UserPoolId: aws.String(pool.ID()), Username: aws.String("user99999999")})
			return err
		}, &userGone},
		{"unknown group", func() error {
			_, err := c.ListUsersInGroup(ctx, &cip.ListUsersInGroupInput{UserPoolId: aws.String(pool.ID()), GroupName: aws.String("nope")})
			return err
		}, &notFound},
		{"denied", func() error {
			_, err := c.ListGroups(ctx, &cip.ListGroupsInput{UserPoolId: aws.String(pool.ID())})
			return err
		}, &denied},
	}
	for _, ch := range checks {
		if err := ch.call(); err == nil || !errors.As(err, ch.target) {
			t.Errorf("%s: err = %v, want %T", ch.name, err, ch.target)
		}
	}
}

func TestQuotasAndFaults(t *testing.T) {
	pool := cognitoemu.NewPool(cognitoemu.PoolSpec{Users: 10, Groups: 2, Seed: 1})
	ctx := context.Background()
	c, srv := client(t, cognitoemu.Options{Quotas: map[string]float64{"DescribeUserPool": 2}}, pool)
	var throttled *types.TooManyRequestsException
	n := 0
	for range 10 {
		if _, err := c.DescribeUserPool(ctx, &cip.DescribeUserPoolInput{UserPoolId: aws.String(pool.ID())}); errors.As(err, &throttled) {
			n++
		}
	}
	if n < 5 || srv.Throttled("DescribeUserPool") != int64(n) || srv.Calls("DescribeUserPool") != 10 {
		t.Fatalf("%d of 10 throttled (server counted %d of %d)", n, srv.Throttled("DescribeUserPool"), srv.Calls("DescribeUserPool"))
	}
	c, _ = client(t, cognitoemu.Options{FaultRate: 1}, pool)
	var internal *types.InternalErrorException
	if _, err := c.ListUsers(ctx, &cip.ListUsersInput{UserPoolId: aws.String(pool.ID())}); !errors.As(err, &internal) {
		t.Fatalf("fault: err = %v", err)
	}
	c, _ = client(t, cognitoemu.Options{ResetRate: 1}, pool)
	if _, err := c.ListUsers(ctx, &cip.ListUsersInput{UserPoolId: aws.String(pool.ID())}); err == nil {
		t.Fatal("a reset connection returned no error")
	}
}

func TestWireValuesRoundTrip(t *testing.T) {
	pool := cognitoemu.NewPool(cognitoemu.PoolSpec{Users: 40, Groups: 12, Seed: 8})
	c, _ := client(t, cognitoemu.Options{}, pool)
	ctx := context.Background()
	out, err := c.ListGroups(ctx, &cip.ListGroupsInput{UserPoolId: aws.String(pool.ID())})
	if err != nil {
		t.Fatal(err)
	}
	sawNil, sawZero := false, false
	for k, g := range out.Groups {
		want := pool.Groups()[k]
		if aws.ToString(g.GroupName) != want.Name || !g.CreationDate.Equal(want.Created) || !g.LastModifiedDate.Equal(want.Modified) ||
			(g.Description == nil) != (want.Description == nil) || (g.Precedence == nil) != (want.Precedence == nil) {
			t.Fatalf("group %d differs: %+v vs %+v", k, g, want)
		}
		if g.Description != nil && *g.Description != *want.Description {
			t.Fatalf("description %q, want %q", *g.Description, *want.Description)
		}
		sawNil = sawNil || g.RoleArn == nil || g.Precedence == nil
		sawZero = sawZero || (g.Precedence != nil && *g.Precedence == 0)
	}
	if !sawNil || !sawZero {
		t.Fatalf("want optional fields absent somewhere and a Precedence of 0 (nil %v, zero %v)", sawNil, sawZero)
	}
	u, err := c.ListUsers(ctx, &cip.ListUsersInput{UserPoolId: aws.String(pool.ID()), Limit: aws.Int32(1)})
	if err != nil {
		t.Fatal(err)
	}
	want := pool.User(0)
	if got := u.Users[0]; !got.UserCreateDate.Equal(want.Created) || got.UserCreateDate.Nanosecond()%int(time.Millisecond) != 0 || got.Enabled != want.Enabled {
		t.Fatalf("user 0: %+v, want %+v", got, want)
	}
	d, err := c.DescribeUserPool(ctx, &cip.DescribeUserPoolInput{UserPoolId: aws.String(pool.ID())})
	if err != nil || d.UserPool.EstimatedNumberOfUsers != 40 {
		t.Fatalf("describe: %+v, %v", d, err)
	}
}

func TestPoolsAreDeterministicAndCompact(t *testing.T) {
	a := cognitoemu.NewPool(cognitoemu.PoolSpec{Users: 3000, Groups: 80, Seed: 5})
	b := cognitoemu.NewPool(cognitoemu.PoolSpec{Users: 3000, Groups: 80, Seed: 5})
	memberships, wide := 0, 0
	for i := range 3000 {
		if a.User(i) != b.User(i) || !slices.Equal(a.UserGroups(i, nil), b.UserGroups(i, nil)) {
			t.Fatalf("user %d differs between two pools of the same seed", i)
		}
		if j, ok := a.Lookup(a.User(i).Username); !ok || j != i {
			t.Fatalf("Lookup(%q) = %d, %v", a.User(i).Username, j, ok)
		}
		n := len(a.UserGroups(i, nil))
		memberships += n
		if n > 60 {
			wide++
		}
	}
	if mean := float64(memberships) / 3000; mean < 1.3 || mean > 1.8 || wide == 0 {
		t.Fatalf("mean groups per user %.2f, wide users %d", mean, wide)
	}
	if testing.Short() {
		return
	}
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	big := cognitoemu.NewPool(cognitoemu.PoolSpec{Users: 1_000_000, Groups: 10, Seed: 1})
	took := time.Since(start)
	runtime.GC()
	runtime.ReadMemStats(&after)
	if grown := after.HeapAlloc - before.HeapAlloc; grown > 64<<20 {
		t.Fatalf("a 1,000,000-user pool holds %d MB", grown>>20)
	}
	t.Logf("1,000,000-user pool: %d MB, built in %s", (after.HeapAlloc-before.HeapAlloc)>>20, took)
	runtime.KeepAlive(big)
}
