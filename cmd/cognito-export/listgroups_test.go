package main

import (
	"net/http/httptest"
	"testing"

	"github.com/cognito-export/cognito-export/internal/cognitoemu"
)

// list-groups-for-user paces its calls with --rate like export: a script
// that loops over users must stay within the quota it shares with the rest
// of the account. The emulator enforces a quota of 5 calls/s; unpaced (at
// the default quota of 50/s) the command is throttled, at --rate 4 never.
func TestListGroupsForUserHonoursRate(t *testing.T) {
	t.Parallel() // waits on paced calls and child processes, not the CPU
	quota := cognitoemu.Options{CategoryQuotas: map[string]float64{"UserResourceRead": 5}, QuotaBurst: 2}
	pool := cognitoemu.NewPool(cognitoemu.PoolSpec{Users: 300, Groups: 70, Seed: 11})
	user := -1
	for i := range pool.NumUsers() {
		if len(pool.UserGroups(i, nil)) >= 12 {
			user = i
			break
		}
	}
	if user < 0 {
		t.Fatal("no user with 12 groups")
	}
	run := func(extra ...string) int64 {
		srv := cognitoemu.NewServer(quota, pool)
		hs := httptest.NewServer(srv)
		defer hs.Close()
		args := append([]string{"list-groups-for-user", "--endpoint-url", hs.URL, "--user-pool-id", pool.ID(),
			"--username", pool.User(user).Username, "--page-size", "1", "--max-items", "12"}, extra...)
		r := runCLI(t, cleanEnv(creds()...), args...)
		if r.code != 0 {
			t.Fatalf("%v: exit %d: %s", extra, r.code, r.stderr)
		}
		if n := srv.Calls("AdminListGroupsForUser"); n < 12 {
			t.Fatalf("%v: %d calls for 12 groups a page", extra, n)
		}
		return srv.Throttled("AdminListGroupsForUser")
	}
	if n := run(); n == 0 {
		t.Fatal("unpaced at the default quota, the emulator's 5/s was never exceeded: the test proves nothing")
	}
	if n := run("--rate", "UserResourceRead=4"); n != 0 {
		t.Fatalf("at --rate UserResourceRead=4 the emulator throttled %d calls", n)
	}
}
