package cognitoemu_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/aws/smithy-go"

	"github.com/cognito-export/cognito-export/internal/cognitoemu"
)

func value(attrs []cognitoemu.Attribute, name string) (string, bool) {
	for _, a := range attrs {
		if a.Name == name {
			return a.Value, true
		}
	}
	return "", false
}

func wireAttrs(u types.UserType) []cognitoemu.Attribute {
	var out []cognitoemu.Attribute
	for _, a := range u.Attributes {
		out = append(out, cognitoemu.Attribute{Name: aws.ToString(a.Name), Value: aws.ToString(a.Value)})
	}
	return out
}

// listAll follows PaginationToken through a whole listing.
func listAll(t *testing.T, c *cip.Client, in cip.ListUsersInput) (users []types.UserType, pages int) {
	t.Helper()
	for {
		out, err := c.ListUsers(context.Background(), &in)
		if err != nil {
			t.Fatal(err)
		}
		if in.Limit != nil && len(out.Users) > int(*in.Limit) {
			t.Fatalf("page of %d users with Limit %d", len(out.Users), *in.Limit)
		}
		users = append(users, out.Users...)
		pages++
		if in.PaginationToken = out.PaginationToken; in.PaginationToken == nil {
			return users, pages
		}
	}
}

func TestAttributesAreRealisticAndDeterministic(t *testing.T) {
	const n = 10_000
	a := cognitoemu.NewPool(cognitoemu.PoolSpec{Users: n, Groups: 10, Seed: 11})
	b := cognitoemu.NewPool(cognitoemu.PoolSpec{Users: n, Groups: 10, Seed: 11})
	emails := make(map[string]bool, n)
	count := map[string]int{}
	hostile := 0
	for i := range n {
		attrs := a.UserAttributes(i, nil)
		if !slices.Equal(attrs, b.UserAttributes(i, nil)) {
			t.Fatalf("user %d: attributes differ between two pools of the same seed", i)
		}
		for _, x := range attrs {
			count[x.Name]++
		}
		email, _ := value(attrs, "email")
		if sub, _ := value(attrs, "sub"); sub != a.User(i).Sub || email != a.User(i).Email {
			t.Fatalf("user %d: attributes %v disagree with User %+v", i, attrs, a.User(i))
		}
		local, domain, ok := strings.Cut(email, "@")
		if !ok || local == "" || !strings.Contains(domain, ".") || strings.ContainsAny(email, " \"<>,;") || emails[email] {
			t.Fatalf("user %d: email %q invalid or repeated", i, email)
		}
		emails[email] = true
		name, _ := value(attrs, "name")
		dept, _ := value(attrs, "custom:department")
		if slices.Contains(cognitoemu.HostileValues, name) {
			hostile++
			if !slices.Contains(cognitoemu.HostileValues, dept) {
				t.Fatalf("user %d: hostile name %q but department %q", i, name, dept)
			}
		}
	}
	share := func(name string) float64 { return float64(count[name]) / n }
	for _, c := range []struct {
		name   string
		lo, hi float64
	}{
		{"sub", 1, 1}, {"email", 1, 1}, {"email_verified", 1, 1},
		{"name", 0.83, 0.87}, {"phone_number", 0.27, 0.33}, {"phone_number_verified", 0.27, 0.33},
		{"custom:department", 0.57, 0.63}, {"custom:start_date", 0.27, 0.33},
	} {
		if s := share(c.name); s < c.lo || s > c.hi {
			t.Errorf("%s on %.3f of the users, want [%.2f, %.2f]", c.name, s, c.lo, c.hi)
		}
	}
	if k := count["custom:employee_id"] + count["custom:level"]; k != count["custom:department"] {
		t.Errorf("employee_id or level on %d users, department on %d", k, count["custom:department"])
	}
	if s := float64(hostile) / n; s < 0.015 || s > 0.025 {
		t.Errorf("hostile share %.3f", s)
	}
	// Every hostile value occurs, and reaches the SDK unchanged.
	c, _ := client(t, cognitoemu.Options{}, a)
	users, _ := listAll(t, c, cip.ListUsersInput{UserPoolId: aws.String(a.ID())})
	seen := map[string]bool{}
	for i, u := range users {
		got := wireAttrs(u)
		if want := a.UserAttributes(i, nil); !slices.Equal(got, want) {
			t.Fatalf("user %d over the wire: %v, want %v", i, got, want)
		}
		name, _ := value(got, "name")
		seen[name] = true
	}
	for _, h := range cognitoemu.HostileValues {
		if !seen[h] {
			t.Errorf("no user named %q", h)
		}
	}
}

