package main

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cognito-export/cognito-export/internal/cognitolocal"
	"github.com/cognito-export/cognito-export/internal/duckdb"
	"github.com/cognito-export/cognito-export/internal/exportcheck"
)

// createdPool is what the test put into cognito-local.
type createdPool struct {
	id       string
	rows     []exportcheck.Row
	groups   map[string]types.GroupType
	enabled  map[string]bool
	members  int
	noGroups int
	// attrs are the email and name each user was created with ("" when
	// the user has no name).
	attrs map[string][2]string
}

// populate creates, through cognito-local's API, a pool with more users than
// a page holds, groups with and without description, role and precedence
// (0 included), a user in more than 60 groups, users in none and a disabled
// user, with names that need escaping on the wire.
func populate(t *testing.T, ctx context.Context, c *cip.Client) createdPool {
	t.Helper()
	pool, err := c.CreateUserPool(ctx, &cip.CreateUserPoolInput{PoolName: aws.String("export-conformance")})
	if err != nil {
		t.Fatalf("CreateUserPool: %v", err)
	}
	p := createdPool{id: aws.ToString(pool.UserPool.Id), groups: map[string]types.GroupType{}, enabled: map[string]bool{}, attrs: map[string][2]string{}}
	var groupNames []string
	for g := range 64 {
		in := &cip.CreateGroupInput{UserPoolId: aws.String(p.id), GroupName: aws.String(fmt.Sprintf([]string{"admins-%02d", "ünïcödé-%02d", `team,"%02d"`, "🚀-%02d"}[g%4], g))}
		if g%3 != 0 {
			in.Description = aws.String(fmt.Sprintf("line one\nline \"two\" #%d", g))
		}
		if g%2 == 0 {
			in.RoleArn = aws.String(fmt.Sprintf("arn:aws:iam::123456789012:role/cognito-%d", g))
		}
		if g%5 != 4 {
			in.Precedence = aws.Int32(int32(g % 5)) // 0 is a real precedence
		}
		out, err := c.CreateGroup(ctx, in)
		if err != nil {
			t.Fatalf("CreateGroup %q: %v", *in.GroupName, err)
		}
		p.groups[*in.GroupName] = *out.Group
		groupNames = append(groupNames, *in.GroupName)
	}
	for u := range 75 {
		name := fmt.Sprintf([]string{"user%03d", "émile+%03d@example.com", "o'brien,%03d", "名前%03d"}[u%4], u)
		email := fmt.Sprintf("u%03d@example.com", u)
		attrs := []types.AttributeType{{Name: aws.String("email"), Value: aws.String(email)}}
		fullName := ""
		if u%6 != 5 { // some users have no name
			fullName = fmt.Sprintf([]string{"Ann Lee %d", "=cmd|' /C calc'!A%d", "Zoë \"Z\" Ng %d"}[u%3], u)
			attrs = append(attrs, types.AttributeType{Name: aws.String("name"), Value: aws.String(fullName)})
		}
		p.attrs[name] = [2]string{email, fullName}
		out, err := c.AdminCreateUser(ctx, &cip.AdminCreateUserInput{
			UserPoolId: aws.String(p.id), Username: aws.String(name), MessageAction: types.MessageActionTypeSuppress,
			UserAttributes: attrs,
		})
		if err != nil {
			t.Fatalf("AdminCreateUser %q: %v", name, err)
		}
		if got := aws.ToString(out.User.Username); got != name {
			t.Fatalf("cognito-local renamed user %q to %q: its config must keep plain usernames", name, got)
		}
		var sub string
		for _, a := range out.User.Attributes {
			if aws.ToString(a.Name) == "sub" {
				sub = aws.ToString(a.Value)
			}
		}
		p.enabled[name] = true
		if u == 13 {
			if _, err := c.AdminDisableUser(ctx, &cip.AdminDisableUserInput{UserPoolId: aws.String(p.id), Username: aws.String(name)}); err != nil {
				t.Fatalf("AdminDisableUser: %v", err)
			}
			p.enabled[name] = false
		}
		// User 0 is in every group; every seventh user in none; the others
		// in a few.
		var mine []string
		switch {
		case u == 0:
			mine = groupNames
		case u%7 == 3:
		default:
			for g := u % 5; g < len(groupNames); g += 9 + u%4 {
				mine = append(mine, groupNames[g])
			}
		}
		for _, g := range mine {
			if _, err := c.AdminAddUserToGroup(ctx, &cip.AdminAddUserToGroupInput{UserPoolId: aws.String(p.id), Username: aws.String(name), GroupName: aws.String(g)}); err != nil {
				t.Fatalf("AdminAddUserToGroup %q %q: %v", name, g, err)
			}
			gt := p.groups[g]
			p.rows = append(p.rows, exportcheck.Row{Username: name, UserSub: sub, GroupName: aws.String(g), GroupPrecedence: gt.Precedence, GroupRoleArn: gt.RoleArn})
			p.members++
		}
		if len(mine) == 0 {
			p.rows = append(p.rows, exportcheck.Row{Username: name, UserSub: sub})
			p.noGroups++
		}
	}
	return p
}

