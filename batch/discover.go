package batch

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"path"
	"slices"

	"golang.org/x/sync/errgroup"

	"github.com/cognito-export/cognito-export/cognito"
)

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

// Found is what discovery gave: the pools to export (the plan's named ones
// first), the pools left out by --include/--exclude, and the (account,
// region) pairs whose pools could not be listed.
type Found struct {
	Pools   []Pool
	Skipped []IndexEntry
	Failed  []Failure
}

// Label is the pool field of the lines about the whole run: the pool's
// id when there is one, else "*".
func (fd Found) Label() string {
	if len(fd.Pools) == 1 && len(fd.Failed) == 0 {
		return fd.Pools[0].UserPoolID
	}
	return "*"
}

// Failure is an (account, region) or a pool that failed before its export
// began, as the index shows it and with the error that decides the exit.
type Failure struct {
	Entry IndexEntry
	Err   error
}

// discoveryConcurrency bounds the ListUserPools chains in flight: each is
// a call or two under its own (account, region)'s quota, so the bound only
// keeps a large organisation from opening hundreds of connections at once.
const discoveryConcurrency = 8

// Discover lists the pools of every target, each under its (account,
// region)'s limiters, and returns them with the plan's named pools. A
// target that fails (a role that cannot be assumed, ListUserPools denied)
// is reported and the others go on. Outputs that --object-lock-mode
// cannot retain stop it before its first call.
func Discover(ctx context.Context, p *Plan, log *slog.Logger) (Found, error) {
	out := Found{Pools: slices.Clone(p.Pools)}
	if len(p.Targets) == 0 {
		return out, nil
	}
	if err := p.checkObjectLock(ctx); err != nil {
		return out, err
	}
	lists := make([][]cognito.PoolSummary, len(p.Targets))
	errs := make([]error, len(p.Targets))
	var g errgroup.Group
	g.SetLimit(discoveryConcurrency)
	for i, t := range p.Targets {
		g.Go(func() error {
			// A target's failure is its own (errs[i]), so that the
			// others go on: it does not fail the group.
			lists[i], errs[i] = listPools(ctx, t, log)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return Found{}, err
	}
	for i, t := range p.Targets {
		if errs[i] != nil {
			out.Failed = append(out.Failed, Failure{IndexEntry{Account: t.Key.Account, Region: t.Key.Region,
				RoleARN: t.client.RoleARN, Status: StatusFailed, Error: errs[i].Error()}, errs[i]})
			log.Error("pools not found", "account", t.Key.Account, "region", t.Key.Region, "error", errs[i].Error())
			continue
		}
		p.keep(&out, t, lists[i])
	}
	return out, nil
}

// listPools lists one target's pools.
func listPools(ctx context.Context, t Target, log *slog.Logger) ([]cognito.PoolSummary, error) {
	calls := &cognito.Calls{}
	client, err := cognito.NewClient(ctx, t.client, t.Limits, calls)
	var pools []cognito.PoolSummary
	if err == nil {
		pools, err = cognito.ListUserPools(ctx, client)
	}
	if err != nil {
		return nil, fmt.Errorf("find the pools of %s in %s: %w", accountLabel(t.Key.Account), t.Key.Region, err)
	}
	log.Info("pools found", "account", t.Key.Account, "region", t.Key.Region, "pools", len(pools), "calls", calls.Total())
	return pools, nil
}

// keep adds the pools a target found to out, by id: those its patterns
// leave out as skipped, those named under pools: too once (the named
// entry's settings win), those whose output cannot be had as failed.
func (p *Plan) keep(out *Found, t Target, found []cognito.PoolSummary) {
	pools := slices.Clone(found)
	slices.SortFunc(pools, func(a, b cognito.PoolSummary) int { return cmp.Compare(a.ID, b.ID) })
	for _, ps := range pools {
		skip := IndexEntry{Account: t.Key.Account, Region: t.Key.Region, UserPoolID: ps.ID, PoolName: ps.Name,
			RoleARN: t.client.RoleARN, Status: StatusSkipped}
		if g, ok := matchesAny(t.Exclude, ps.ID, ps.Name); ok {
			skip.Error = fmt.Sprintf("excluded by %q", g)
			out.Skipped = append(out.Skipped, skip)
			continue
		}
		if _, ok := matchesAny(t.Include, ps.ID, ps.Name); !ok && len(t.Include) > 0 {
			skip.Error = "matches no --include pattern"
			out.Skipped = append(out.Skipped, skip)
			continue
		}
		if slices.ContainsFunc(out.Pools, func(pp Pool) bool { return pp.Key == t.Key && pp.UserPoolID == ps.ID }) {
			continue // named under pools: too; its own entry's settings win
		}
		cfg := t.config
		cfg.UserPoolID = ps.ID
		cfg, err := p.expand(cfg)
		pp := Pool{Config: cfg, Key: t.Key, Name: ps.Name}
		if err == nil {
			err = p.claimOutputs(pp)
		}
		if err != nil {
			skip.Status, skip.Error = StatusFailed, err.Error()
			out.Failed = append(out.Failed, Failure{skip, fmt.Errorf("pool %s: %w", ps.ID, err)})
			continue
		}
		pp.Limits = t.Limits
		out.Pools = append(out.Pools, pp)
	}
}

// accountLabel names an account in messages; "" is the run's own.
func accountLabel(account string) string {
	if account == "" {
		return "the run's own account"
	}
	return "account " + account
}
