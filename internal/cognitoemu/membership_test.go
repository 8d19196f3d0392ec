package cognitoemu_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cognito-export/cognito-export/internal/boto"
	"github.com/cognito-export/cognito-export/internal/cognitoemu"
)

// groupsOf lists a user's groups over the wire.
func groupsOf(t *testing.T, c *cip.Client, pool, user string) []string {
	t.Helper()
	var names []string
	var token *string
	for {
		out, err := c.AdminListGroupsForUser(context.Background(), &cip.AdminListGroupsForUserInput{UserPoolId: aws.String(pool), Username: aws.String(user), NextToken: token})
		if err != nil {
			t.Fatalf("groups of %q: %v", user, err)
		}
		for _, g := range out.Groups {
			names = append(names, aws.ToString(g.GroupName))
		}
		if token = out.NextToken; token == nil {
			return names
		}
	}
}

func membersOf(t *testing.T, c *cip.Client, pool, group string) []string {
	t.Helper()
	var names []string
	var token *string
	for {
		out, err := c.ListUsersInGroup(context.Background(), &cip.ListUsersInGroupInput{UserPoolId: aws.String(pool), GroupName: aws.String(group), NextToken: token})
		if err != nil {
			t.Fatalf("members of %q: %v", group, err)
		}
		for _, u := range out.Users {
			names = append(names, aws.ToString(u.Username))
		}
		if token = out.NextToken; token == nil {
			return names
		}
	}
}

// TestAddAndRemoveMemberships: a membership removed over the wire is gone
// from AdminListGroupsForUser and ListUsersInGroup, the user's other
// groups and every other user untouched; added back, it is there again.
// Repeating either is a success that changes nothing, as in Cognito.
func TestAddAndRemoveMemberships(t *testing.T) {
	base := cognitoemu.NewPool(cognitoemu.PoolSpec{Users: 200, Groups: 6, Seed: 11, NoGroupShare: -1})
	c, srv := client(t, cognitoemu.Options{}, base)
	ctx := context.Background()
	id := base.ID()
	// A user in two groups at least, so that one stays.
	user := -1
	for i := range base.NumUsers() {
		if len(base.UserGroups(i, nil)) >= 2 {
			user = i
			break
		}
	}
	if user < 0 {
		t.Fatal("no user in two groups")
	}
	name := base.User(user).Username
	before := groupsOf(t, c, id, name)
	group := before[1]
	othersBefore := slices.DeleteFunc(membersOf(t, c, id, group), func(n string) bool { return n == name })

	remove := func() error {
		_, err := c.AdminRemoveUserFromGroup(ctx, &cip.AdminRemoveUserFromGroupInput{UserPoolId: aws.String(id), Username: aws.String(name), GroupName: aws.String(group)})
		return err
	}
	add := func() error {
		_, err := c.AdminAddUserToGroup(ctx, &cip.AdminAddUserToGroupInput{UserPoolId: aws.String(id), Username: aws.String(name), GroupName: aws.String(group)})
		return err
	}
	for k := range 2 {
		if err := remove(); err != nil {
			t.Fatalf("remove #%d: %v", k+1, err)
		}
	}
	want := slices.DeleteFunc(slices.Clone(before), func(g string) bool { return g == group })
	if got := groupsOf(t, c, id, name); !slices.Equal(got, want) {
		t.Fatalf("after the removal %q is in %q, want %q", name, got, want)
	}
	if got := membersOf(t, c, id, group); !slices.Equal(got, othersBefore) {
		t.Fatalf("after the removal %q has members %q, want %q", group, got, othersBefore)
	}
	if p, _ := srv.Pool(id); p == base {
		t.Fatal("the server still serves the pool it was given")
	}
	// The pool given to the server is not changed: tests compare with it.
	if got := base.UserGroups(user, nil); len(got) != len(before) {
		t.Fatalf("the original pool changed: %v", got)
	}
	for k := range 2 {
		if err := add(); err != nil {
			t.Fatalf("add #%d: %v", k+1, err)
		}
	}
	if got := groupsOf(t, c, id, name); !slices.Equal(got, before) {
		t.Fatalf("added back, %q is in %q, want %q", name, got, before)
	}
	if got, want := srv.Calls("AdminRemoveUserFromGroup"), int64(2); got != want {
		t.Errorf("%d AdminRemoveUserFromGroup calls counted, want %d", got, want)
	}
}