// TestExportAgainstCognitoLocal runs the real binary against cognito-local,
// an emulator we did not write, and reads the export back with DuckDB: every
// membership created through the API, and nothing else. cognito-local
// ignores Limit (one page holds everything), so exports with page sizes 60
// and 7 also prove that the job does not depend on the service honouring it.
// Both strategies run: per-user (ListUsers, AdminListGroupsForUser) and
// by-group (ListGroups, ListUsersInGroup, ListUsers).
func TestExportAgainstCognitoLocal(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: starts cognito-local and runs four exports; make test runs it")
	}
	endpoint := cognitolocal.Start(t)
	duckdb.Require(t)
	ctx := context.Background()
	client := cip.New(cip.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(endpoint),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDCOGNITOLOCAL", "cognito-local-secret", ""),
	})
	p := populate(t, ctx, client)
	if p.members < 150 || p.noGroups < 5 {
		t.Fatalf("pool too thin: %d memberships, %d users without groups", p.members, p.noGroups)
	}
	// cognito-local does not paginate: the whole pool comes in one page.
	page, err := client.ListUsers(ctx, &cip.ListUsersInput{UserPoolId: aws.String(p.id), Limit: aws.Int32(7)})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("cognito-local returned %d users for Limit 7 (next token %v)", len(page.Users), page.PaginationToken != nil)

	truth := exportcheck.WriteRows(t, p.rows)
	env := cleanEnv(creds()...)
	for _, run := range []struct {
		name     string
		strategy string
		format   string
		flags    []string
	}{
		{"per-user-parquet", "per-user", "parquet", []string{"--page-size", "60", "--attributes", "email,name"}},
		{"per-user-csv-page-7", "per-user", "csv", []string{"--page-size", "7", "--concurrency", "3", "--attributes", "email,name", "--csv-raw"}},
		{"by-group-parquet", "by-group", "parquet", []string{"--page-size", "60", "--attributes", "email,name"}},
		{"by-group-csv-page-7", "by-group", "csv", []string{"--page-size", "7", "--concurrency", "3", "--attributes", "email,name", "--csv-raw"}},
	} {
		t.Run(run.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			args := append([]string{"export", "--endpoint-url", endpoint, "--user-pool-id", p.id, "--output", out,
				"--strategy", run.strategy, "--format", run.format, "--rate", "UserList=0", "--rate", "UserResourceRead=0",
				"--rate", "UserPoolResourceRead=0", "--rate", "UserPoolRead=0"}, run.flags...)
			r := runCLI(t, env, args...)
			if r.code != 0 {
				t.Fatalf("export exit %d:\n%s", r.code, r.stderr)
			}
			checkStrategy(t, r.stderr, run.strategy)
			table := fmt.Sprintf("read_parquet(%s, hive_partitioning=false)", duckdb.Quote(out+"/part-*.parquet"))
			if run.format == "csv" {
				table = fmt.Sprintf("read_csv(%s, header=true, all_varchar=true, types={'group_precedence':'INTEGER'})", duckdb.Quote(out+"/part-*.csv"))
			}
			if n := exportcheck.Compare(t, table, truth); n != len(p.rows) {
				t.Fatalf("%d rows, want %d", n, len(p.rows))
			}
			checkGroupsAndUsers(t, table, p)
			checkAttributes(t, table, p)
		})
	}
}

