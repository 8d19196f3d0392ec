package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/cognito-export/cognito-export/export"
	"github.com/cognito-export/cognito-export/internal/cognitoemu"
	"github.com/cognito-export/cognito-export/ratelimit"
	"github.com/cognito-export/cognito-export/report"
)

// The demo's pool and credentials: the emulator checks that requests are
// signed, not by whom, so these are placeholders, never real secrets.
const (
	demoPoolID = "us-east-1_DemoPool1"
	demoRegion = "us-east-1"
)

type poolFlags struct {
	poolID         string
	users, groups  int
	seed           int64
	deletedShare   float64
	faultRate      float64
	removedShare   float64
	quotaScale     float64
	meanMembership float64
	// emailAsUsername makes usernames UUIDs that sign in by email, as most
	// real pools do.
	emailAsUsername bool
	// changedShare serves the pool as it is later: this share of users
	// added and removed, memberships, attributes and role ARNs changed.
	changedShare float64
}

func bindPoolFlags(fs interface {
	StringVar(*string, string, string, string)
	IntVar(*int, string, int, string)
	Int64Var(*int64, string, int64, string)
	Float64Var(*float64, string, float64, string)
	BoolVar(*bool, string, bool, string)
}, p *poolFlags, users int) {
	fs.BoolVar(&p.emailAsUsername, "email-as-username", false, "usernames are generated UUIDs and users sign in by email, as in most real pools")
	fs.IntVar(&p.users, "users", users, "users in the emulated pool")
	fs.IntVar(&p.groups, "groups", 80, "groups in the emulated pool (over 60 puts some users in more than 60 groups)")
	fs.Int64Var(&p.seed, "seed", 1, "seed of the synthetic pool; the same seed gives the same pool")
	fs.Float64Var(&p.meanMembership, "memberships", 1.5, "mean groups per user")
	fs.Float64Var(&p.deletedShare, "deleted-share", 0, "share of users deleted between ListUsers and AdminListGroupsForUser")
	fs.Float64Var(&p.faultRate, "fault-rate", 0, "share of requests answered InternalErrorException")
	fs.Float64Var(&p.removedShare, "removed-share", 0, "share of users deleted before the export (absent everywhere; ListUsers pages come back short)")
	fs.Float64Var(&p.changedShare, "changed-share", 0, "serve the pool as it is a day later: this share of users added and as many removed, ~3% of memberships, some attributes, 2 role ARNs and a group added and deleted (0 = the seed pool as generated)")
	fs.Float64Var(&p.quotaScale, "quota-scale", 0, "enforce Cognito's default per-account quotas times this (1 = the real defaults; 0 = none), answering TooManyRequestsException above them")
}

func (p poolFlags) validate() error {
	if p.users < 0 || p.groups < 0 {
		return usageError{"--users and --groups must not be negative"}
	}
	if p.meanMembership < 0 || p.quotaScale < 0 {
		return usageError{"--memberships and --quota-scale must not be negative"}
	}
	for _, share := range []float64{p.deletedShare, p.faultRate, p.removedShare, p.changedShare} {
		if share < 0 || share > 1 {
			return usageError{"--deleted-share, --removed-share, --changed-share and --fault-rate must be in [0, 1]"}
		}
	}
	return nil
}

func (p poolFlags) server() (*cognitoemu.Server, error) {
	pool := cognitoemu.NewPool(cognitoemu.PoolSpec{
		ID: p.poolID, Users: p.users, Groups: p.groups, Seed: p.seed, MeanGroupsPerUser: p.meanMembership,
		EmailAsUsername: p.emailAsUsername,
	})
	if p.changedShare > 0 {
		var err error
		if pool, err = pool.Mutate(cognitoemu.RandomMutations(pool, p.seed, p.changedShare)); err != nil {
			return nil, fmt.Errorf("change the emulated pool: %w", err)
		}
	}
	opts := cognitoemu.Options{DeletedShare: p.deletedShare, RemovedShare: p.removedShare, FaultRate: p.faultRate, FaultSeed: p.seed}
	if p.quotaScale > 0 {
		// A burst of a few calls, as a token bucket on a real service has:
		// with none, network jitter alone would throttle a client that
		// keeps exactly to the quota.
		opts.CategoryQuotas, opts.QuotaBurst = cognitoemu.DefaultQuotas(p.quotaScale), 5
	}
	return cognitoemu.NewServer(opts, pool), nil
}

// serve runs handler on ln until ctx is done, then shuts it down.
func serve(ctx context.Context, ln net.Listener, handler http.Handler) (wait func() error) {
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	return func() error {
		shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(shutdownCtx); err != nil {
			return err
		}
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	}
}

