package batch

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cognito-export/cognito-export/export"
	"github.com/cognito-export/cognito-export/fault"
)

var (
	day1 = time.Date(2026, 12, 1, 6, 0, 0, 0, time.UTC)
	day2 = day1.AddDate(0, 0, 1)
)

const (
	accountA = "022222222222"
	accountB = "033333333333"
)

func roleOf(account string) string { return "arn:aws:iam::" + account + ":role/cognito-export-reader" }

func named(id, output string) export.Config { return export.Config{UserPoolID: id, Output: output} }

func withRole(cfg export.Config, account, region string) export.Config {
	cfg.Client.RoleARN, cfg.Client.Region = roleOf(account), region
	return cfg
}

func source(from, account, output string, regions ...string) Source {
	return Source{From: from, Config: withRole(export.Config{Output: output}, account, ""), Regions: regions}
}

func newPlan(t *testing.T, s Settings) *Plan {
	t.Helper()
	if s.RunID == "" {
		s.RunID = "run-1"
	}
	if s.Now.IsZero() {
		s.Now = day1
	}
	p, err := NewPlan(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Named pools get their placeholders filled, their (account, region) from
// their role and region (or the default region), a session named after the
// run, and one limiter set per (account, region), shared by the pools in
// it.
func TestNamedPoolsArePlanned(t *testing.T) {
	a := withRole(named("eu-west-1_A", "/o/account={account}/region={region}/pool={pool}/dt={date}/"), accountA, "eu-west-1")
	a.Checkpoint = "/cp/{run_id}/{pool}.json"
	b := named("us-east-1_B", "/o/local/{region}/{pool}/")
	b.Client.Region = "us-east-1"
	c := named("eu-west-1_C", "/o/local/{region}/{pool}/") // the default region
	d := named("eu-west-1_D", "/o/local/{region}/{pool}/") // the same pair as c
	p := newPlan(t, Settings{Pools: []export.Config{a, b, c, d}, Region: "eu-west-1"})

	want := []struct {
		output, checkpoint string
		key                QuotaKey
	}{
		{"/o/account=" + accountA + "/region=eu-west-1/pool=eu-west-1_A/dt=2026-12-01/", "/cp/run-1/eu-west-1_A.json", QuotaKey{accountA, "eu-west-1"}},
		{"/o/local/us-east-1/us-east-1_B/", "", QuotaKey{"", "us-east-1"}},
		{"/o/local/eu-west-1/eu-west-1_C/", "", QuotaKey{"", "eu-west-1"}},
		{"/o/local/eu-west-1/eu-west-1_D/", "", QuotaKey{"", "eu-west-1"}},
	}
	if len(p.Pools) != len(want) {
		t.Fatalf("%d pools planned, want %d", len(p.Pools), len(want))
	}
	for i, w := range want {
		pp := p.Pools[i]
		if pp.Output != w.output || pp.Checkpoint != w.checkpoint || pp.Key != w.key {
			t.Errorf("pool %s: output %q, checkpoint %q, key %+v; want %q, %q, %+v", pp.UserPoolID, pp.Output, pp.Checkpoint, pp.Key, w.output, w.checkpoint, w.key)
		}
		if pp.Client.SessionName != "cognito-export-run-1" {
			t.Errorf("pool %s: session %q", pp.UserPoolID, pp.Client.SessionName)
		}
		if pp.Limits == nil || pp.Limits != p.Limits[pp.Key] {
			t.Errorf("pool %s does not draw on its pair's limiters", pp.UserPoolID)
		}
	}
	if len(p.Limits) != 3 || p.Pools[2].Limits != p.Pools[3].Limits || p.Pools[1].Limits == p.Pools[2].Limits {
		t.Errorf("%d limiter sets for 3 (account, region) pairs", len(p.Limits))
	}
	// Several pools: the index goes where their outputs meet.
	if p.Index.Location.String() != "/o" || p.Index.Name != IndexName {
		t.Errorf("index at %s", p.Index)
	}
}

func TestARunIDIsMadeWhenNoneIsGiven(t *testing.T) {
	p, err := NewPlan(Settings{Now: day1, Pools: []export.Config{named("p", "/o/{run_id}")}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(p.RunID, "20261201T060000Z-") || p.Pools[0].Output != "/o/"+p.RunID {
		t.Fatalf("run id %q, output %q", p.RunID, p.Pools[0].Output)
	}
}

// Every refusal of a plan is a usage error (exit 2) that says what to
// change.
func TestPlanRefuses(t *testing.T) {
	pools := func(cfgs ...export.Config) []export.Config { return cfgs }
	withCheckpoint := func(cfg export.Config, cp string) export.Config { cfg.Checkpoint = cp; return cfg }
	badGlob := source("accounts[0]", accountA, "/o/{pool}", "eu-west-1")
	badGlob.Include = []string{"[a-"}
	for _, tc := range []struct {
		name string
		s    Settings
		want string
	}{
		{"two pools, one output", Settings{Pools: pools(named("p1", "/o/x"), named("p2", "/o/x"))},
			"pools p1 and p2 would share /o/x: put {pool} in output (and checkpoint)"},
		{"two pools, one checkpoint", Settings{Pools: pools(withCheckpoint(named("p1", "/o/p1"), "/c.json"), withCheckpoint(named("p2", "/o/p2"), "/c.json"))},
			"pools p1 and p2 would share /c.json"},
		{"not a role", Settings{Pools: pools(withRole(named("p1", "/o/{pool}"), "x", "eu-west-1"))},
			`--role-arn "arn:aws:iam::x:role/cognito-export-reader": want arn:aws:iam::ACCOUNT:role/NAME`},
		{"{account} without a role", Settings{Pools: pools(named("p1", "/o/{account}/{pool}"))},
			"{account} is unknown for pool p1"},
		{"{region} without a region", Settings{Pools: pools(named("p1", "/o/{region}/{pool}"))},
			"{region} is unknown for pool p1"},
		{"unknown placeholder", Settings{Pools: pools(named("p1", "/o/{pol}"))}, "unknown placeholder"},
		{"found pools, one output", Settings{Sources: []Source{source("accounts[0]", accountA, "/o/x", "eu-west-1")}},
			`accounts[0]: output "/o/x": the pools found each need their own output`},
		{"found pools, one checkpoint", Settings{Sources: []Source{{From: "--all-pools", Config: export.Config{Output: "/o/{pool}", Checkpoint: "/c.json"}, Regions: []string{"eu-west-1"}}}},
			"put {pool} in output (and checkpoint)"},
		{"a bad glob", Settings{Sources: []Source{badGlob}}, `accounts[0]: pattern "[a-"`},
		{"nowhere to look", Settings{Sources: []Source{source("accounts[0]", accountA, "/o/{pool}")}},
			"accounts[0]: no region to look for pools in"},
		{"a pair listed twice", Settings{Sources: []Source{source("accounts[0]", accountA, "/o/{pool}", "eu-west-1"), source("accounts[1]", accountA, "/o/{pool}", "us-east-1", "eu-west-1")}},
			`accounts[0] and accounts[1] both list the pools of account "` + accountA + `" in eu-west-1`},
		{"an index per pool", Settings{Pools: pools(named("p1", "/o/{pool}"), named("p2", "/o/{pool}")), Index: "/i/{pool}"},
			"one index covers every pool"},
		{"no place for the index", Settings{Pools: pools(named("p1", "s3://a/{pool}/"), named("p2", "s3://b/{pool}/"))},
			"share no directory to put index.json in"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.s.RunID, tc.s.Now = "run-1", day1
			_, err := NewPlan(tc.s)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
			if fault.KindOf(err) != fault.Usage {
				t.Fatalf("%v is not a usage error", err)
			}
		})
	}
}

func TestIndexPlacement(t *testing.T) {
	for _, tc := range []struct {
		name      string
		s         Settings
		want      string // "" for no index
		wantShard string
	}{
		{"one pool: its summary.json says it all", Settings{Pools: []export.Config{named("p1", "/o/{pool}")}}, "", ""},
		{"one pool of a shard", Settings{Pools: []export.Config{named("p1", "/o/{pool}")}, Shard: Shard{0, 1}}, "/o/index-shard-0-of-1.json", "0/1"},
		{"pools that meet", Settings{Pools: []export.Config{named("p1", "/data/x/{pool}"), named("p2", "/data/y/pool={pool}/")}}, "/data/index.json", ""},
		{"given, with its date", Settings{Pools: []export.Config{named("p1", "/o/{pool}"), named("p2", "/o/{pool}")}, Index: "s3://audit/runs/{date}/"},
			"s3://audit/runs/2026-12-01/index.json", ""},
		{"discovery", Settings{Sources: []Source{source("--all-pools", accountA, "s3://audit/c/account={account}/pool={pool}/", "eu-west-1")}},
			"s3://audit/c/index.json", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPlan(t, tc.s)
			got := ""
			if !p.Index.Location.IsZero() {
				got = p.Index.String()
			}
			if got != tc.want || p.Shard.String() != tc.wantShard {
				t.Fatalf("index %q (shard %q), want %q (shard %q)", got, p.Shard, tc.want, tc.wantShard)
			}
		})
	}
}

// Every (account, region) pair, and the named pools in it, fall in exactly
// one shard of an array job, whichever order the accounts are listed in.
func TestEveryPairFallsInExactlyOneShard(t *testing.T) {
	accounts := []string{accountA, accountB, "044444444444"}
	settings := func(reverse bool) Settings {
		s := Settings{Pools: []export.Config{withRole(named("us-east-1_Named", "/o/named/{pool}"), accountB, "us-east-1")}}
		for i, a := range accounts {
			s.Sources = append(s.Sources, source(fmt.Sprintf("accounts[%d]", i), a, "/o/{account}/{region}/{pool}", "eu-west-1", "us-east-1"))
		}
		if reverse {
			slices.Reverse(s.Sources)
		}
		return s
	}
	for _, n := range []int{1, 2, 4, 7} {
		seen := map[QuotaKey]int{} // pair: its shard
		for i := range n {
			for _, reverse := range []bool{false, true} {
				s := settings(reverse)
				s.Shard = Shard{i, n}
				p := newPlan(t, s)
				for _, tg := range p.Targets {
					if was, ok := seen[tg.Key]; ok && was != i {
						t.Fatalf("%d shards: %+v in shards %d and %d", n, tg.Key, was, i)
					}
					seen[tg.Key] = i
				}
				for _, pp := range p.Pools {
					if seen[pp.Key] != i || !slices.ContainsFunc(p.Targets, func(t Target) bool { return t.Key == pp.Key }) {
						t.Fatalf("%d shards: the named pool is in shard %d, its pair is not", n, i)
					}
				}
			}
		}
		if len(seen) != 6 {
			t.Fatalf("%d shards cover %d of 6 pairs", n, len(seen))
		}
	}
}

// TestPlanValidateNamesThePool: a pool's bad setting is the user's to fix,
// named by its pool when there are several.
func TestPlanValidateNamesThePool(t *testing.T) {
	good, bad := named("p1", "/o/{pool}"), named("p2", "/o/{pool}")
	for _, c := range []*export.Config{&good, &bad} {
		c.Concurrency, c.PageSize, c.Format, c.Compression = 1, 60, "csv", "none"
	}
	bad.Concurrency = 0
	if err := newPlan(t, Settings{Pools: []export.Config{good}}).Validate(); err != nil {
		t.Fatal(err)
	}
	err := newPlan(t, Settings{Pools: []export.Config{bad}}).Validate()
	if fault.KindOf(err) != fault.Usage || err.Error() != "--concurrency 0: must be at least 1" {
		t.Fatalf("one pool: %v", err)
	}
	err = newPlan(t, Settings{Pools: []export.Config{good, bad}, Index: "/o"}).Validate()
	if fault.KindOf(err) != fault.Usage || err.Error() != "pool p2: --concurrency 0: must be at least 1" {
		t.Fatalf("two pools: %v", err)
	}
}