func TestEmailAsUsername(t *testing.T) {
	pool := cognitoemu.NewPool(cognitoemu.PoolSpec{Users: 2000, Groups: 70, Seed: 4, EmailAsUsername: true})
	c, _ := client(t, cognitoemu.Options{}, pool)
	ctx := context.Background()
	for i := range pool.NumUsers() {
		u := pool.User(i)
		if !isUUID4(u.Username) || u.Sub != u.Username {
			t.Fatalf("user %d: username %q, sub %q", i, u.Username, u.Sub)
		}
		for _, name := range []string{u.Username, u.Email} {
			if j, ok := pool.Lookup(name); !ok || j != i {
				t.Fatalf("Lookup(%q) = %d, %v, want %d", name, j, ok, i)
			}
		}
	}
	for _, name := range []string{"00000000-0000-4000-8000-000000000000", strings.ToUpper(pool.User(3).Username), "user00000003", "x.y.3@example.com"} {
		if j, ok := pool.Lookup(name); ok {
			t.Errorf("Lookup(%q) found user %d", name, j)
		}
	}
	d, err := c.DescribeUserPool(ctx, &cip.DescribeUserPoolInput{UserPoolId: aws.String(pool.ID())})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(d.UserPool.UsernameAttributes, []types.UsernameAttributeType{types.UsernameAttributeTypeEmail}) {
		t.Fatalf("UsernameAttributes %v", d.UserPool.UsernameAttributes)
	}
	// AdminListGroupsForUser takes the UUID, or the email as an alias.
	for _, i := range []int{0, 1, 17, 1999} {
		want := pool.UserGroups(i, nil)
		for _, name := range []string{pool.User(i).Username, pool.User(i).Email} {
			out, err := c.AdminListGroupsForUser(ctx, &cip.AdminListGroupsForUserInput{UserPoolId: aws.String(pool.ID()), Username: aws.String(name)})
			if err != nil {
				t.Fatalf("groups of %q: %v", name, err)
			}
			if len(out.Groups) != min(len(want), 60) {
				t.Fatalf("groups of %q: %d, want %d", name, len(out.Groups), len(want))
			}
		}
	}
	users, _ := listAll(t, c, cip.ListUsersInput{UserPoolId: aws.String(pool.ID()), Limit: aws.Int32(60)})
	if len(users) != pool.NumUsers() || aws.ToString(users[5].Username) != pool.User(5).Username {
		t.Fatalf("listed %d users", len(users))
	}
	// The default pool keeps its usernames and subs.
	plain := cognitoemu.NewPool(cognitoemu.PoolSpec{Users: 10, Seed: 4})
	if u := plain.User(3); u.Username != `"quoted"00000003` || u.Sub == u.Username || !isUUID4(u.Sub) {
		t.Fatalf("default pool user 3: %+v", u)
	}
	d, err = c.DescribeUserPool(ctx, &cip.DescribeUserPoolInput{UserPoolId: aws.String(pool.ID())})
	if err != nil {
		t.Fatal(err)
	}
	schema := map[string]types.SchemaAttributeType{}
	for _, a := range d.UserPool.SchemaAttributes {
		schema[aws.ToString(a.Name)] = a
	}
	for name, typ := range map[string]types.AttributeDataType{"sub": "String", "email_verified": "Boolean", "updated_at": "Number",
		"birthdate": "String", "custom:department": "String", "custom:employee_id": "Number", "custom:level": "Number", "custom:start_date": "DateTime"} {
		if schema[name].AttributeDataType != typ {
			t.Errorf("schema %s: %+v, want %s", name, schema[name], typ)
		}
	}
	if len(schema) != 24 || aws.ToString(schema["sub"].StringAttributeConstraints.MinLength) != "1" || !aws.ToBool(schema["sub"].Required) ||
		aws.ToString(schema["updated_at"].NumberAttributeConstraints.MinValue) != "0" || schema["email_verified"].StringAttributeConstraints != nil {
		t.Errorf("schema: %d attributes, sub %+v", len(schema), schema["sub"])
	}
}

func isUUID4(s string) bool {
	if len(s) != 36 || s[14] != '4' || !strings.ContainsRune("89ab", rune(s[19])) {
		return false
	}
	for k, r := range s {
		if k == 8 || k == 13 || k == 18 || k == 23 {
			if r != '-' {
				return false
			}
		} else if !strings.ContainsRune("0123456789abcdef", r) {
			return false
		}
	}
	return true
}

