package cognito_test

import (
	"context"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/cognito-export/cognito-export/cognito"
	"github.com/cognito-export/cognito-export/fault"
	"github.com/cognito-export/cognito-export/internal/cognitoemu"
)

// wideUser finds a user with more than 60 groups, so that pages split.
func wideUser(t *testing.T, pool *cognitoemu.Pool) (string, []string) {
	t.Helper()
	for i := range pool.NumUsers() {
		idx := pool.UserGroups(i, nil)
		if len(idx) > 60 {
			names := make([]string, len(idx))
			for k, g := range idx {
				names[k] = pool.Groups()[g].Name
			}
			return pool.User(i).Username, names
		}
	}
	t.Fatal("pool has no user in more than 60 groups")
	return "", nil
}

func TestGroupsPaginatorMatchesBotocoreSemantics(t *testing.T) {
	env := startEmulator(t, cognitoemu.PoolSpec{Users: 3000, Groups: 150, Seed: 7}, cognitoemu.Options{})
	user, want := wideUser(t, env.pool)
	ctx := context.Background()

	for _, pageSize := range []int32{0, 1, 7, 60} {
		for _, maxItems := range []int{0, 1, 6, 7, 8, 59, 60, 61, 100, len(want), len(want) + 5} {
			// Follow resume tokens until the end: the chain must yield every
			// group once, in order, with no call returning more than MaxItems.
			var got []string
			token := ""
			for hops := 0; ; hops++ {
				if hops > len(want)+2 {
					t.Fatalf("page %d max %d: resume chain does not end", pageSize, maxItems)
				}
				p, err := cognito.NewGroupsPaginator(env.client, env.pool.ID(), user, cognito.PaginationConfig{
					PageSize: pageSize, MaxItems: maxItems, StartingToken: token,
				})
				if err != nil {
					t.Fatal(err)
				}
				n := 0
				for groups, err := range p.Pages(ctx) {
					if err != nil {
						t.Fatalf("page %d max %d: %v", pageSize, maxItems, err)
					}
					if pageSize > 0 && len(groups) > int(pageSize) {
						t.Fatalf("page of %d groups with PageSize %d", len(groups), pageSize)
					}
					for _, g := range groups {
						got = append(got, aws.ToString(g.GroupName))
					}
					n += len(groups)
				}
				if maxItems > 0 && n > maxItems {
					t.Fatalf("page %d max %d: one run returned %d items", pageSize, maxItems, n)
				}
				token = p.ResumeToken()
				if token == "" {
					break
				}
				if maxItems == 0 || n != maxItems {
					t.Fatalf("page %d max %d: resume token after %d items", pageSize, maxItems, n)
				}
			}
			if !slices.Equal(got, want) {
				t.Fatalf("page %d max %d: got %d groups, want %d (or order differs)", pageSize, maxItems, len(got), len(want))
			}
		}
	}
}

func TestGroupsPaginatorTruncatesMidPageAndResumesThere(t *testing.T) {
	env := startEmulator(t, cognitoemu.PoolSpec{Users: 3000, Groups: 150, Seed: 7}, cognitoemu.Options{})
	user, want := wideUser(t, env.pool)
	ctx := context.Background()

	collect := func(cfg cognito.PaginationConfig) ([]string, string) {
		t.Helper()
		p, err := cognito.NewGroupsPaginator(env.client, env.pool.ID(), user, cfg)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for groups, err := range p.Pages(ctx) {
			if err != nil {
				t.Fatal(err)
			}
			for _, g := range groups {
				names = append(names, aws.ToString(g.GroupName))
			}
		}
		return names, p.ResumeToken()
	}
	// 3 items into the first page of 10: the token is the first page's
	// (null) service token with boto_truncate_amount 3.
	first, tok := collect(cognito.PaginationConfig{PageSize: 10, MaxItems: 3})
	if !slices.Equal(first, want[:3]) || tok != "eyJOZXh0VG9rZW4iOiBudWxsLCAiYm90b190cnVuY2F0ZV9hbW91bnQiOiAzfQ==" {
		t.Fatalf("first cut: %v, token %s", first, tok)
	}
	// Resume inside the same page twice, then across pages.
	second, tok := collect(cognito.PaginationConfig{PageSize: 10, MaxItems: 4, StartingToken: tok})
	if !slices.Equal(second, want[3:7]) || tok != "eyJOZXh0VG9rZW4iOiBudWxsLCAiYm90b190cnVuY2F0ZV9hbW91bnQiOiA3fQ==" {
		t.Fatalf("second cut: %v, token %s", second, tok)
	}
	third, tok := collect(cognito.PaginationConfig{PageSize: 10, MaxItems: 25, StartingToken: tok})
	if !slices.Equal(third, want[7:32]) || tok == "" {
		t.Fatalf("third cut: %v", third)
	}
	rest, tok := collect(cognito.PaginationConfig{PageSize: 10, StartingToken: tok})
	if !slices.Equal(rest, want[32:]) || tok != "" {
		t.Fatalf("rest: %d groups, token %q", len(rest), tok)
	}
}

func TestGroupsPaginatorRejectsBadInput(t *testing.T) {
	env := startEmulator(t, cognitoemu.PoolSpec{Users: 10, Groups: 3, Seed: 1}, cognitoemu.Options{})
	for name, cfg := range map[string]cognito.PaginationConfig{
		"page size 61":   {PageSize: 61},
		"negative max":   {MaxItems: -1},
		"garbage token":  {StartingToken: "not-a-token"},
		"foreign token":  {StartingToken: "eyJNYXJrZXIiOiAiYSJ9"},
		"negative trunc": {StartingToken: "eyJOZXh0VG9rZW4iOiBudWxsLCAiYm90b190cnVuY2F0ZV9hbW91bnQiOiAtMX0="},
	} {
		if _, err := cognito.NewGroupsPaginator(env.client, env.pool.ID(), "u", cfg); err == nil {
			t.Errorf("%s: want an error", name)
		}
	}
	// A well-formed token whose service token the server rejects.
	bad := "eyJOZXh0VG9rZW4iOiAiYm9ndXMifQ==" // {"NextToken": "bogus"}
	p, err := cognito.NewGroupsPaginator(env.client, env.pool.ID(), env.pool.User(0).Username, cognito.PaginationConfig{StartingToken: bad})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.NextPage(context.Background()); err == nil || fault.KindOf(err) != fault.Usage {
		t.Fatalf("bogus service token: err = %v (kind %v), want InvalidParameterException", err, fault.KindOf(err))
	}
}