// TestMembershipWritesByAlias: where email is the username attribute, the
// Admin operations take the email as well as the username, as Cognito's
// do.
func TestMembershipWritesByAlias(t *testing.T) {
	p := cognitoemu.NewPool(cognitoemu.PoolSpec{ID: "eu-west-1_ByEmail", Users: 50, Groups: 3, Seed: 4, EmailAsUsername: true, NoGroupShare: -1})
	c, _ := client(t, cognitoemu.Options{}, p)
	u := p.User(3)
	g := groupsOf(t, c, p.ID(), u.Username)[0]
	if _, err := c.AdminRemoveUserFromGroup(context.Background(), &cip.AdminRemoveUserFromGroupInput{UserPoolId: aws.String(p.ID()), Username: aws.String(u.Email), GroupName: aws.String(g)}); err != nil {
		t.Fatal(err)
	}
	if slices.Contains(groupsOf(t, c, p.ID(), u.Username), g) {
		t.Fatalf("removed by email, %s is still in %q", u.Username, g)
	}
}

// TestMembershipWriteErrors: the answers to what cannot be done, with the
// SDK's typed errors: the group is looked up before the user. (A missing
// member never leaves the SDK, which checks required members itself: the
// botocore model test sends those.)
func TestMembershipWriteErrors(t *testing.T) {
	p := cognitoemu.NewPool(cognitoemu.PoolSpec{Users: 20, Groups: 3, Seed: 2})
	c, srv := client(t, cognitoemu.Options{Deny: map[string]string{}}, p)
	denyC, _ := client(t, cognitoemu.Options{Deny: map[string]string{"AdminRemoveUserFromGroup": "NotAuthorizedException"}}, p)
	ctx := context.Background()
	user, group := p.User(1).Username, p.Groups()[0].Name
	var notFound *types.ResourceNotFoundException
	var noUser *types.UserNotFoundException
	var invalid *types.InvalidParameterException
	var denied *types.NotAuthorizedException
	for _, tc := range []struct {
		name              string
		c                 *cip.Client
		pool, user, group *string
		target            any
	}{
		{"missing group", c, aws.String(p.ID()), aws.String(user), aws.String("no-such-group"), &notFound},
		{"missing group and user", c, aws.String(p.ID()), aws.String("nobody-here"), aws.String("no-such-group"), &notFound},
		{"missing user", c, aws.String(p.ID()), aws.String("nobody-here"), aws.String(group), &noUser},
		{"missing pool", c, aws.String("us-east-1_NoSuchPool"), aws.String(user), aws.String(group), &notFound},
		{"malformed pool id", c, aws.String("not a pool"), aws.String(user), aws.String(group), &invalid},
		{"username with a space", c, aws.String(p.ID()), aws.String("has space"), aws.String(group), &invalid},
		{"denied", denyC, aws.String(p.ID()), aws.String(user), aws.String(group), &denied},
	} {
		_, rerr := tc.c.AdminRemoveUserFromGroup(ctx, &cip.AdminRemoveUserFromGroupInput{UserPoolId: tc.pool, Username: tc.user, GroupName: tc.group})
		if rerr == nil || !errors.As(rerr, tc.target) {
			t.Errorf("remove, %s: err = %v, want %T", tc.name, rerr, tc.target)
		}
		if tc.c == denyC {
			continue
		}
		_, aerr := tc.c.AdminAddUserToGroup(ctx, &cip.AdminAddUserToGroupInput{UserPoolId: tc.pool, Username: tc.user, GroupName: tc.group})
		if aerr == nil || !errors.As(aerr, tc.target) {
			t.Errorf("add, %s: err = %v, want %T", tc.name, aerr, tc.target)
		}
	}
	if got, _ := srv.Pool(p.ID()); got != p {
		t.Error("a refused write replaced the pool")
	}
}