func TestAttributesToGet(t *testing.T) {
	pool := cognitoemu.NewPool(cognitoemu.PoolSpec{Users: 500, Groups: 10, Seed: 2})
	c, _ := client(t, cognitoemu.Options{}, pool)
	ctx := context.Background()
	users, _ := listAll(t, c, cip.ListUsersInput{UserPoolId: aws.String(pool.ID()), Limit: aws.Int32(60), AttributesToGet: []string{"email", "sub"}})
	if len(users) != pool.NumUsers() {
		t.Fatalf("%d users", len(users))
	}
	for i, u := range users {
		want := []cognitoemu.Attribute{{Name: "sub", Value: pool.User(i).Sub}, {Name: "email", Value: pool.User(i).Email}}
		if got := wireAttrs(u); !slices.Equal(got, want) {
			t.Fatalf("user %d: %v, want %v", i, got, want)
		}
	}
	// An empty list asks for no attributes.
	out, err := c.ListUsers(ctx, &cip.ListUsersInput{UserPoolId: aws.String(pool.ID()), AttributesToGet: []string{}})
	if err != nil || len(out.Users) != 60 || len(out.Users[0].Attributes) != 0 {
		t.Fatalf("AttributesToGet []: %v", err)
	}
	// name, which some users lack, with a filter that selects users who have it.
	users, _ = listAll(t, c, cip.ListUsersInput{UserPoolId: aws.String(pool.ID()), Filter: aws.String(`name ^= "A"`), AttributesToGet: []string{"name"}})
	if len(users) == 0 {
		t.Fatal(`no user's name starts with "A"`)
	}
	for _, u := range users {
		if got := wireAttrs(u); len(got) != 1 || got[0].Name != "name" || !strings.HasPrefix(got[0].Value, "A") {
			t.Fatalf("%v", got)
		}
	}
	for _, get := range [][]string{{"custom:nope"}, {"nickname"}, {"email", "colour"}, {"name"}, {"custom:department"}, {"status"}} {
		_, err := c.ListUsers(ctx, &cip.ListUsersInput{UserPoolId: aws.String(pool.ID()), AttributesToGet: get})
		assertInvalid(t, err, "AttributesToGet %v", get)
	}
}

func assertInvalid(t *testing.T, err error, format string, args ...any) {
	t.Helper()
	var api smithy.APIError
	if !errors.As(err, &api) || api.ErrorCode() != "InvalidParameterException" {
		t.Errorf(format+": err = %v, want InvalidParameterException", append(args, err)...)
	}
}

func TestFilter(t *testing.T) {
	pool := cognitoemu.NewPool(cognitoemu.PoolSpec{Users: 3000, Groups: 10, Seed: 7})
	c, srv := client(t, cognitoemu.Options{}, pool)
	truth := func(keep func(i int, u cognitoemu.User) bool) []string {
		var names []string
		for i := range pool.NumUsers() {
			if u := pool.User(i); keep(i, u) {
				names = append(names, u.Username)
			}
		}
		return names
	}
	for _, c2 := range []struct {
		filter string
		keep   func(i int, u cognitoemu.User) bool
	}{
		{`email ^= "a"`, func(_ int, u cognitoemu.User) bool { return strings.HasPrefix(u.Email, "a") }},
		{`"email"^="z"`, func(_ int, u cognitoemu.User) bool { return strings.HasPrefix(u.Email, "z") }},
		{`status = "Disabled"`, func(_ int, u cognitoemu.User) bool { return !u.Enabled }},
		{`status = "disabled"`, func(int, cognitoemu.User) bool { return false }},
		{`cognito:user_status = "unconfirmed"`, func(_ int, u cognitoemu.User) bool { return u.Status == "UNCONFIRMED" }},
		{`username = "` + pool.User(42).Username + `"`, func(i int, _ cognitoemu.User) bool { return i == 42 }},
		{`username = "\"quoted\"00000003"`, func(i int, _ cognitoemu.User) bool { return i == 3 }},
		{`sub = "` + pool.User(7).Sub + `"`, func(i int, _ cognitoemu.User) bool { return i == 7 }},
		{`phone_number ^= "+1555"`, func(i int, _ cognitoemu.User) bool {
			_, ok := value(pool.UserAttributes(i, nil), "phone_number")
			return ok
		}},
		{`given_name = "Ada"`, func(int, cognitoemu.User) bool { return false }},
	} {
		users, pages := listAll(t, c, cip.ListUsersInput{UserPoolId: aws.String(pool.ID()), Filter: aws.String(c2.filter), Limit: aws.Int32(7)})
		var got []string
		for _, u := range users {
			got = append(got, aws.ToString(u.Username))
		}
		want := truth(c2.keep)
		if !slices.Equal(got, want) {
			t.Errorf("%s: %d users, want %d", c2.filter, len(got), len(want))
		}
		if len(want) > 14 && pages < len(want)/7 {
			t.Errorf("%s: %d users in %d pages", c2.filter, len(want), pages)
		}
	}
	// A token belongs to its filter.
	out, err := c.ListUsers(context.Background(), &cip.ListUsersInput{UserPoolId: aws.String(pool.ID()), Filter: aws.String(`email ^= "a"`), Limit: aws.Int32(7)})
	if err != nil || out.PaginationToken == nil {
		t.Fatal(err)
	}
	_, err = c.ListUsers(context.Background(), &cip.ListUsersInput{UserPoolId: aws.String(pool.ID()), Filter: aws.String(`email ^= "b"`), PaginationToken: out.PaginationToken})
	assertInvalid(t, err, "token of another filter")
	for _, f := range []string{`email`, `email = a`, `email == "a"`, `email ~= "a"`, `email = "a" x`, `custom:department = "Sales"`,
		`nickname = "x"`, `Email = "a"`, `email = "a`, `= "a"`} {
		_, err := c.ListUsers(context.Background(), &cip.ListUsersInput{UserPoolId: aws.String(pool.ID()), Filter: aws.String(f)})
		assertInvalid(t, err, "filter %q", f)
	}
	if srv.Calls("ListUsers") == 0 {
		t.Fatal("no calls counted")
	}
}
