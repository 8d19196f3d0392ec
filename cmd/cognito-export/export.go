package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/cognito-export/cognito-export/batch"
	"github.com/cognito-export/cognito-export/cognito"
	"github.com/cognito-export/cognito-export/configfile"
	"github.com/cognito-export/cognito-export/export"
	"github.com/cognito-export/cognito-export/metrics"
	"github.com/cognito-export/cognito-export/progress"
)

// exportFlags binds the flags of export (and demo) to a Config.
type exportFlags struct {
	cfg      export.Config
	pageSize int
	who      identityFlags
	signing  signingFlag
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
	pushGateway      string
	metricsFormat    string
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
	bindRetention(fs, &f.cfg.S3.Retention)
	fs.Int64Var(&f.cfg.S3.PartSize, "s3-chunk-size", 0, "bytes of each S3 multipart chunk, the memory a part upload holds (default 16 MiB; S3's least is 5 MiB)")
	fs.StringVar(&f.cfg.Checkpoint, "checkpoint", "", "resume state file or s3:// object (default: _checkpoint.json under --output)")
	fs.DurationVar(&f.cfg.CheckpointInterval, "checkpoint-interval", export.DefaultCheckpointInterval, "take a checkpoint at least this often, closing the current part early")
	fs.DurationVar(&f.cfg.StopTimeout, "stop-timeout", export.DefaultStopTimeout, "time allowed for the final checkpoint after SIGINT/SIGTERM")
	bindLease(fs, &f.cfg.LeaseOff, &f.cfg.LeaseTTL)
	fs.StringVar(&f.run.runID, "run-id", "", "value of {run_id} in --output (default: a new id per run; pass the old one to resume such a run)")
	fs.IntVar(&f.cfg.Concurrency, "concurrency", export.DefaultConcurrency, "users whose groups are fetched at once")
	fs.IntVar(&f.pageSize, "page-size", cognito.MaxPageSize, "Limit of each ListUsers and AdminListGroupsForUser request (1..60)")
	fs.Int64Var(&f.cfg.PartRows, "part-rows", 0, "start a new part after this many rows (0: no row limit)")
	fs.Int64Var(&f.cfg.PartBytes, "part-size", export.DefaultPartBytes, "start a new part once a part reaches this many bytes")
	fs.BoolVar(&f.cfg.UsersWithoutGroups, "users-without-groups", true, "emit one row with empty group columns for a user without groups")
	f.who.bind(fs, &f.cfg)
	f.signing.bind(fs, "the export (and its --diff-against diff)")
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
	fs.StringVar(&f.run.pushGateway, "push-gateway", "", "push each pool's metrics to this Prometheus Pushgateway (http://host:9091) every --progress-interval and at its end, grouped by job, pool, account and region")
	fs.StringVar(&f.run.metricsFormat, "metrics-format", "none", "emf: write one CloudWatch Embedded Metric Format line to stderr as each pool ends and as the run ends (namespace CognitoExport); none: no such line")
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

// listFlag collects a comma-separated or repeated list, as --rate does.
type listFlag = rateFlags

// discoveryFlags say where to look for pools and which to keep.
type discoveryFlags struct {
	regions, include, exclude listFlag
}

// poolConfig turns the parsed flags into one pool's Config, its output and
// checkpoint still templates: the plan expands their placeholders.
func (f *exportFlags) poolConfig(lookupEnv func(string) (string, bool)) (export.Config, error) {
	cfg := f.cfg
	if f.pageSize < 1 || f.pageSize > cognito.MaxPageSize {
		return cfg, usageError{fmt.Sprintf("--page-size %d: Cognito accepts 1..%d", f.pageSize, cognito.MaxPageSize)}
	}
	cfg.PageSize = int32(f.pageSize)
	if err := f.who.apply(&cfg, lookupEnv); err != nil {
		return cfg, err
	}
	signer, err := f.signing.signer(lookupEnv)
	if err != nil {
		return cfg, err
	}
	cfg.Signer = signer
	return cfg, nil
}

// defaultRegion is the region of the SDK's chain in the environment, for
// a pool without its own; "" when it says none.
func defaultRegion(lookupEnv func(string) (string, bool)) string {
	for _, name := range []string{"AWS_REGION", "AWS_DEFAULT_REGION"} {
		if v, ok := lookupEnv(name); ok && v != "" {
			return v
		}
	}
	return ""
}

// invocation is what one command line of export asks for: the plan, and
// how the run goes (the process-wide settings).
type invocation struct {
	*batch.Plan
	run runOptions
}

// parseExport reads the command line, the environment and the config file
// into a plan. lookupEnv is os.LookupEnv outside tests.
func parseExport(args []string, lookupEnv func(string) (string, bool), stdout io.Writer) (*invocation, error) {
	l := exportLayers{args: args, lookupEnv: lookupEnv, stdout: stdout}
	file, err := l.configFile()
	if err != nil {
		return nil, err
	}
	// The settings of the whole run come from the top level: an entry may
	// not set them.
	fs, top, err := l.flags(file.Top)
	if err != nil {
		return nil, err
	}
	s, err := top.runSettings(lookupEnv)
	if err != nil {
		return nil, err
	}
	entries, sources, err := top.choosePools(fs, file, lookupEnv)
	if err != nil {
		return nil, err
	}
	if _, s.Pools, err = l.entries(entries, file.Top, false); err != nil {
		return nil, err
	}
	found, cfgs, err := l.entries(sources, file.Top, true)
	if err != nil {
		return nil, err
	}
	for i, f := range found {
		s.Sources = append(s.Sources, batch.Source{From: sources[i].From, Config: cfgs[i], Regions: f.disc.regions, Include: f.disc.include, Exclude: f.disc.exclude})
	}
	p, err := batch.NewPlan(s)
	if err != nil {
		return nil, err
	}
	return &invocation{Plan: p, run: top.run}, nil
}

// newExportFlags is export's flag set, unparsed.
func newExportFlags(stdout io.Writer) (*flag.FlagSet, *exportFlags) {
	fs := newFlagSet("export", "export --user-pool-id ID --output DIR [flags]  (or --config FILE, or --all-pools)", stdout)
	f := &exportFlags{}
	bindExportFlags(fs, f)
	bindRunFlags(fs, f)
	return fs, f
}

// exportLayers are the sources of one command line of export, folded into
// a fresh set of flags for the run and for each pool entry and account.
type exportLayers struct {
	args      []string
	lookupEnv func(string) (string, bool)
	stdout    io.Writer
}

// flags are the command line and the environment over layers, the first
// that names a flag winning.
func (l exportLayers) flags(layers ...configfile.Layer) (*flag.FlagSet, *exportFlags, error) {
	fs, f := newExportFlags(l.stdout)
	if err := parseFlags(fs, l.args); err != nil {
		return nil, nil, err
	}
	return fs, f, applySources(fs, l.lookupEnv, layers...)
}

// configFile reads the file --config names, which may itself come from the
// environment; no --config is an empty file.
func (l exportLayers) configFile() (*configfile.File, error) {
	fs, f, err := l.flags()
	if err != nil {
		return nil, err
	}
	if f.run.config == "" {
		return &configfile.File{}, nil
	}
	return loadConfigFile(f.run.config, fs)
}

// entries are the flags and the pool config of each entry, over the
// file's top level; named says an error of a config names its entry.
func (l exportLayers) entries(entries []configfile.Layer, top configfile.Layer, named bool) ([]*exportFlags, []export.Config, error) {
	var flags []*exportFlags
	var cfgs []export.Config
	for _, e := range entries {
		_, f, err := l.flags(e, top)
		if err != nil {
			return nil, nil, err
		}
		cfg, err := f.poolConfig(l.lookupEnv)
		switch {
		case err != nil && named:
			return nil, nil, fmt.Errorf("%s: %w", e.From, err)
		case err != nil:
			return nil, nil, err
		}
		flags, cfgs = append(flags, f), append(cfgs, cfg)
	}
	return flags, cfgs, nil
}

// runSettings checks the settings of the whole run and makes the plan's
// settings from them, pools and sources still to come.
func (top *exportFlags) runSettings(lookupEnv func(string) (string, bool)) (batch.Settings, error) {
	newLimits, err := top.limits.maker() // every quota is paced alike
	if err != nil {
		return batch.Settings{}, err
	}
	run := top.run
	switch {
	case run.parallelPools < 1:
		return batch.Settings{}, usageError{fmt.Sprintf("--parallel-pools %d: must be at least 1", run.parallelPools)}
	case run.progressInterval < 0:
		return batch.Settings{}, usageError{"--progress-interval must not be negative"}
	}
	if err := run.reportOpts.check(); err != nil {
		return batch.Settings{}, err
	}
	if run.metricsFormat != "none" && run.metricsFormat != "emf" {
		return batch.Settings{}, usageError{fmt.Sprintf("--metrics-format %q: use emf or none", run.metricsFormat)}
	}
	if run.pushGateway != "" {
		if err := metrics.CheckGateway(run.pushGateway); err != nil {
			return batch.Settings{}, usageError{"--push-gateway: " + err.Error()}
		}
	}
	sh, err := batch.ParseShard(run.shard, run.shardCount, lookupEnv)
	if err != nil {
		return batch.Settings{}, err
	}
	s3 := top.cfg.S3 // for the index: the run's own bucket
	if s3.Region == "" {
		s3.Region = top.cfg.Client.Region
	}
	return batch.Settings{RunID: run.runID, Now: time.Now(), Index: run.index, Shard: sh, Region: defaultRegion(lookupEnv), S3: s3,
		NewLimits: newLimits, LeaseOff: top.cfg.LeaseOff, LeaseTTL: top.cfg.LeaseTTL}, nil
}

// choosePools says where the pools come from (configfile.File.Choose).
func (top *exportFlags) choosePools(fs *flag.FlagSet, file *configfile.File, lookupEnv func(string) (string, bool)) (entries, sources []configfile.Layer, err error) {
	_, envPool := lookupEnv(envName("user-pool-id"))
	onCommandLine := false
	fs.Visit(func(f *flag.Flag) { onCommandLine = onCommandLine || f.Name == "user-pool-id" })
	return file.Choose(configfile.Naming{Pool: envPool || onCommandLine, AllPools: top.run.allPools,
		Choosing: len(top.disc.regions)+len(top.disc.include)+len(top.disc.exclude) > 0})
}

func runExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	inv, err := parseExport(args, os.LookupEnv, stdout)
	if err != nil {
		return err
	}
	if err := inv.Validate(); err != nil {
		return err
	}
	out, err := newConsole(stderr, inv.run.logFormat)
	if err != nil {
		return err
	}
	// The limit is the process's: its lines name every pool of the run,
	// as the run's other lines before the pools start do.
	memory.SetLogger(out.log.With("run_id", inv.RunID, "pool", batch.Found{Pools: inv.Pools}.Label(), "phase", "plan"))
	for i := range inv.Pools {
		inv.Pools[i].Memory = memory
	}
	fs, _ := newExportFlags(io.Discard)
	for _, name := range strayEnv(os.Environ(), fs) {
		out.log.Warn("environment variable names no flag of export; ignored", "variable", name,
			"run_id", inv.RunID, "pool", batch.Found{Pools: inv.Pools}.Label(), "phase", "plan")
	}
	found, err := batch.Discover(ctx, inv.Plan, out.log.With("run_id", inv.RunID, "pool", "*", "phase", "plan"))
	if err != nil {
		return err
	}
	if inv.run.dryRun {
		return batch.DryRun(ctx, inv.Plan, found, out.log, func(cfg export.Config, rep export.DryRunReport) { batch.PrintDryRun(stdout, cfg, rep) })
	}
	return exportRun(ctx, inv.Plan, found, inv.run, out, stdout)
}