// checkGroupsAndUsers compares the columns Compare does not: each group's
// description, and each user's enabled flag and status.
func checkGroupsAndUsers(t *testing.T, table string, p createdPool) {
	t.Helper()
	res := duckdb.Query(t, fmt.Sprintf(`SELECT DISTINCT group_name, group_description FROM %s WHERE group_name IS NOT NULL ORDER BY 1`, table))
	if len(res.Rows) != len(p.groups) {
		t.Fatalf("%d groups exported, %d created", len(res.Rows), len(p.groups))
	}
	for _, row := range res.Rows {
		g := p.groups[row[0].(string)]
		got, _ := row[1].(string)
		if got != aws.ToString(g.Description) {
			t.Fatalf("group %v: description %q, want %q", row[0], got, aws.ToString(g.Description))
		}
	}
	res = duckdb.Query(t, fmt.Sprintf(`SELECT DISTINCT username, CAST(user_enabled AS VARCHAR), user_status FROM %s`, table))
	if len(res.Rows) != len(p.enabled) {
		t.Fatalf("%d users exported, %d created", len(res.Rows), len(p.enabled))
	}
	for _, row := range res.Rows {
		name := row[0].(string)
		if want := fmt.Sprint(p.enabled[name]); row[1] != want || !strings.EqualFold(row[2].(string), "FORCE_CHANGE_PASSWORD") {
			t.Fatalf("user %q: enabled %v status %v, want enabled %s and FORCE_CHANGE_PASSWORD", name, row[1], row[2], want)
		}
	}
}

// checkAttributes compares the email and name columns with what each user
// was created with.
func checkAttributes(t *testing.T, table string, p createdPool) {
	t.Helper()
	res := duckdb.Query(t, fmt.Sprintf(`SELECT DISTINCT username, email, coalesce(name, '') FROM %s`, table))
	if len(res.Rows) != len(p.attrs) {
		t.Fatalf("%d users with attributes exported, %d created", len(res.Rows), len(p.attrs))
	}
	for _, row := range res.Rows {
		want := p.attrs[row[0].(string)]
		if row[1] != want[0] || row[2] != want[1] {
			t.Fatalf("user %q: email %q name %q, want %q and %q", row[0], row[1], row[2], want[0], want[1])
		}
	}
}

// checkStrategy proves from the final log line that the export ran the
// strategy asked for, with that strategy's calls.
func checkStrategy(t *testing.T, logs, strategy string) {
	t.Helper()
	for _, line := range strings.Split(logs, "\n") {
		var l struct {
			Msg      string           `json:"msg"`
			Strategy string           `json:"strategy"`
			Calls    map[string]int64 `json:"calls_by_operation"`
		}
		if json.Unmarshal([]byte(line), &l) != nil || l.Msg != "export finished" {
			continue
		}
		want := map[string]string{"per-user": "AdminListGroupsForUser", "by-group": "ListUsersInGroup"}[strategy]
		if l.Strategy != strategy || l.Calls[want] == 0 {
			t.Fatalf("export ran strategy %q with calls %v, want %q with %s calls", l.Strategy, l.Calls, strategy, want)
		}
		return
	}
	t.Fatalf("no 'export finished' log line:\n%s", logs)
}
