package main

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// shard is this process's share of a run split over an array job: every
// (account, region) pair belongs to exactly one shard, so two tasks never
// draw on the same quota. count 0 means the run is not split.
type shard struct{ index, count int }

func (s shard) String() string {
	if s.count == 0 {
		return ""
	}
	return fmt.Sprintf("%d/%d", s.index, s.count)
}

// arrayIndexVars are where schedulers put a task's index in an array job:
// AWS Batch array jobs, and Kubernetes Indexed Jobs. Neither says how many
// tasks there are, so --shard-count does.
var arrayIndexVars = []string{"AWS_BATCH_JOB_ARRAY_INDEX", "JOB_COMPLETION_INDEX"}

// parseShard reads --shard I/N, or I from the scheduler's variable and N
// from --shard-count.
func parseShard(run runOptions, lookupEnv func(string) (string, bool)) (shard, error) {
	if run.shard != "" {
		i, n, ok := strings.Cut(run.shard, "/")
		s := shard{}
		var err1, err2 error
		s.index, err1 = strconv.Atoi(i)
		s.count, err2 = strconv.Atoi(n)
		if !ok || err1 != nil || err2 != nil || s.count < 1 || s.index < 0 || s.index >= s.count {
			return shard{}, usageError{fmt.Sprintf("--shard %q: want I/N with 0 <= I < N, e.g. 0/4", run.shard)}
		}
		if run.shardCount != 0 && run.shardCount != s.count {
			return shard{}, usageError{fmt.Sprintf("--shard %s and --shard-count %d disagree", run.shard, run.shardCount)}
		}
		return s, nil
	}
	for _, name := range arrayIndexVars {
		v, set := lookupEnv(name)
		if !set || v == "" {
			continue
		}
		i, err := strconv.Atoi(v)
		switch {
		case err != nil || i < 0:
			return shard{}, usageError{fmt.Sprintf("%s=%q: want a task index, 0 or more", name, v)}
		case run.shardCount < 1:
			return shard{}, usageError{fmt.Sprintf("%s=%s makes this task one of an array job: say how many tasks there are with --shard-count (COGNITO_EXPORT_SHARD_COUNT)", name, v)}
		case i >= run.shardCount:
			return shard{}, usageError{fmt.Sprintf("%s=%d is not below --shard-count %d", name, i, run.shardCount)}
		}
		return shard{i, run.shardCount}, nil
	}
	if run.shardCount != 0 {
		return shard{}, usageError{"--shard-count without a task index: pass --shard I/N, or run as an AWS Batch array job or a Kubernetes Indexed Job"}
	}
	return shard{}, nil
}

// shardOf assigns each (account, region) pair a shard: the pairs in order
// of account then region, dealt round-robin. It depends only on the
// configuration (never on what ListUserPools answers, or in which order),
// so every task of an array job computes the same assignment, and the
// shards differ by at most one pair. A pair that moves to another shard
// when accounts are added loses nothing: outputs do not name the shard, so
// its pools resume wherever they land.
func shardOf(keys []quotaKey, count int) map[quotaKey]int {
	sorted := slices.Clone(keys)
	slices.SortFunc(sorted, func(a, b quotaKey) int {
		return cmp.Or(cmp.Compare(a.account, b.account), cmp.Compare(a.region, b.region))
	})
	sorted = slices.Compact(sorted)
	out := make(map[quotaKey]int, len(sorted))
	for i, k := range sorted {
		out[k] = i % count
	}
	return out
}

// keepShard drops the pools and targets of the other shards.
func (p *plan) keepShard() {
	if p.shard.count == 0 {
		return
	}
	var keys []quotaKey
	for _, pp := range p.pools {
		keys = append(keys, pp.key)
	}
	for _, t := range p.targets {
		keys = append(keys, t.key)
	}
	of := shardOf(keys, p.shard.count)
	mine := func(k quotaKey) bool { return of[k] == p.shard.index }
	p.pools = slices.DeleteFunc(p.pools, func(pp poolPlan) bool { return !mine(pp.key) })
	p.targets = slices.DeleteFunc(p.targets, func(t target) bool { return !mine(t.key) })
}
