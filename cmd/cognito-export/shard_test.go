package main

import (
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
)

// Every (account, region) pair falls in exactly one shard, the shards
// differ by at most one pair, and the order the pairs come in does not
// matter, so every task of an array job computes the same assignment.
func TestShardAssignmentIsAPartitionWhateverTheOrder(t *testing.T) {
	var keys []quotaKey
	for a := range 7 {
		for _, r := range []string{"eu-west-1", "us-east-1", "ap-south-1"} {
			keys = append(keys, quotaKey{fmt.Sprintf("%012d", a), r})
		}
	}
	for _, n := range []int{1, 2, 4, 5, 21, 30} {
		want := shardOf(keys, n)
		sizes := make([]int, n)
		for _, k := range keys {
			sizes[want[k]]++
		}
		lo, hi := len(keys), 0
		for _, s := range sizes {
			lo, hi = min(lo, s), max(hi, s)
		}
		if hi-lo > 1 || len(want) != len(keys) {
			t.Fatalf("%d shards: sizes %v", n, sizes)
		}
		shuffled := append([]quotaKey(nil), keys...)
		rand.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		shuffled = append(shuffled, shuffled[:3]...) // a pair named twice (two pools of it) counts once
		for k, s := range shardOf(shuffled, n) {
			if want[k] != s {
				t.Fatalf("%d shards: %v moved from %d to %d when the order changed", n, k, want[k], s)
			}
		}
	}
}

func TestParseShard(t *testing.T) {
	for _, tc := range []struct {
		run  runOptions
		env  []string
		want shard
		err  string
	}{
		{runOptions{}, nil, shard{}, ""},
		{runOptions{shard: "2/5"}, nil, shard{2, 5}, ""},
		{runOptions{shard: "5/5"}, nil, shard{}, "want I/N with 0 <= I < N"},
		{runOptions{shard: "x"}, nil, shard{}, "want I/N"},
		{runOptions{shard: "1/4", shardCount: 3}, nil, shard{}, "disagree"},
		{runOptions{shardCount: 3}, []string{"AWS_BATCH_JOB_ARRAY_INDEX=2"}, shard{2, 3}, ""},
		{runOptions{shardCount: 3}, []string{"JOB_COMPLETION_INDEX=0"}, shard{0, 3}, ""},
		{runOptions{}, []string{"JOB_COMPLETION_INDEX=0"}, shard{}, "--shard-count"},
		{runOptions{shardCount: 3}, []string{"AWS_BATCH_JOB_ARRAY_INDEX=3"}, shard{}, "not below --shard-count 3"},
		{runOptions{shardCount: 3}, nil, shard{}, "without a task index"},
		{runOptions{shard: "1/2"}, []string{"AWS_BATCH_JOB_ARRAY_INDEX=0"}, shard{1, 2}, ""}, // the flag wins
	} {
		got, err := parseShard(tc.run, envOf(tc.env...))
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%+v %v: error %v, want %q", tc.run, tc.env, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%+v %v: %v, %v; want %v", tc.run, tc.env, got, err, tc.want)
		}
	}
}

func TestIndexGoesWhereTheOutputsMeet(t *testing.T) {
	for _, tc := range []struct {
		templates []string
		want      string
	}{
		{[]string{"s3://audit/cognito/account={account}/region={region}/pool={pool}/dt={date}/"}, "s3://audit/cognito/"},
		{[]string{"/data/x/{pool}", "/data/y/pool={pool}/"}, "/data"},
		{[]string{"/data/a", "/data/b/"}, "/data"},
		{[]string{"out-{pool}"}, "."},
		{[]string{"./a/{pool}", "b/{pool}"}, "."},
		{[]string{"s3://audit-{account}/{pool}/"}, ""},
		{[]string{"/data/{pool}", "data/{pool}"}, ""},
		{[]string{"s3://one/{pool}/", "s3://two/{pool}/"}, ""},
		{[]string{"s3://audit/{pool}/", "/local/{pool}"}, ""},
		{[]string{"s3://audit/c/{region}/{pool}", "s3://audit/c/x/{pool}"}, "s3://audit/c/"},
	} {
		got, ok := meetingPoint(tc.templates)
		if got.String() != tc.want || ok != (tc.want != "") {
			t.Errorf("meetingPoint(%q) = %q, %v; want %q", tc.templates, got, ok, tc.want)
		}
	}
}

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
	if len(p.targets) != 3 || len(p.pools) != 1 || len(p.limits) != 3 {
		t.Fatalf("%d targets, %d pools, %d limiter sets", len(p.targets), len(p.pools), len(p.limits))
	}
	if p.pools[0].Limits != p.targets[0].limits || p.targets[0].key != (quotaKey{orgAccounts[0], "eu-west-1"}) {
		t.Fatalf("the named pool does not share its pair's limiters: %+v", p.targets[0].key)
	}
	if p.index.location.String() != "/o" || p.index.name != "index.json" {
		t.Fatalf("index %+v", p.index)
	}
	if got := p.targets[2].flags.disc.include; len(got) != 1 || got[0] != "prod-*" {
		t.Fatalf("include %v", got)
	}
	p, err = parseExport([]string{"--config", file, "--shard", "1/2"}, envOf(), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	// Pairs in order: (0…, eu-west-1) 0, (0…, us-east-1) 1, (03…, us-east-1) 0.
	if len(p.targets) != 1 || p.targets[0].key != (quotaKey{orgAccounts[0], "us-east-1"}) || len(p.pools) != 0 || p.index.name != "index-shard-1-of-2.json" {
		t.Fatalf("shard 1/2: %d targets %+v, %d pools, index %+v", len(p.targets), p.targets, len(p.pools), p.index)
	}
}
