package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"github.com/cognito-export/cognito-export/cognito"
	"github.com/cognito-export/cognito-export/export"
	"github.com/cognito-export/cognito-export/ratelimit"
	"github.com/cognito-export/cognito-export/sink/s3dest"
)

// exportFlags binds the flags of export (and demo) to a Config.
type exportFlags struct {
	cfg      export.Config
	pageSize int
	who      identityFlags
	limits   limitFlags
	run      runOptions
	disc     discoveryFlags
}

// runOptions are the settings of the whole process, shared by every pool.
type runOptions struct {
	config           string
	logFormat        string
	runID            string
	metricsAddr      string
	progressInterval time.Duration
	parallelPools    int
	dryRun           bool
	diffAgainst      string
	report           bool
	reportOpts       reportFlags
	allPools         bool
	shard            string // I/N
	shardCount       int
	index            string
}

func bindExportFlags(fs *flag.FlagSet, f *exportFlags) {
	fs.StringVar(&f.cfg.UserPoolID, "user-pool-id", "", "the Cognito user pool to export (required)")
	fs.StringVar(&f.cfg.Output, "output", "", "directory or s3://bucket/prefix/ for the parts and manifest.json (required); may hold {date}, {run_id} and {pool}")
	fs.StringVar(&f.cfg.Strategy, "strategy", export.StrategyAuto, "auto (the cheaper in time, estimated before the start), per-user (AdminListGroupsForUser per user) or by-group (ListUsersInGroup per group, then one ListUsers pass)")
	fs.StringVar(&f.cfg.Format, "format", "parquet", "output format: parquet or csv")
	fs.StringVar(&f.cfg.Compression, "compression", "snappy", "Parquet compression: snappy, zstd, gzip or none")
	fs.StringVar(&f.cfg.S3.SSE, "sse", "", "S3 server-side encryption: AES256 or aws:kms")
	fs.StringVar(&f.cfg.S3.KMSKeyID, "sse-kms-key-id", "", "KMS key for --sse aws:kms")
	fs.Int64Var(&f.cfg.S3.PartSize, "s3-chunk-size", 0, "bytes of each S3 multipart chunk, the memory a part upload holds (default 16 MiB; S3's least is 5 MiB)")
	fs.StringVar(&f.cfg.Checkpoint, "checkpoint", "", "resume state file or s3:// object (default: _checkpoint.json under --output)")
	fs.DurationVar(&f.cfg.CheckpointInterval, "checkpoint-interval", export.DefaultCheckpointInterval, "take a checkpoint at least this often, closing the current part early")
	fs.DurationVar(&f.cfg.StopTimeout, "stop-timeout", export.DefaultStopTimeout, "time allowed for the final checkpoint after SIGINT/SIGTERM")
	fs.StringVar(&f.run.runID, "run-id", "", "value of {run_id} in --output (default: a new id per run; pass the old one to resume such a run)")
	fs.IntVar(&f.cfg.Concurrency, "concurrency", export.DefaultConcurrency, "users whose groups are fetched at once")
	fs.IntVar(&f.pageSize, "page-size", cognito.MaxPageSize, "Limit of each ListUsers and AdminListGroupsForUser request (1..60)")
	fs.Int64Var(&f.cfg.PartRows, "part-rows", 0, "start a new part after this many rows (0: no row limit)")
	fs.Int64Var(&f.cfg.PartBytes, "part-size", export.DefaultPartBytes, "start a new part once a part reaches this many bytes")
	fs.BoolVar(&f.cfg.UsersWithoutGroups, "users-without-groups", true, "emit one row with empty group columns for a user without groups")
	f.who.bind(fs, &f.cfg)
	fs.BoolVar(&f.cfg.Fresh, "fresh", false, "discard the checkpoint or complete export in --output and start over")
	fs.StringVar(&f.cfg.Client.Region, "region", "", "AWS region (default: the SDK's chain, e.g. AWS_REGION)")
	fs.StringVar(&f.cfg.Client.EndpointURL, "endpoint-url", "", "Cognito endpoint (default: the SDK's chain, e.g. AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER)")
	fs.StringVar(&f.cfg.Client.RoleARN, "role-arn", "", "assume this role (arn:aws:iam::ACCOUNT:role/NAME) for the pool's Cognito calls, e.g. a read-only role in another account; the output is written with the caller's own credentials")
	fs.StringVar(&f.cfg.Client.ExternalID, "external-id", "", "external id the role's trust policy asks for")
	fs.IntVar(&f.cfg.Client.MaxAttempts, "max-attempts", 10, "attempts per Cognito call, retries included")
	fs.DurationVar(&f.cfg.Client.CallTimeout, "call-timeout", 30*time.Second, "time limit of one attempt")
	f.limits.bind(fs)
	fs.StringVar(&f.run.logFormat, "log-format", "", "json or text (default: text on a terminal, json otherwise)")
	fs.StringVar(&f.run.metricsAddr, "metrics-addr", "", "serve Prometheus metrics at this address while the job runs, e.g. 127.0.0.1:9090")
	fs.DurationVar(&f.run.progressInterval, "progress-interval", 30*time.Second, "off a terminal, log a progress line this often (0: never)")
}

