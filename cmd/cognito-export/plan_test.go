package main

import (
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/cognito-export/cognito-export/batch"
)

// What discovery needs is checked before any call, by name.
func TestDiscoverySettingsAreCheckedFirst(t *testing.T) {
	role := orgRoleARN(orgAccounts[0])
	for _, tc := range []struct {
		name, yaml string
		args       []string
		env        []string
		want       string
	}{
		{"pool id in an account", "output: /o/{pool}\naccounts:\n  - {role-arn: " + role + ", user-pool-id: x}\n", nil, nil, "an account's pools are found by ListUserPools"},
		{"regions in a pool", "output: /o/{pool}\npools:\n  - {user-pool-id: eu-west-1_A, regions: [eu-west-1]}\n", nil, nil, "belongs to discovery"},
		{"shard in an account", "output: /o/{pool}\naccounts:\n  - {role-arn: " + role + ", shard: 0/2}\n", nil, nil, "applies to the whole run"},
		{"no {pool}", "output: /o/x\naccounts:\n  - {role-arn: " + role + ", regions: [eu-west-1]}\n", nil, nil, "put {pool} in output"},
		{"bad glob", "output: /o/{pool}\nexclude: ['[a-']\naccounts:\n  - {role-arn: " + role + ", regions: [eu-west-1]}\n", nil, nil, `pattern "[a-"`},
		{"account twice", "output: /o/{account}/{pool}\naccounts:\n  - {role-arn: " + role + ", regions: [eu-west-1]}\n  - {role-arn: " + role + ", regions: [eu-west-1, us-east-1]}\n", nil, nil, "list each account and region once"},
		{"no region", "output: /o/{pool}\naccounts:\n  - {role-arn: " + role + "}\n", nil, nil, "no region to look for pools in"},
		{"{account} without a role", "", []string{"--all-pools", "--regions", "eu-west-1", "--output", "/o/{account}/{pool}"}, nil, "{account} is unknown"},
		{"include without discovery", "", []string{"--user-pool-id", "p", "--output", "/o", "--include", "a*"}, nil, "add --all-pools"},
		{"pool and all-pools", "", []string{"--all-pools", "--user-pool-id", "p", "--output", "/o/{pool}"}, nil, "name one pool, or find them all"},
		{"index per pool", "", []string{"--all-pools", "--regions", "eu-west-1", "--output", "/o/{pool}", "--index", "/i/{pool}"}, nil, "one index covers every pool"},
		{"no common place", "output: \"s3://a/{pool}/\"\npools:\n  - {user-pool-id: eu-west-1_A, region: eu-west-1}\n  - {user-pool-id: eu-west-1_B, region: eu-west-1, output: \"s3://b/{pool}/\"}\n", nil, nil, "pass --index"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := tc.args
			if tc.yaml != "" {
				args = append(args, "--config", writeConfig(t, tc.yaml))
			}
			_, err := parseExport(args, envOf(tc.env...), io.Discard)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}

// Named pools and accounts together: each account's pairs are targets
// under their own limiters, a named pool of the same pair shares them, and
// the shard keeps only its pairs.
func TestPlanOfAccountsAndPools(t *testing.T) {
	a, b := orgRoleARN(orgAccounts[0]), orgRoleARN(orgAccounts[1])
	file := writeConfig(t, fmt.Sprintf(`
output: /o/account={account}/region={region}/pool={pool}/
pools:
  - {user-pool-id: eu-west-1_Named, region: eu-west-1, role-arn: %q}
accounts:
  - {role-arn: %q, regions: [eu-west-1, us-east-1]}
  - {role-arn: %q, regions: [us-east-1], include: ["prod-*"]}
`, a, a, b))
	p, err := parseExport([]string{"--config", file}, envOf(), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Targets) != 3 || len(p.Pools) != 1 || len(p.Limits) != 3 {
		t.Fatalf("%d targets, %d pools, %d limiter sets", len(p.Targets), len(p.Pools), len(p.Limits))
	}
	if p.Pools[0].Limits != p.Targets[0].Limits || p.Targets[0].Key != (batch.QuotaKey{Account: orgAccounts[0], Region: "eu-west-1"}) {
		t.Fatalf("the named pool does not share its pair's limiters: %+v", p.Targets[0].Key)
	}
	if p.Index.Location.String() != "/o" || p.Index.Name != "index.json" {
		t.Fatalf("index %+v", p.Index)
	}
	if got := p.Targets[2].Include; len(got) != 1 || got[0] != "prod-*" {
		t.Fatalf("include %v", got)
	}
	p, err = parseExport([]string{"--config", file, "--shard", "1/2"}, envOf(), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	// Pairs in order: (0…, eu-west-1) 0, (0…, us-east-1) 1, (03…, us-east-1) 0.
	if len(p.Targets) != 1 || p.Targets[0].Key != (batch.QuotaKey{Account: orgAccounts[0], Region: "us-east-1"}) || len(p.Pools) != 0 || p.Index.Name != "index-shard-1-of-2.json" {
		t.Fatalf("shard 1/2: %d targets %+v, %d pools, index %+v", len(p.Targets), p.Targets, len(p.Pools), p.Index)
	}
}
