// Package batch runs what one invocation of export asks for beyond one
// pool's export: it plans the pools (named in the configuration, or found
// by ListUserPools in the (account, region) pairs given), keeps this
// shard's pairs, exports the pools under one limiter set per pair with
// their follow-up diff and report, and writes each pool's summary.json and
// the run's index.json last. The command line builds its Settings; the
// export of one pool is package export's.
package batch

import (
	"fmt"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/cognito-export/cognito-export/cognito"
	"github.com/cognito-export/cognito-export/export"
	"github.com/cognito-export/cognito-export/fault"
	"github.com/cognito-export/cognito-export/ratelimit"
	"github.com/cognito-export/cognito-export/sink/s3dest"
)

// QuotaKey names the (account, region) whose Cognito quotas a pool draws
// on: pools that share one share its limiters, pools in different
// accounts or regions each get their own. The account is "" for the
// credentials' own.
type QuotaKey struct{ Account, Region string }

// Pool is one pool of the plan, with the (account, region) it is in.
type Pool struct {
	export.Config
	Key  QuotaKey
	Name string // the pool's name, when ListUserPools gave it
}

// Source is one place where discovery looks for pools: --all-pools, or an
// accounts: entry of the config file.
type Source struct {
	From string // where it was configured, for messages
	// Config holds the settings of every pool found: its output and
	// checkpoint are templates that must hold {pool}; its client says
	// which role to assume.
	Config                    export.Config
	Regions, Include, Exclude []string
}

// Settings are what the command line, the environment and the config file
// say about a run.
type Settings struct {
	RunID string // "" makes a new one
	Now   time.Time
	// Pools are the pools named, in the order given; their output and
	// checkpoint may hold placeholders ({date}, {run_id}, {pool},
	// {account}, {region}).
	Pools   []export.Config
	Sources []Source
	// Index is where the run's index goes; "" is where the outputs meet,
	// when the run has several pools or a shard.
	Index string
	Shard Shard
	// NewLimits makes the limiter set of one (account, region); nil is
	// Cognito's default quotas.
	NewLimits func() *ratelimit.Set
	// Region is the SDK's default (AWS_REGION), for a pool without one.
	Region string
	// S3 reaches the index's bucket, with the run's own credentials.
	S3 s3dest.Options
	// LeaseOff writes the index without its lease; LeaseTTL is the
	// lease's TTL (0: the default).
	LeaseOff bool
	LeaseTTL time.Duration
}

// Plan is what one invocation of export does: the pools named and the
// (account, region) pairs whose pools are to be found, each under the
// limiters of its pair. Under a shard, only the pairs of this shard.
type Plan struct {
	RunID  string
	Now    time.Time
	Limits map[QuotaKey]*ratelimit.Set
	Pools  []Pool
	// Targets are the (account, region) pairs whose pools ListUserPools
	// finds when the run starts.
	Targets []Target
	Shard   Shard
	Index   Index

	// outputs maps each output and checkpoint location to its pool, so
	// that two pools, found or named, never share one.
	outputs   map[string]string
	region    string
	newLimits func() *ratelimit.Set
	s3        s3dest.Options
	leaseOff  bool
	leaseTTL  time.Duration
}

// Target is one (account, region) whose pools ListUserPools lists when the
// run starts; each pool found is exported with config, its id filled in.
type Target struct {
	Key              QuotaKey
	From             string
	config           export.Config
	Include, Exclude []string
	client           cognito.Config
	Limits           *ratelimit.Set
}

// NewPlan checks the settings as far as they can be before any call and
// makes the plan: every pool's placeholders expanded, no output shared,
// each (account, region) listed once, the index placed, the shard kept.
func NewPlan(s Settings) (*Plan, error) {
	p := &Plan{RunID: s.RunID, Now: s.Now, Limits: map[QuotaKey]*ratelimit.Set{}, Shard: s.Shard,
		outputs: map[string]string{}, region: s.Region, newLimits: s.NewLimits, s3: s.S3, leaseOff: s.LeaseOff, leaseTTL: s.LeaseTTL}
	// The index lists a run's pools, and is rewritten by the next run of
	// the same shard: not an export's evidence, so never under Object
	// Lock, which its bucket may not even have.
	p.s3.Retention = s3dest.Retention{}
	if p.RunID == "" {
		p.RunID = export.NewRunID(p.Now)
	}
	if p.newLimits == nil {
		p.newLimits = func() *ratelimit.Set { return ratelimit.NewSet(nil, 1) }
	}
	var templates []string // every output location, placeholders kept: the index goes where they meet
	for _, cfg := range s.Pools {
		templates = append(templates, cfg.Output)
		if err := p.addPool(cfg); err != nil {
			return nil, err
		}
	}
	for _, src := range s.Sources {
		templates = append(templates, src.Config.Output)
		if err := p.addTargets(src); err != nil {
			return nil, err
		}
	}
	var err error
	if p.Index, err = planIndex(s.Index, templates, len(s.Pools) > 1 || len(s.Sources) > 0, p.Shard, p.RunID, p.Now); err != nil {
		return nil, err
	}
	p.keepShard()
	for i := range p.Pools {
		p.Pools[i].Limits = p.limitsOf(p.Pools[i].Key)
	}
	for i := range p.Targets {
		p.Targets[i].Limits = p.limitsOf(p.Targets[i].Key)
	}
	return p, nil
}