// bindRunFlags adds what only the export command has: a config file, several
// pools and a dry run.
func bindRunFlags(fs *flag.FlagSet, f *exportFlags) {
	fs.StringVar(&f.run.config, "config", "", "YAML file of settings, keys named like the flags; may list several pools (see configs/example.yaml)")
	fs.IntVar(&f.run.parallelPools, "parallel-pools", 1, "pools of the config file exported at once, under the shared rate limits")
	fs.StringVar(&f.run.diffAgainst, "diff-against", "", "after a complete export, write what changed since the export at this location (or latest: the newest earlier export of the pool beside this one) under diff/ in the output")
	fs.BoolVar(&f.run.report, "report", false, "after a complete export, write the access review beside its manifest (report.html and report.json), compared with --diff-against's export or else the latest earlier export of the pool beside this one")
	f.run.reportOpts.bind(fs, "report-")
	fs.BoolVar(&f.run.dryRun, "dry-run", false, "check credentials, permissions and the output, print the estimated calls and duration, and export nothing")
	fs.BoolVar(&f.run.allPools, "all-pools", false, "export every pool ListUserPools finds in each of --regions (with the run's credentials, or --role-arn's)")
	fs.Var(&f.disc.regions, "regions", "regions whose pools --all-pools (or an accounts: entry) exports, comma-separated (default: the configured region)")
	fs.Var(&f.disc.include, "include", "export only the pools found whose id or name matches one of these globs (path.Match), comma-separated")
	fs.Var(&f.disc.exclude, "exclude", "do not export the pools found whose id or name matches one of these globs (path.Match), comma-separated")
	fs.StringVar(&f.run.shard, "shard", "", "I/N: export only shard I (0..N-1) of the (account, region) pairs, e.g. one task of an array job (default from AWS_BATCH_JOB_ARRAY_INDEX or JOB_COMPLETION_INDEX with --shard-count)")
	fs.IntVar(&f.run.shardCount, "shard-count", 0, "N of an array job whose index comes from AWS_BATCH_JOB_ARRAY_INDEX or JOB_COMPLETION_INDEX")
	fs.StringVar(&f.run.index, "index", "", "directory or s3://bucket/prefix/ for the run's index.json, which lists every pool and its result (default: where the outputs meet; may hold {date} and {run_id})")
}