// listenAndServe builds the handler, then listens on addr and serves it
// until stop. The handler is built first: a pool that cannot be built (or
// takes a while to) leaves no port held open and no client connecting to a
// server that is not there yet.
func listenAndServe(ctx context.Context, addr string, build func() (http.Handler, error)) (net.Addr, func() error, error) {
	h, err := build()
	if err != nil {
		return nil, nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	return ln.Addr(), serve(ctx, ln, h), nil
}

func runEmulate(ctx context.Context, args []string, stdout, _ io.Writer) error {
	fs := newFlagSet("emulate", "emulate [--addr 127.0.0.1:PORT] [--users N] [--groups G] [--seed S]", stdout)
	var p poolFlags
	bindPoolFlags(fs, &p, 10000)
	fs.StringVar(&p.poolID, "user-pool-id", demoPoolID, "id of the emulated pool")
	addr := fs.String("addr", "127.0.0.1:9229", "address to listen on")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := p.validate(); err != nil {
		return err
	}
	ln, stop, err := listenAndServe(ctx, *addr, func() (http.Handler, error) { return p.server() })
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Cognito emulator serving pool %s (%d users, %d groups) at http://%s\n", p.poolID, p.users, p.groups, ln)
	fmt.Fprintf(stdout, "try: AWS_ACCESS_KEY_ID=x AWS_SECRET_ACCESS_KEY=x cognito-export export --region %s --endpoint-url http://%s --user-pool-id %s --output ./out\n", demoRegion, ln, p.poolID)
	<-ctx.Done()
	return stop()
}

func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("demo", "demo [--users N] [--output DIR] [export flags]", stdout)
	var p poolFlags
	bindPoolFlags(fs, &p, 10000)
	var f exportFlags
	bindExportFlags(fs, &f)
	fs.BoolVar(&f.run.report, "report", true, "end with the access review of the export (report.html and report.json beside the manifest), compared with the latest earlier demo export beside it if there is one")
	fs.StringVar(&f.run.diffAgainst, "diff-against", "", "after the export, write what changed since the export at this location (or latest) under diff/ in the output")
	direct := fs.Bool("direct", false, "call the emulator's handler in-process instead of over loopback TCP (benchmarks)")
	var prof profileFlags
	prof.bind(fs)
	// email_verified and name beside email: without email_verified the
	// report cannot evaluate UNVERIFIED_EMAIL_PRIVILEGED.
	for name, value := range map[string]string{"output": "cognito-export-demo", "user-pool-id": demoPoolID, "attributes": "email,email_verified,name"} {
		if err := fs.Set(name, value); err != nil {
			return err
		}
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	p.poolID = f.cfg.UserPoolID
	if err := p.validate(); err != nil {
		return err
	}
	now := time.Now()
	if f.run.runID == "" {
		f.run.runID = export.NewRunID(now)
	}
	cfg, err := f.poolConfig(f.run.runID, now, os.LookupEnv)
	if err != nil {
		return err
	}
	if cfg.Limits, err = f.limits.build(); err != nil {
		return err
	}
	if len(f.limits.rates) == 0 {
		// The emulator on loopback has no quotas; pacing it at Cognito's
		// would make the demo take minutes for nothing.
		cfg.Limits = ratelimit.Unlimited()
	}
	con, err := newConsole(stderr, f.run.logFormat)
	if err != nil {
		return err
	}
	emu, err := p.server()
	if err != nil {
		return err
	}
	cfg.Fresh = true // the demo always starts over
	cfg.Client.Region = demoRegion
	if *direct {
		cfg.Client.EndpointURL = "http://cognito-emulator.invalid"
		cfg.Client.HTTPClient = &http.Client{Transport: emu.Transport()}
	} else {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return fmt.Errorf("start the emulator: %w", err)
		}
		stop := serve(ctx, ln, emu)
		defer stop()
		cfg.Client.EndpointURL = "http://" + ln.Addr().String()
	}
	cfg.Client.Credentials = credentials.NewStaticCredentialsProvider("DEMOACCESSKEY", "demo-secret-not-a-real-key", "")
	fmt.Fprintf(stdout, "demo: exporting emulated pool %s (%d users, %d groups) to %s\n", p.poolID, p.users, p.groups, cfg.Output)
	stopProfile, err := prof.start()
	if err != nil {
		return err
	}
	f.run.parallelPools = 1
	f.run.reportOpts = reportFlags{maxGroups: report.DefaultMaxGroupsPerUser, maxListed: report.DefaultMaxListed, maxRows: report.DefaultMaxFindingRows}
	one := []poolPlan{{Config: cfg, key: quotaKey{region: demoRegion}}}
	err = exportPools(ctx, &plan{run: f.run, limits: map[quotaKey]*ratelimit.Set{{region: demoRegion}: cfg.Limits}, pools: one}, found{pools: one}, con, stdout)
	if perr := stopProfile(); err == nil {
		err = perr
	}
	if err != nil {
		return err
	}
	abs, _ := filepath.Abs(cfg.Output)
	entries, _ := os.ReadDir(cfg.Output)
	fmt.Fprintf(stdout, "demo: files in %s:\n", abs)
	for _, e := range entries {
		fmt.Fprintf(stdout, "  %s\n", e.Name())
	}
	if f.run.report {
		fmt.Fprintf(stdout, "demo: the access review: %s\n", filepath.Join(abs, "report.html"))
	}
	return nil
}
