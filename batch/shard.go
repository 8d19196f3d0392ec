package batch

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/cognito-export/cognito-export/fault"
)

// Shard is this process's share of a run split over an array job: every
// (account, region) pair belongs to exactly one shard, so two tasks never
// draw on the same quota. Count 0 means the run is not split.
type Shard struct{ Index, Count int }

func (s Shard) String() string {
	if s.Count == 0 {
		return ""
	}
	return fmt.Sprintf("%d/%d", s.Index, s.Count)
}

// arrayIndexVars are where schedulers put a task's index in an array job:
// AWS Batch array jobs, and Kubernetes Indexed Jobs. Neither says how many
// tasks there are, so --shard-count does.
var arrayIndexVars = []string{"AWS_BATCH_JOB_ARRAY_INDEX", "JOB_COMPLETION_INDEX"}

// ParseShard reads --shard I/N (spec), or I from the scheduler's variable
// and N from --shard-count (count). lookupEnv is os.LookupEnv outside
// tests.
func ParseShard(spec string, count int, lookupEnv func(string) (string, bool)) (Shard, error) {
	if spec != "" {
		return parseSpec(spec, count)
	}
	for _, name := range arrayIndexVars {
		v, set := lookupEnv(name)
		if !set || v == "" {
			continue
		}
		i, err := strconv.Atoi(v)
		switch {
		case err != nil || i < 0:
			return Shard{}, fault.Usagef(fmt.Sprintf("%s=%q: want a task index, 0 or more", name, v))
		case count < 1:
			return Shard{}, fault.Usagef(fmt.Sprintf("%s=%s makes this task one of an array job: say how many tasks there are with --shard-count (COGNITO_EXPORT_SHARD_COUNT)", name, v))
		case i >= count:
			return Shard{}, fault.Usagef(fmt.Sprintf("%s=%d is not below --shard-count %d", name, i, count))
		}
		return Shard{i, count}, nil
	}
	if count != 0 {
		return Shard{}, fault.Usagef("--shard-count without a task index: pass --shard I/N, or run as an AWS Batch array job or a Kubernetes Indexed Job")
	}
	return Shard{}, nil
}

// parseSpec reads --shard I/N, which --shard-count, if given, must agree
// with.
func parseSpec(spec string, count int) (Shard, error) {
	i, n, ok := strings.Cut(spec, "/")
	s := Shard{}
	var err1, err2 error
	s.Index, err1 = strconv.Atoi(i)
	s.Count, err2 = strconv.Atoi(n)
	if !ok || err1 != nil || err2 != nil || s.Count < 1 || s.Index < 0 || s.Index >= s.Count {
		return Shard{}, fault.Usagef(fmt.Sprintf("--shard %q: want I/N with 0 <= I < N, e.g. 0/4", spec))
	}
	if count != 0 && count != s.Count {
		return Shard{}, fault.Usagef(fmt.Sprintf("--shard %s and --shard-count %d disagree", spec, count))
	}
	return s, nil
}

// shardOf assigns each (account, region) pair a shard: the pairs in order
// of account then region, dealt round-robin. It depends only on the
// configuration (never on what ListUserPools answers, or in which order),
// so every task of an array job computes the same assignment, and the
// shards differ by at most one pair. A pair that moves to another shard
// when accounts are added loses nothing: outputs do not name the shard, so
// its pools resume wherever they land.
func shardOf(keys []QuotaKey, count int) map[QuotaKey]int {
	sorted := slices.Clone(keys)
	slices.SortFunc(sorted, func(a, b QuotaKey) int {
		return cmp.Or(cmp.Compare(a.Account, b.Account), cmp.Compare(a.Region, b.Region))
	})
	sorted = slices.Compact(sorted)
	out := make(map[QuotaKey]int, len(sorted))
	for i, k := range sorted {
		out[k] = i % count
	}
	return out
}

// keepShard drops the pools and targets of the other shards.
func (p *Plan) keepShard() {
	if p.Shard.Count == 0 {
		return
	}
	var keys []QuotaKey
	for _, pp := range p.Pools {
		keys = append(keys, pp.Key)
	}
	for _, t := range p.Targets {
		keys = append(keys, t.Key)
	}
	of := shardOf(keys, p.Shard.Count)
	mine := func(k QuotaKey) bool { return of[k] == p.Shard.Index }
	p.Pools = slices.DeleteFunc(p.Pools, func(pp Pool) bool { return !mine(pp.Key) })
	p.Targets = slices.DeleteFunc(p.Targets, func(t Target) bool { return !mine(t.Key) })
}
