package main

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"path"
	"slices"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/cognito-export/cognito-export/cognito"
	"github.com/cognito-export/cognito-export/export"
	"github.com/cognito-export/cognito-export/ratelimit"
)

// listFlag collects a comma-separated or repeated list.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error {
	for _, one := range strings.Split(v, ",") {
		if one = strings.TrimSpace(one); one != "" {
			*l = append(*l, one)
		}
	}
	return nil
}

// discoveryFlags say where to look for pools and which to keep.
type discoveryFlags struct {
	regions, include, exclude listFlag
}

// target is one (account, region) whose pools ListUserPools lists when the
// run starts; each pool found is exported with flags, its id filled in.
type target struct {
	key    quotaKey
	from   string // where it was configured, for messages
	flags  exportFlags
	client cognito.Config
	limits *ratelimit.Set
}

// targetsOf turns one source of discovery (--all-pools, or an accounts:
// entry) into a target per region, checked as far as it can be before a
// pool is known.
func targetsOf(f *exportFlags, from, runID string, now time.Time, lookupEnv func(string) (string, bool)) ([]target, error) {
	for _, g := range append(slices.Clone(f.disc.include), f.disc.exclude...) {
		if _, err := path.Match(g, ""); err != nil {
			return nil, usageError{fmt.Sprintf("%s: pattern %q: %v (a path.Match glob: * ? [a-z])", from, g, err)}
		}
	}
	if !strings.Contains(f.cfg.Output, "{pool}") || (f.cfg.Checkpoint != "" && !strings.Contains(f.cfg.Checkpoint, "{pool}")) {
		return nil, usageError{fmt.Sprintf("%s: output %q: the pools found each need their own output: put {pool} in output (and checkpoint)", from, f.cfg.Output)}
	}
	regions := slices.Clone([]string(f.disc.regions))
	if len(regions) == 0 {
		if r := poolRegion(f.cfg, lookupEnv); r != "" {
			regions = []string{r}
		}
	}
	if len(regions) == 0 {
		return nil, usageError{fmt.Sprintf("%s: no region to look for pools in: pass --regions (or --region, AWS_REGION)", from)}
	}
	var out []target
	for _, region := range slices.Compact(slices.Sorted(slices.Values(regions))) {
		t := target{from: from, flags: *f}
		t.flags.cfg.Client.Region = region
		// A stand-in pool proves the output's placeholders and the role
		// now, before any call.
		t.flags.cfg.UserPoolID = region + "_Found"
		probe, err := t.flags.poolConfig(runID, now, lookupEnv)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", from, err)
		}
		t.client = probe.Client
		t.key = quotaKey{export.AccountOf(probe.Client.RoleARN), region}
		out = append(out, t)
	}
	return out, nil
}

// matchesAny reports whether the pool's id or name matches one of globs.
func matchesAny(globs []string, id, name string) (string, bool) {
	for _, g := range globs {
		if ok, _ := path.Match(g, id); ok {
			return g, true
		}
		if ok, _ := path.Match(g, name); ok && name != "" {
			return g, true
		}
	}
	return "", false
}

// found is what discovery gave: the pools to export (the plan's named ones
// first), the pools left out by --include/--exclude, and the (account,
// region) pairs whose pools could not be listed.
type found struct {
	pools   []poolPlan
	skipped []indexEntry
	failed  []failure
}

// failure is an (account, region) or a pool that failed before its export
// began, as the index shows it and with the error that decides the exit.
type failure struct {
	entry indexEntry
	err   error
}

// discoveryConcurrency bounds the ListUserPools chains in flight: each is
// a call or two under its own (account, region)'s quota, so the bound only
// keeps a large organisation from opening hundreds of connections at once.
const discoveryConcurrency = 8

// discover lists the pools of every target, each under its (account,
// region)'s limiters, and returns them with the plan's named pools. A
// target that fails (a role that cannot be assumed, ListUserPools denied)
// is reported and the others go on.
func discover(ctx context.Context, p *plan, log *slog.Logger) found {
	out := found{pools: slices.Clone(p.pools)}
	if len(p.targets) == 0 {
		return out
	}
	lists := make([][]cognito.PoolSummary, len(p.targets))
	errs := make([]error, len(p.targets))
	var g errgroup.Group
	g.SetLimit(discoveryConcurrency)
	for i, t := range p.targets {
		g.Go(func() error {
			calls := &cognito.Calls{}
			client, err := cognito.NewClient(ctx, t.client, t.limits, calls)
			if err == nil {
				lists[i], err = cognito.ListUserPools(ctx, client)
			}
			if err != nil {
				errs[i] = fmt.Errorf("find the pools of %s in %s: %w", accountLabel(t.key.account), t.key.region, err)
				return nil
			}
			log.Info("pools found", "account", t.key.account, "region", t.key.region, "pools", len(lists[i]), "calls", calls.Total())
			return nil
		})
	}
	g.Wait()
	for i, t := range p.targets {
		if errs[i] != nil {
			out.failed = append(out.failed, failure{indexEntry{Account: t.key.account, Region: t.key.region,
				RoleARN: t.client.RoleARN, Status: statusFailed, Error: errs[i].Error()}, errs[i]})
			log.Error("pools not found", "account", t.key.account, "region", t.key.region, "error", errs[i].Error())
			continue
		}
		pools := slices.Clone(lists[i])
		slices.SortFunc(pools, func(a, b cognito.PoolSummary) int { return cmp.Compare(a.ID, b.ID) })
		for _, ps := range pools {
			skip := indexEntry{Account: t.key.account, Region: t.key.region, UserPoolID: ps.ID, PoolName: ps.Name,
				RoleARN: t.client.RoleARN, Status: statusSkipped}
			if g, ok := matchesAny(t.flags.disc.exclude, ps.ID, ps.Name); ok {
				skip.Error = fmt.Sprintf("excluded by %q", g)
				out.skipped = append(out.skipped, skip)
				continue
			}
			if _, ok := matchesAny(t.flags.disc.include, ps.ID, ps.Name); !ok && len(t.flags.disc.include) > 0 {
				skip.Error = "matches no --include pattern"
				out.skipped = append(out.skipped, skip)
				continue
			}
			if slices.ContainsFunc(out.pools, func(pp poolPlan) bool { return pp.key == t.key && pp.UserPoolID == ps.ID }) {
				continue // named under pools: too; its own entry's settings win
			}
			f := t.flags
			f.cfg.UserPoolID = ps.ID
			cfg, err := f.poolConfig(p.run.runID, p.now, p.lookupEnv)
			pp := poolPlan{Config: cfg, key: t.key, name: ps.Name}
			if err == nil {
				err = p.claimOutputs(pp)
			}
			if err != nil {
				skip.Status, skip.Error = statusFailed, err.Error()
				out.failed = append(out.failed, failure{skip, fmt.Errorf("pool %s: %w", ps.ID, err)})
				continue
			}
			pp.Limits = t.limits
			out.pools = append(out.pools, pp)
		}
	}
	return out
}

// accountLabel names an account in messages; "" is the run's own.
func accountLabel(account string) string {
	if account == "" {
		return "the run's own account"
	}
	return "account " + account
}
