package batch

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/cognito-export/cognito-export/fault"
)

// Every (account, region) pair falls in exactly one shard, the shards
// differ by at most one pair, and the order the pairs come in does not
// matter, so every task of an array job computes the same assignment.
func TestShardAssignmentIsAPartitionWhateverTheOrder(t *testing.T) {
	var keys []QuotaKey
	for a := range 7 {
		for _, r := range []string{"eu-west-1", "us-east-1", "ap-south-1"} {
			keys = append(keys, QuotaKey{fmt.Sprintf("%012d", a), r})
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
		shuffled := append([]QuotaKey(nil), keys...)
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
		spec  string
		count int
		env   []string
		want  Shard
		err   string
	}{
		{"", 0, nil, Shard{}, ""},
		{"2/5", 0, nil, Shard{2, 5}, ""},
		{"5/5", 0, nil, Shard{}, "want I/N with 0 <= I < N"},
		{"x", 0, nil, Shard{}, "want I/N"},
		{"1/4", 3, nil, Shard{}, "disagree"},
		{"", 3, []string{"AWS_BATCH_JOB_ARRAY_INDEX=2"}, Shard{2, 3}, ""},
		{"", 3, []string{"JOB_COMPLETION_INDEX=0"}, Shard{0, 3}, ""},
		{"", 0, []string{"JOB_COMPLETION_INDEX=0"}, Shard{}, "--shard-count"},
		{"", 3, []string{"AWS_BATCH_JOB_ARRAY_INDEX=3"}, Shard{}, "not below --shard-count 3"},
		{"", 3, []string{"AWS_BATCH_JOB_ARRAY_INDEX=-1"}, Shard{}, "want a task index"},
		{"", 3, nil, Shard{}, "without a task index"},
		{"1/2", 0, []string{"AWS_BATCH_JOB_ARRAY_INDEX=0"}, Shard{1, 2}, ""}, // the flag wins
	} {
		got, err := ParseShard(tc.spec, tc.count, envOf(tc.env...))
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) || fault.KindOf(err) != fault.Usage {
				t.Errorf("%q %d %v: error %v, want a usage error with %q", tc.spec, tc.count, tc.env, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%q %d %v: %v, %v; want %v", tc.spec, tc.count, tc.env, got, err, tc.want)
		}
	}
}

func envOf(pairs ...string) func(string) (string, bool) {
	m := map[string]string{}
	for _, p := range pairs {
		k, v, _ := strings.Cut(p, "=")
		m[k] = v
	}
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
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
