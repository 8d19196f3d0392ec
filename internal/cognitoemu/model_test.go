package cognitoemu_test

import (
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cognito-export/cognito-export/internal/boto"
	"github.com/cognito-export/cognito-export/internal/cognitoemu"
)

// TestResponsesMatchBotocoreModel sends requests with botocore and checks
// every raw response of the emulated operations, errors included,
// against the cognito-idp model that ships with botocore (modelcheck.py).
func TestResponsesMatchBotocoreModel(t *testing.T) {
	boto.Require(t)
	pool := cognitoemu.NewPool(cognitoemu.PoolSpec{Users: 300, Groups: 70, Seed: 5})
	serve := func(opts cognitoemu.Options) string {
		hs := httptest.NewServer(cognitoemu.NewServer(opts, pool))
		t.Cleanup(hs.Close)
		return hs.URL
	}
	plain := serve(cognitoemu.Options{})
	// One of each failure the emulator can be asked for, on every operation.
	denyAll := func(code string) map[string]string {
		m := map[string]string{}
		for _, op := range append(ops, "ListUserPools", "AdminRemoveUserFromGroup", "AdminAddUserToGroup") {
			m[op] = code
		}
		return m
	}
	throttled := serve(cognitoemu.Options{Deny: denyAll("TooManyRequestsException")})
	denied := serve(cognitoemu.Options{Deny: denyAll("AccessDeniedException")})
	faulty := serve(cognitoemu.Options{FaultRate: 1})

	wide, none := -1, -1
	for i := range pool.NumUsers() {
		switch n := len(pool.UserGroups(i, nil)); {
		case n > 60 && wide < 0:
			wide = i
		case n == 0 && none < 0:
			none = i
		}
	}
	id := pool.ID()
	user := func(i int) string { return pool.User(i).Username }
	type check struct {
		call boto.Call
		want string // the error __type, "" for success
	}
	var checks []check
	add := func(endpoint, op, want string, pages int, params map[string]any) {
		checks = append(checks, check{boto.Call{Endpoint: endpoint, Region: "us-east-1", Op: op, Params: params, Pages: pages}, want})
	}
	// Successes, following tokens through whole listings.
	add(plain, "DescribeUserPool", "", 1, map[string]any{"UserPoolId": id})
	add(plain, "ListUsers", "", 10, map[string]any{"UserPoolId": id, "Limit": 60})
	add(plain, "ListUsers", "", 50, map[string]any{"UserPoolId": id, "Limit": 7})
	add(plain, "ListUsers", "", 1, map[string]any{"UserPoolId": id})
	add(plain, "ListGroups", "", 5, map[string]any{"UserPoolId": id, "Limit": 25})
	add(plain, "ListGroups", "", 1, map[string]any{"UserPoolId": id, "Limit": 0})
	for _, g := range []int{0, 1, 2, 3, 4, 5, 6} {
		add(plain, "ListUsersInGroup", "", 10, map[string]any{"UserPoolId": id, "GroupName": pool.Groups()[g].Name, "Limit": 60})
	}
	for _, i := range []int{wide, none, 1, 2, 3, 4, 5, 6, 7} {
		add(plain, "AdminListGroupsForUser", "", 20, map[string]any{"UserPoolId": id, "Username": user(i), "Limit": 10})
	}
	// Attributes, filters and a pool that signs in by email.
	add(plain, "ListUsers", "", 10, map[string]any{"UserPoolId": id, "Limit": 60, "AttributesToGet": []string{"sub", "email"}})
	add(plain, "ListUsers", "", 1, map[string]any{"UserPoolId": id, "AttributesToGet": []string{}})
	add(plain, "ListUsers", "", 20, map[string]any{"UserPoolId": id, "Limit": 7, "Filter": `email ^= "a"`})
	add(plain, "ListUsers", "", 10, map[string]any{"UserPoolId": id, "Limit": 25, "Filter": `status = "Disabled"`})
	add(plain, "ListUsers", "", 1, map[string]any{"UserPoolId": id, "Filter": `cognito:user_status = "unconfirmed"`, "AttributesToGet": []string{"email"}})
	add(plain, "ListUsers", "InvalidParameterException", 1, map[string]any{"UserPoolId": id, "AttributesToGet": []string{"custom:nope"}})
	add(plain, "ListUsers", "InvalidParameterException", 1, map[string]any{"UserPoolId": id, "AttributesToGet": []string{strings.Repeat("a", 33)}})
	add(plain, "ListUsers", "InvalidParameterException", 1, map[string]any{"UserPoolId": id, "Filter": `custom:department = "Sales"`})
	add(plain, "ListUsers", "InvalidParameterException", 1, map[string]any{"UserPoolId": id, "Filter": `email == "a"`})
	add(plain, "ListUsers", "InvalidParameterException", 1, map[string]any{"UserPoolId": id, "Filter": `email = "` + strings.Repeat("a", 260) + `"`})
	byEmail := cognitoemu.NewPool(cognitoemu.PoolSpec{ID: "eu-west-1_ByEmail", Users: 120, Groups: 70, Seed: 6, EmailAsUsername: true})
	hs := httptest.NewServer(cognitoemu.NewServer(cognitoemu.Options{}, byEmail))
	t.Cleanup(hs.Close)
	add(hs.URL, "DescribeUserPool", "", 1, map[string]any{"UserPoolId": byEmail.ID()})
	add(hs.URL, "ListUsers", "", 3, map[string]any{"UserPoolId": byEmail.ID()})
	add(hs.URL, "AdminListGroupsForUser", "", 5, map[string]any{"UserPoolId": byEmail.ID(), "Username": byEmail.User(7).Username, "Limit": 10})
	add(hs.URL, "AdminListGroupsForUser", "", 5, map[string]any{"UserPoolId": byEmail.ID(), "Username": byEmail.User(8).Email, "Limit": 10})
	add(hs.URL, "ListUsersInGroup", "", 5, map[string]any{"UserPoolId": byEmail.ID(), "GroupName": byEmail.Groups()[0].Name})
	// Errors a caller's input causes.
	for _, op := range ops {
		p := func(extra map[string]any) map[string]any {
			m := map[string]any{"UserPoolId": id, "Username": user(1), "GroupName": pool.Groups()[0].Name}
			for k, v := range extra {
				m[k] = v
			}
			if op != "AdminListGroupsForUser" {
				delete(m, "Username")
			}
			if op != "ListUsersInGroup" {
				delete(m, "GroupName")
			}
			return m
		}
		add(plain, op, "ResourceNotFoundException", 1, p(map[string]any{"UserPoolId": "us-east-1_NoSuchPool"}))
		add(plain, op, "InvalidParameterException", 1, p(map[string]any{"UserPoolId": "not a pool id"}))
		add(plain, op, "InvalidParameterException", 1, p(map[string]any{"UserPoolId": strings.Repeat("x", 50) + "_" + "abcdef"}))
		noPool := p(nil)
		delete(noPool, "UserPoolId")
		add(plain, op, "InvalidParameterException", 1, noPool)
		add(throttled, op, "TooManyRequestsException", 1, p(nil))
		add(denied, op, "AccessDeniedException", 1, p(nil))
		add(faulty, op, "InternalErrorException", 1, p(nil))
		checks = append(checks, check{boto.Call{Endpoint: plain, Region: "us-east-1", Op: op, Params: p(nil), Unsigned: true}, "MissingAuthenticationTokenException"})
		if op == "DescribeUserPool" {
			continue
		}
		token := "PaginationToken"
		if op != "ListUsers" {
			token = "NextToken"
		}
		add(plain, op, "InvalidParameterException", 1, p(map[string]any{"Limit": 61}))
		add(plain, op, "InvalidParameterException", 1, p(map[string]any{"Limit": -1}))
		add(plain, op, "InvalidParameterException", 1, p(map[string]any{token: "bm90LWEtdG9rZW4"}))
		add(plain, op, "InvalidParameterException", 1, p(map[string]any{token: "has spaces"}))
	}
	add(plain, "AdminListGroupsForUser", "UserNotFoundException", 1, map[string]any{"UserPoolId": id, "Username": "nobody-here"})
	add(plain, "AdminListGroupsForUser", "InvalidParameterException", 1, map[string]any{"UserPoolId": id})
	add(plain, "AdminListGroupsForUser", "InvalidParameterException", 1, map[string]any{"UserPoolId": id, "Username": strings.Repeat("u", 129)})
	add(plain, "ListUsersInGroup", "ResourceNotFoundException", 1, map[string]any{"UserPoolId": id, "GroupName": "no-such-group"})
	add(plain, "ListUsersInGroup", "InvalidParameterException", 1, map[string]any{"UserPoolId": id})
	add(plain, "ListUsersInGroup", "InvalidParameterException", 1, map[string]any{"UserPoolId": id, "GroupName": "has space"})
	// ListUserPools, which takes no pool: paging over several, and its errors.
	var several []*cognitoemu.Pool
	for k := range 5 {
		several = append(several, cognitoemu.NewPool(cognitoemu.PoolSpec{ID: fmt.Sprintf("eu-west-1_Pool%d", k), Name: fmt.Sprintf("pool %d", k), Users: 1, Seed: int64(k)}))
	}
	listing := httptest.NewServer(cognitoemu.NewServer(cognitoemu.Options{}, several...))
	t.Cleanup(listing.Close)
	add(listing.URL, "ListUserPools", "", 5, map[string]any{"MaxResults": 2})
	add(plain, "ListUserPools", "", 1, map[string]any{"MaxResults": 60})
	for _, bad := range []map[string]any{{}, {"MaxResults": 0}, {"MaxResults": 61}, {"MaxResults": 2, "NextToken": "bm90LWEtdG9rZW4"}, {"MaxResults": 2, "NextToken": "has spaces"}} {
		add(listing.URL, "ListUserPools", "InvalidParameterException", 1, bad)
	}
	add(throttled, "ListUserPools", "TooManyRequestsException", 1, map[string]any{"MaxResults": 10})
	add(denied, "ListUserPools", "AccessDeniedException", 1, map[string]any{"MaxResults": 10})
	add(faulty, "ListUserPools", "InternalErrorException", 1, map[string]any{"MaxResults": 10})
	checks = append(checks, check{boto.Call{Endpoint: plain, Region: "us-east-1", Op: "ListUserPools", Params: map[string]any{"MaxResults": 10}, Unsigned: true}, "MissingAuthenticationTokenException"})
	// The two writes, on a pool of their own: a success, the same again
	// (a success that changes nothing), and every refusal.
	writable := cognitoemu.NewPool(cognitoemu.PoolSpec{ID: "us-east-1_Writes", Users: 30, Groups: 4, Seed: 8, NoGroupShare: -1})
	ws := httptest.NewServer(cognitoemu.NewServer(cognitoemu.Options{}, writable))
	t.Cleanup(ws.Close)
	member := writable.Groups()[writable.UserGroups(2, nil)[0]].Name
	for _, op := range []string{"AdminRemoveUserFromGroup", "AdminRemoveUserFromGroup", "AdminAddUserToGroup", "AdminAddUserToGroup"} {
		add(ws.URL, op, "", 1, map[string]any{"UserPoolId": writable.ID(), "Username": writable.User(2).Username, "GroupName": member})
	}
	for _, op := range []string{"AdminRemoveUserFromGroup", "AdminAddUserToGroup"} {
		p := func(drop string, extra map[string]any) map[string]any {
			m := map[string]any{"UserPoolId": writable.ID(), "Username": writable.User(1).Username, "GroupName": member}
			delete(m, drop)
			for k, v := range extra {
				m[k] = v
			}
			return m
		}
		add(ws.URL, op, "ResourceNotFoundException", 1, p("", map[string]any{"GroupName": "no-such-group", "Username": "nobody-here"}))
		add(ws.URL, op, "ResourceNotFoundException", 1, p("", map[string]any{"UserPoolId": "us-east-1_NoSuchPool"}))
		add(ws.URL, op, "UserNotFoundException", 1, p("", map[string]any{"Username": "nobody-here"}))
		add(ws.URL, op, "InvalidParameterException", 1, p("", map[string]any{"Username": "has space"}))
		add(ws.URL, op, "InvalidParameterException", 1, p("", map[string]any{"GroupName": strings.Repeat("g", 129)}))
		for _, drop := range []string{"UserPoolId", "Username", "GroupName"} {
			add(ws.URL, op, "InvalidParameterException", 1, p(drop, nil))
		}
		for _, srv := range []string{throttled, denied, faulty} {
			add(srv, op, map[string]string{throttled: "TooManyRequestsException", denied: "AccessDeniedException", faulty: "InternalErrorException"}[srv], 1,
				map[string]any{"UserPoolId": id, "Username": user(1), "GroupName": pool.Groups()[0].Name})
		}
		checks = append(checks, check{boto.Call{Endpoint: ws.URL, Region: "us-east-1", Op: op, Params: p("", nil), Unsigned: true}, "MissingAuthenticationTokenException"})
	}
	// An operation the emulator does not serve.
	add(plain, "AdminGetUser", "UnknownOperationException", 1, map[string]any{"UserPoolId": id, "Username": user(1)})

	calls := make([]boto.Call, len(checks))
	for k, c := range checks {
		calls[k] = c.call
	}
	// Enums that grew after the installed botocore's model: the SDK we build
	// with carries a newer model of the same API.
	newer := map[string][]string{}
	for _, v := range types.UserStatusType("").Values() {
		newer["UserStatusType"] = append(newer["UserStatusType"], string(v))
	}
	version, results := boto.ModelCheck(t, newer, calls)
	t.Logf("botocore %s model, %d calls", version, len(calls))
	pages, notes := 0, map[string]bool{}
	for k, r := range results {
		c := checks[k]
		for _, p := range r.Problems {
			if realServiceDeviation(p) {
				notes[p] = true
				continue
			}
			t.Errorf("%s %v: %s", c.call.Op, c.call.Params, p)
		}
		if r.Error != c.want {
			t.Errorf("%s %v: answered %q (HTTP %d), want %q", c.call.Op, c.call.Params, r.Error, r.Status, c.want)
		}
		for _, n := range r.Notes {
			notes[n[strings.Index(n, ": ")+2:]] = true
		}
		pages += r.Pages
	}
	for n := range notes {
		t.Logf("note: %s", n)
	}
	if pages < 100 {
		t.Fatalf("only %d responses checked", pages)
	}
}

// realServiceDeviation reports whether a problem is one the real service
// shows too: a real pool's DescribeUserPool lists phone_number_verified (21
// characters) among its SchemaAttributes, whose Name the model types as
// CustomAttributeNameType (at most 20), a constraint written for the names
// AddCustomAttributes takes.
func realServiceDeviation(problem string) bool {
	return problem == "DescribeUserPool.UserPool.SchemaAttributes[17].Name: length 21 outside [1, 20] of CustomAttributeNameType"
}

var ops = []string{"ListUsers", "AdminListGroupsForUser", "ListGroups", "ListUsersInGroup", "DescribeUserPool"}