// addPool adds a named pool.
func (p *Plan) addPool(cfg export.Config) error {
	cfg, err := p.expand(cfg)
	if err != nil {
		return err
	}
	pp := Pool{Config: cfg, Key: QuotaKey{export.AccountOf(cfg.Client.RoleARN), p.regionOf(cfg)}}
	if err := p.claimOutputs(pp); err != nil {
		return err
	}
	p.Pools = append(p.Pools, pp)
	return nil
}

// addTargets adds a target per region of one source, checked as far as it
// can be before a pool is known, and refuses a pair another source lists.
func (p *Plan) addTargets(src Source) error {
	for _, g := range append(slices.Clone(src.Include), src.Exclude...) {
		if _, err := path.Match(g, ""); err != nil {
			return fault.Usagef(fmt.Sprintf("%s: pattern %q: %v (a path.Match glob: * ? [a-z])", src.From, g, err))
		}
	}
	cfg := src.Config
	if !strings.Contains(cfg.Output, "{pool}") || (cfg.Checkpoint != "" && !strings.Contains(cfg.Checkpoint, "{pool}")) {
		return fault.Usagef(fmt.Sprintf("%s: output %q: the pools found each need their own output: put {pool} in output (and checkpoint)", src.From, cfg.Output))
	}
	regions := slices.Clone(src.Regions)
	if r := p.regionOf(cfg); len(regions) == 0 && r != "" {
		regions = []string{r}
	}
	if len(regions) == 0 {
		return fault.Usagef(fmt.Sprintf("%s: no region to look for pools in: pass --regions (or --region, AWS_REGION)", src.From))
	}
	for _, region := range slices.Compact(slices.Sorted(slices.Values(regions))) {
		t := Target{From: src.From, config: cfg, Include: src.Include, Exclude: src.Exclude}
		t.config.Client.Region = region
		// A stand-in pool proves the output's placeholders and the role
		// now, before any call.
		probe := t.config
		probe.UserPoolID = region + "_Found"
		probe, err := p.expand(probe)
		if err != nil {
			return fmt.Errorf("%s: %w", src.From, err)
		}
		t.client = probe.Client
		t.Key = QuotaKey{export.AccountOf(probe.Client.RoleARN), region}
		if i := slices.IndexFunc(p.Targets, func(o Target) bool { return o.Key == t.Key }); i >= 0 {
			return fault.Usagef(fmt.Sprintf("%s and %s both list the pools of account %q in %s: list each account and region once",
				p.Targets[i].From, t.From, t.Key.Account, t.Key.Region))
		}
		p.Targets = append(p.Targets, t)
	}
	return nil
}

// expand fills a pool's placeholders with the run's id, the pool, its
// account and region, and names the run's session with its role.
func (p *Plan) expand(cfg export.Config) (export.Config, error) {
	cfg.Client.SessionName = "cognito-export-" + p.RunID
	ph := export.Placeholders{RunID: p.RunID, Pool: cfg.UserPoolID, Now: p.Now,
		Account: export.AccountOf(cfg.Client.RoleARN), Region: p.regionOf(cfg)}
	if cfg.Client.RoleARN != "" && ph.Account == "" {
		return cfg, fault.Usagef(fmt.Sprintf("--role-arn %q: want arn:aws:iam::ACCOUNT:role/NAME", cfg.Client.RoleARN))
	}
	for _, loc := range []*string{&cfg.Output, &cfg.Checkpoint} {
		out, err := export.ExpandPlaceholders(*loc, ph)
		if err != nil {
			return cfg, err
		}
		*loc = out
	}
	return cfg, nil
}

// regionOf is the region a pool's calls go to: its own, or the SDK's
// default; "" when neither says.
func (p *Plan) regionOf(cfg export.Config) string {
	if cfg.Client.Region != "" {
		return cfg.Client.Region
	}
	return p.region
}

// limitsOf is the limiter set of an (account, region), made on first use.
func (p *Plan) limitsOf(key QuotaKey) *ratelimit.Set {
	if p.Limits[key] == nil {
		p.Limits[key] = p.newLimits()
	}
	return p.Limits[key]
}

// claimOutputs records a pool's output and checkpoint, refusing one that
// another pool of the run already writes to.
func (p *Plan) claimOutputs(pp Pool) error {
	for _, loc := range []string{pp.Output, pp.Checkpoint} {
		if loc == "" {
			continue
		}
		if other, dup := p.outputs[loc]; dup {
			return fault.Usagef(fmt.Sprintf("pools %s and %s would share %s: put {pool} in output (and checkpoint)", other, pp.UserPoolID, loc))
		}
		p.outputs[loc] = pp.UserPoolID
	}
	return nil
}

// Validate checks the settings of each pool named, naming the pool when
// the plan has several.
func (p *Plan) Validate() error {
	for _, pp := range p.Pools {
		if err := pp.Validate(); err != nil {
			if len(p.Pools) > 1 {
				return fmt.Errorf("pool %s: %w", pp.UserPoolID, err)
			}
			return err
		}
	}
	return nil
}