// TestMembershipWritesWithTheAWSCLI: the AWS CLI (Debian's awscli) removes
// and adds a membership of a hostile username, and reports the refusals by
// their codes with a non-zero exit, as against Cognito.
func TestMembershipWritesWithTheAWSCLI(t *testing.T) {
	boto.Require(t)
	t.Parallel() // waits on the AWS CLI's start-up, not the CPU
	base := cognitoemu.NewPool(cognitoemu.PoolSpec{Users: 20, Groups: 3, Seed: 9, NoGroupShare: -1})
	g := base.Groups()[0].Name
	hostile := "';id;'$(touch${IFS}pwned)`id`"
	p, err := base.Mutate(cognitoemu.Mutations{AddUsers: []cognitoemu.NewUser{{Username: hostile, Groups: []string{g}}}})
	if err != nil {
		t.Fatal(err)
	}
	srv := cognitoemu.NewServer(cognitoemu.Options{}, p)
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	cli := func(args ...string) (string, error) {
		cmd := exec.Command(boto.AWSCLI, append([]string{"--endpoint-url", hs.URL, "--region", "us-east-1", "cognito-idp"}, args...)...)
		cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + t.TempDir(), "AWS_ACCESS_KEY_ID=AKIDCLI", "AWS_SECRET_ACCESS_KEY=cli-secret",
			"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_EC2_METADATA_DISABLED=true", "AWS_MAX_ATTEMPTS=1", "AWS_PAGER="}
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	call := func(op, user, group string) (string, error) {
		return cli(op, "--user-pool-id", p.ID(), "--username="+user, "--group-name="+group)
	}
	if out, err := call("admin-remove-user-from-group", hostile, g); err != nil || out != "" {
		t.Fatalf("remove: %v, printed %q", err, out)
	}
	// The hostile user is the 21st, index 20, in the first group.
	if q, _ := srv.Pool(p.ID()); slices.Contains(q.UserGroups(20, nil), 0) {
		t.Fatal("the CLI's removal left the membership")
	}
	if out, err := call("admin-add-user-to-group", hostile, g); err != nil || out != "" {
		t.Fatalf("add: %v, printed %q", err, out)
	}
	if q, _ := srv.Pool(p.ID()); !slices.Contains(q.UserGroups(20, nil), 0) {
		t.Fatal("the CLI's addition is not there")
	}
	for _, tc := range []struct{ user, group, code string }{
		{"nobody-here", g, "UserNotFoundException"},
		{hostile, "no-such-group", "ResourceNotFoundException"},
	} {
		// The CLI starts slowly: the SDK test holds both operations to every
		// refusal, this one the CLI's view of the two a script meets.
		out, err := call("admin-remove-user-from-group", tc.user, tc.group)
		if err == nil || !strings.Contains(out, tc.code) {
			t.Errorf("remove %q from %q: %v, %q; want a failure naming %s", tc.user, tc.group, err, out, tc.code)
		}
	}
}

// TestMembershipWritesBesideReads: writes and reads at once (run with
// -race): every removal lands, each exactly once.
func TestMembershipWritesBesideReads(t *testing.T) {
	p := cognitoemu.NewPool(cognitoemu.PoolSpec{Users: 60, Groups: 2, Seed: 3, NoGroupShare: -1})
	c, srv := client(t, cognitoemu.Options{}, p)
	ctx := context.Background()
	var removed []string
	for i := range p.NumUsers() {
		if slices.Contains(p.UserGroups(i, nil), 0) {
			removed = append(removed, p.User(i).Username)
		}
	}
	g := p.Groups()[0].Name
	errs := make(chan error, len(removed)+1)
	go func() {
		for range 20 {
			if _, err := c.ListUserPools(ctx, &cip.ListUserPoolsInput{MaxResults: aws.Int32(10)}); err != nil {
				errs <- err
				return
			}
			if _, err := c.ListUsersInGroup(ctx, &cip.ListUsersInGroupInput{UserPoolId: aws.String(p.ID()), GroupName: aws.String(g)}); err != nil {
				errs <- err
				return
			}
		}
		errs <- nil
	}()
	for _, u := range removed {
		go func() {
			_, err := c.AdminRemoveUserFromGroup(ctx, &cip.AdminRemoveUserFromGroupInput{UserPoolId: aws.String(p.ID()), Username: aws.String(u), GroupName: aws.String(g)})
			errs <- err
		}()
	}
	for range len(removed) + 1 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if got := membersOf(t, c, p.ID(), g); len(got) != 0 {
		t.Fatalf("%d members left in %q: %q", len(got), g, got)
	}
	if q, _ := srv.Pool(p.ID()); q.GroupSize(0) != 0 {
		t.Fatalf("the served pool has %d members of %q", q.GroupSize(0), g)
	}
}