// exportRun exports the pools found, with the console's progress display
// and, when asked, the metrics.
func exportRun(ctx context.Context, p *batch.Plan, found batch.Found, run runOptions, con *console, stdout io.Writer) error {
	opts := batch.RunOptions{Parallel: run.parallelPools, DiffAgainst: run.diffAgainst, Logger: con.log, Stdout: stdout,
		BeforeFollowUp: func() { memory.Hold(diffHeap, "follow-up diff's row group and partitions") }}
	if run.report {
		ro := run.reportOpts.options()
		opts.Report = &ro
	}
	// A bar per pool only makes sense when they take turns on the terminal.
	useBar := con.tty && run.parallelPools == 1
	opts.Watch = func(ctx context.Context, pr *batch.PoolRun) func(bool) {
		o := progress.Options{Log: pr.Config.Logger.With("phase", "export"), Interval: run.progressInterval}
		if useBar {
			o.Screen = con
		}
		return progress.Watch(ctx, pr, o)
	}
	alerts, err := newAlerts(p, run, con)
	if err != nil {
		return err
	}
	alerts.Hook(&opts)
	r := batch.NewRun(p, found, opts)
	stopMetrics, err := serveMetrics(ctx, run.metricsAddr, r, p.Limits, con.log.With("run_id", p.RunID, "pool", found.Label()))
	if err != nil {
		return err
	}
	defer stopMetrics()
	started := time.Now()
	err = r.Export(ctx)
	alerts.RunOver(r, time.Since(started))
	return err
}