// poolConfig turns the parsed flags into one pool's Config, placeholders in
// the output expanded with the run's id.
func (f *exportFlags) poolConfig(runID string, now time.Time, lookupEnv func(string) (string, bool)) (export.Config, error) {
	cfg := f.cfg
	if f.pageSize < 1 || f.pageSize > cognito.MaxPageSize {
		return cfg, usageError{fmt.Sprintf("--page-size %d: Cognito accepts 1..%d", f.pageSize, cognito.MaxPageSize)}
	}
	cfg.PageSize = int32(f.pageSize)
	if err := f.who.apply(&cfg, lookupEnv); err != nil {
		return cfg, err
	}
	cfg.Client.SessionName = "cognito-export-" + runID
	ph := export.Placeholders{RunID: runID, Pool: cfg.UserPoolID, Now: now,
		Account: export.AccountOf(cfg.Client.RoleARN), Region: poolRegion(cfg, lookupEnv)}
	if cfg.Client.RoleARN != "" && ph.Account == "" {
		return cfg, usageError{fmt.Sprintf("--role-arn %q: want arn:aws:iam::ACCOUNT:role/NAME", cfg.Client.RoleARN)}
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

// poolRegion is the region a pool's calls go to: its own, or the SDK's
// default from the environment; "" when neither says.
func poolRegion(cfg export.Config, lookupEnv func(string) (string, bool)) string {
	if cfg.Client.Region != "" {
		return cfg.Client.Region
	}
	for _, name := range []string{"AWS_REGION", "AWS_DEFAULT_REGION"} {
		if v, ok := lookupEnv(name); ok && v != "" {
			return v
		}
	}
	return ""
}

// quotaKey names the (account, region) whose Cognito quotas a pool draws
// on: pools that share one share its limiters, pools in different
// accounts or regions each get their own. The account is "" for the
// credentials' own.
type quotaKey struct{ account, region string }

// poolPlan is one pool of the plan, with the (account, region) it is in.
type poolPlan struct {
	export.Config
	key  quotaKey
	name string // the pool's name, when ListUserPools gave it
}

// plan is what one invocation of export does: pools named in the
// configuration and the (account, region) pairs whose pools are to be
// found, each pool under the limiters of its (account, region). Under
// --shard, only the pairs of this shard.
type plan struct {
	run    runOptions
	limits map[quotaKey]*ratelimit.Set
	pools  []poolPlan
	// targets are the (account, region) pairs whose pools ListUserPools
	// finds when the run starts (--all-pools, accounts:).
	targets []target
	shard   shard
	index   indexPlan
	// outputs maps each output and checkpoint location to its pool, so
	// that two pools, found or named, never share one.
	outputs   map[string]string
	now       time.Time
	lookupEnv func(string) (string, bool)
	s3        s3dest.Options // for the index: the run's own bucket
}

// parseExport reads the command line, the environment and the config file
// into a plan. lookupEnv is os.LookupEnv outside tests.
func parseExport(args []string, lookupEnv func(string) (string, bool), stdout io.Writer) (*plan, error) {
	newSet := func() (*flag.FlagSet, *exportFlags, error) {
		fs := newFlagSet("export", "export --user-pool-id ID --output DIR [flags]  (or --config FILE, or --all-pools)", stdout)
		f := &exportFlags{}
		bindExportFlags(fs, f)
		bindRunFlags(fs, f)
		return fs, f, parseFlags(fs, args)
	}
	fs, f, err := newSet()
	if err != nil {
		return nil, err
	}
	if err := applySources(fs, lookupEnv); err != nil { // --config itself may come from the environment
		return nil, err
	}
	var file *fileConfig
	if f.run.config != "" {
		if file, err = loadConfigFile(f.run.config, fs); err != nil {
			return nil, err
		}
	} else {
		file = &fileConfig{}
	}
	// The settings of the whole run come from the top level: an entry may
	// not set them.
	fs, top, err := newSet()
	if err != nil {
		return nil, err
	}
	if err := applySources(fs, lookupEnv, file.top); err != nil {
		return nil, err
	}
	p := &plan{run: top.run, limits: map[quotaKey]*ratelimit.Set{}, outputs: map[string]string{},
		now: time.Now(), lookupEnv: lookupEnv, s3: top.cfg.S3}
	if p.s3.Region == "" {
		p.s3.Region = top.cfg.Client.Region
	}
	if p.run.runID == "" {
		p.run.runID = export.NewRunID(p.now)
	}
	rates := top.limits // every quota is paced alike
	if _, err := rates.build(); err != nil {
		return nil, err
	}
	if p.run.parallelPools < 1 {
		return nil, usageError{fmt.Sprintf("--parallel-pools %d: must be at least 1", p.run.parallelPools)}
	}
	if p.run.progressInterval < 0 {
		return nil, usageError{"--progress-interval must not be negative"}
	}
	if err := p.run.reportOpts.check(); err != nil {
		return nil, err
	}
	if p.shard, err = parseShard(p.run, lookupEnv); err != nil {
		return nil, err
	}
	discovering := p.run.allPools || len(file.accounts) > 0
	_, envPool := lookupEnv(envName("user-pool-id"))
	namedPool := envPool || flagSet(fs, "user-pool-id")
	entries := file.pools
	switch {
	case len(entries) > 0 && namedPool:
		return nil, usageError{fmt.Sprintf("--user-pool-id and the pools of %s: name the pools in one place only", file.path)}
	case p.run.allPools && namedPool:
		return nil, usageError{"--user-pool-id and --all-pools: name one pool, or find them all"}
	case len(entries) == 0 && !discovering:
		entries = []layer{{}}
	}
	if !discovering && len(top.disc.regions)+len(top.disc.include)+len(top.disc.exclude) > 0 {
		return nil, usageError{"--regions, --include and --exclude choose among the pools ListUserPools finds: add --all-pools (or accounts: in the config file)"}
	}
	var templates []string // every output location, placeholders kept: the index goes where they meet
	for _, entry := range entries {
		fs, f, err := newSet()
		if err != nil {
			return nil, err
		}
		if err := applySources(fs, lookupEnv, entry, file.top); err != nil {
			return nil, err
		}
		templates = append(templates, f.cfg.Output)
		cfg, err := f.poolConfig(p.run.runID, p.now, lookupEnv)
		if err != nil {
			return nil, err
		}
		pp := poolPlan{Config: cfg, key: quotaKey{export.AccountOf(cfg.Client.RoleARN), poolRegion(cfg, lookupEnv)}}
		if err := p.claimOutputs(pp); err != nil {
			return nil, err
		}
		p.pools = append(p.pools, pp)
	}
	var sources []layer
	if p.run.allPools {
		sources = append(sources, layer{from: "--all-pools"})
	}
	sources = append(sources, file.accounts...)
	for _, src := range sources {
		fs, f, err := newSet()
		if err != nil {
			return nil, err
		}
		if err := applySources(fs, lookupEnv, src, file.top); err != nil {
			return nil, err
		}
		templates = append(templates, f.cfg.Output)
		ts, err := targetsOf(f, src.from, p.run.runID, p.now, lookupEnv)
		if err != nil {
			return nil, err
		}
		for _, t := range ts {
			if i := slices.IndexFunc(p.targets, func(o target) bool { return o.key == t.key }); i >= 0 {
				return nil, usageError{fmt.Sprintf("%s and %s both list the pools of account %q in %s: list each account and region once", p.targets[i].from, t.from, t.key.account, t.key.region)}
			}
			p.targets = append(p.targets, t)
		}
	}
	if p.index, err = planIndex(top, templates, len(entries) > 1 || discovering, p.shard, p.run.runID, p.now); err != nil {
		return nil, err
	}
	p.keepShard()
	for i := range p.pools {
		if p.pools[i].Limits, err = p.limitsOf(rates, p.pools[i].key); err != nil {
			return nil, err
		}
	}
	for i := range p.targets {
		if p.targets[i].limits, err = p.limitsOf(rates, p.targets[i].key); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// limitsOf is the limiter set of an (account, region), made on first use.
func (p *plan) limitsOf(rates limitFlags, key quotaKey) (*ratelimit.Set, error) {
	if p.limits[key] == nil {
		set, err := rates.build()
		if err != nil {
			return nil, err
		}
		p.limits[key] = set
	}
	return p.limits[key], nil
}

// claimOutputs records a pool's output and checkpoint, refusing one that
// another pool of the run already writes to.
func (p *plan) claimOutputs(pp poolPlan) error {
	for _, loc := range []string{pp.Output, pp.Checkpoint} {
		if loc == "" {
			continue
		}
		if other, dup := p.outputs[loc]; dup {
			return usageError{fmt.Sprintf("pools %s and %s would share %s: put {pool} in output (and checkpoint)", other, pp.UserPoolID, loc)}
		}
		p.outputs[loc] = pp.UserPoolID
	}
	return nil
}

func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

func runExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	p, err := parseExport(args, os.LookupEnv, stdout)
	if err != nil {
		return err
	}
	for i := range p.pools {
		if err := p.pools[i].Config.Validate(); err != nil {
			if len(p.pools) > 1 {
				return fmt.Errorf("pool %s: %w", p.pools[i].UserPoolID, err)
			}
			return err
		}
	}
	out, err := newConsole(stderr, p.run.logFormat)
	if err != nil {
		return err
	}
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	bindExportFlags(fs, &exportFlags{})
	bindRunFlags(fs, &exportFlags{})
	for _, name := range strayEnv(os.Environ(), fs) {
		out.log.Warn("environment variable names no flag of export; ignored", "variable", name,
			"run_id", p.run.runID, "pool", poolsLabel(found{pools: p.pools}), "phase", "plan")
	}
	found := discover(ctx, p, out.log.With("run_id", p.run.runID, "pool", "*", "phase", "plan"))
	if p.run.dryRun {
		return dryRun(ctx, p, found, out, stdout)
	}
	return exportPools(ctx, p, found, out, stdout)
}
