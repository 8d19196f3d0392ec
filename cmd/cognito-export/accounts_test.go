package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cognito-export/cognito-export/internal/cognitoemu"
	"github.com/cognito-export/cognito-export/internal/exportcheck"
)

const (
	auditAccount = "111111111111"
	memberA      = "222222222222"
	memberB      = "333333333333"
	denied       = "444444444444"
)

// Pools of two other accounts in two regions, each exported with a role
// assumed through STS from the audit account's credentials, each under the
// limiters of its own (account, region), written to a path that names
// both; a third pool whose role does not trust the audit account fails
// alone, by name. (Issue 17, items 2 and 3.)
func TestPoolsOfOtherAccountsThroughAssumedRoles(t *testing.T) {
	specA := cognitoemu.PoolSpec{ID: "eu-west-1_MemberA", Users: 900, Groups: 12, Seed: 21}
	specB := cognitoemu.PoolSpec{ID: "us-east-1_MemberB", Users: 700, Groups: 9, Seed: 22}
	org, err := cognitoemu.NewOrg(cognitoemu.OrgSpec{Accounts: []cognitoemu.AccountSpec{
		{ID: auditAccount},
		{ID: memberA, Regions: map[string][]cognitoemu.PoolSpec{"eu-west-1": {specA}},
			Roles: []cognitoemu.RoleSpec{{Name: "cognito-export-reader", TrustedAccounts: []string{auditAccount}, ExternalID: "ext-17"}}},
		{ID: memberB, Regions: map[string][]cognitoemu.PoolSpec{"us-east-1": {specB}},
			Roles: []cognitoemu.RoleSpec{{Name: "cognito-export-reader", TrustedAccounts: []string{auditAccount}}}},
		{ID: denied, Regions: map[string][]cognitoemu.PoolSpec{"eu-west-1": {{ID: "eu-west-1_Denied", Users: 50, Groups: 2, Seed: 23}}},
			Roles: []cognitoemu.RoleSpec{{Name: "cognito-export-reader", TrustedAccounts: []string{memberA}}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(org)
	t.Cleanup(hs.Close)
	dir := t.TempDir()
	role := func(account string) string { return "arn:aws:iam::" + account + ":role/cognito-export-reader" }
	file := writeConfig(t, fmt.Sprintf(`
output: %s/account={account}/region={region}/pool={pool}/dt={date}
format: csv
rate: [UserResourceRead=0, UserList=0, UserPoolRead=0, UserPoolResourceRead=0]
pools:
  - {user-pool-id: eu-west-1_MemberA, region: eu-west-1, role-arn: %q, external-id: ext-17}
  - {user-pool-id: us-east-1_MemberB, region: us-east-1, role-arn: %q}
  - {user-pool-id: eu-west-1_Denied, region: eu-west-1, role-arn: %q}
`, dir, role(memberA), role(memberB), role(denied)))
	id, secret := cognitoemu.AccountKeys(auditAccount)
	env := cleanEnv("AWS_ACCESS_KEY_ID="+id, "AWS_SECRET_ACCESS_KEY="+secret,
		"AWS_ENDPOINT_URL_STS="+hs.URL, "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER="+hs.URL)
	r := runCLI(t, env, "export", "--config", file, "--run-id", "run-17", "--log-format", "json")
	if r.code != 1 || !strings.Contains(lastLine(r.stderr), "1 of 3 pools failed: pool eu-west-1_Denied") ||
		!strings.Contains(lastLine(r.stderr), "assume role "+role(denied)+": AccessDenied") {
		t.Fatalf("exit %d, last line %q", r.code, lastLine(r.stderr))
	}
	for _, p := range []struct {
		account, region, pool string
		spec                  cognitoemu.PoolSpec
	}{{memberA, "eu-west-1", specA.ID, specA}, {memberB, "us-east-1", specB.ID, specB}} {
		srv := org.Server(p.account, p.region)
		pool := cognitoemu.NewPool(p.spec) // the same spec makes the same pool
		out := filepath.Join(dir, "account="+p.account, "region="+p.region, "pool="+p.pool)
		matches, _ := filepath.Glob(filepath.Join(out, "dt=*", "part-*.csv"))
		if len(matches) == 0 {
			t.Fatalf("no parts under %s", out)
		}
		truth := exportcheck.WriteTruth(t, pool, srv, true)
		table := fmt.Sprintf("read_csv(%s, header=true, all_varchar=true, types={'group_precedence':'INTEGER'})", "'"+filepath.Join(out, "dt=*", "part-*.csv")+"'")
		exportcheck.Compare(t, table, truth)
	}
	sessions := org.Sessions()
	if len(sessions) < 2 {
		t.Fatalf("%d sessions issued", len(sessions))
	}
	for _, s := range sessions {
		if !strings.Contains(s.RoleSessionName, "run-17") {
			t.Fatalf("session %q does not carry the run id", s.RoleSessionName)
		}
	}
}

// Cognito's quotas are per account and region: pools that share both share
// one set of limiters, any other pool gets its own.
func TestOneLimiterSetPerAccountAndRegion(t *testing.T) {
	role := func(account string) string { return "arn:aws:iam::" + account + ":role/r" }
	file := writeConfig(t, fmt.Sprintf(`
output: /tmp/x/account={account}/region={region}/pool={pool}
pools:
  - {user-pool-id: eu-west-1_A1, region: eu-west-1, role-arn: %q}
  - {user-pool-id: eu-west-1_A2, region: eu-west-1, role-arn: %q}
  - {user-pool-id: us-east-1_A3, region: us-east-1, role-arn: %q}
  - {user-pool-id: eu-west-1_B1, region: eu-west-1, role-arn: %q}
`, role(memberA), role(memberA), role(memberA), role(memberB)))
	p, err := parseExport([]string{"--config", file}, envOf(), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	l := func(i int) any { return p.Pools[i].Limits }
	if l(0) != l(1) || l(0) == l(2) || l(0) == l(3) || l(2) == l(3) || len(p.Limits) != 3 {
		t.Fatalf("limiter sets: %d for 3 (account, region) pairs; shared as %v %v %v %v", len(p.Limits), l(0), l(1), l(2), l(3))
	}
	if got := p.Pools[3].Output; got != "/tmp/x/account="+memberB+"/region=eu-west-1/pool=eu-west-1_B1" {
		t.Fatalf("output %s", got)
	}
	if p.Pools[0].Client.SessionName != "cognito-export-"+p.RunID {
		t.Fatalf("session name %q", p.Pools[0].Client.SessionName)
	}
	_, err = parseExport([]string{"--user-pool-id", "p", "--output", "/tmp/x/{account}"}, envOf(), io.Discard)
	if err == nil || !strings.Contains(err.Error(), "{account} is unknown") {
		t.Fatalf("{account} without a role: %v", err)
	}
}

// The policies in configs/ for cross-account runs parse and say what the
// code does: the audit account assumes roles, which trust it.
func TestCrossAccountPoliciesParse(t *testing.T) {
	for name, want := range map[string]string{
		"iam-member-role-trust-policy.json": `"sts:AssumeRole"`,
		"iam-audit-account-policy.json":     `"sts:AssumeRole"`,
	} {
		data, err := os.ReadFile(filepath.Join(repoRoot, "configs", name))
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Version   string
			Statement []map[string]any
		}
		if err := json.Unmarshal(data, &doc); err != nil || doc.Version != "2012-10-17" || len(doc.Statement) == 0 || !strings.Contains(string(data), want) {
			t.Fatalf("%s: %v", name, err)
		}
	}
}
