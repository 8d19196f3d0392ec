package cognito_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/cognito-export/cognito-export/cognito"
	"github.com/cognito-export/cognito-export/internal/cognitoemu"
)

// CLIPages prints what the AWS CLI prints: the groups up to MaxItems in
// the CLI's shape, and a token that resumes after them; a call that fails
// says which operation and what to check.
func TestCLIPages(t *testing.T) {
	env := startEmulator(t, cognitoemu.PoolSpec{Users: 3000, Groups: 150, Seed: 7}, cognitoemu.Options{})
	user, want := wideUser(t, env.pool)
	ctx := context.Background()
	pages := func(pool string, cfg cognito.PaginationConfig) (cognito.CLIResult, error) {
		t.Helper()
		p, err := cognito.NewGroupsPaginator(env.client, pool, user, cfg)
		if err != nil {
			t.Fatal(err)
		}
		return cognito.CLIPages(ctx, p)
	}
	names := func(r cognito.CLIResult) []string {
		var out []string
		for _, g := range r.Groups {
			if g.UserPoolId != env.pool.ID() || g.CreationDate == "" || !strings.HasSuffix(g.CreationDate, "+00:00") {
				t.Errorf("group %+v is not in the CLI's shape", g)
			}
			out = append(out, g.GroupName)
		}
		return out
	}
	first, err := pages(env.pool.ID(), cognito.PaginationConfig{PageSize: 10, MaxItems: 13})
	if err != nil || !slices.Equal(names(first), want[:13]) || first.NextToken == "" {
		t.Fatalf("first 13: %v, token %q (%v)", names(first), first.NextToken, err)
	}
	rest, err := pages(env.pool.ID(), cognito.PaginationConfig{PageSize: 60, StartingToken: first.NextToken})
	if err != nil || !slices.Equal(names(rest), want[13:]) || rest.NextToken != "" {
		t.Fatalf("the rest: %d groups, token %q (%v)", len(rest.Groups), rest.NextToken, err)
	}
	_, err = pages("us-east-1_Nowhere", cognito.PaginationConfig{})
	if err == nil || !strings.HasPrefix(err.Error(), "AdminListGroupsForUser: ") || !strings.Contains(err.Error(), "check --user-pool-id") {
		t.Fatalf("error %v", err)
	}
}
