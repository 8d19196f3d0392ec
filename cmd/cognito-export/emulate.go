package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/cognito-export/cognito-export/batch"
	"github.com/cognito-export/cognito-export/export"
	"github.com/cognito-export/cognito-export/internal/cognitoemu"
	"github.com/cognito-export/cognito-export/ratelimit"
	"github.com/cognito-export/cognito-export/report"
	"github.com/cognito-export/cognito-export/review"
)

// The demo's pool and credentials: the emulator checks that requests are
// signed, not by whom, so these are placeholders, never real secrets.
const (
	demoPoolID = "us-east-1_DemoPool1"
	demoRegion = "us-east-1"
)

// poolFlags describe the emulated pool of demo and emulate.
type poolFlags struct{ cognitoemu.Synthetic }

func bindPoolFlags(fs *flag.FlagSet, p *poolFlags, users int) {
	fs.BoolVar(&p.Pool.EmailAsUsername, "email-as-username", false, "usernames are generated UUIDs and users sign in by email, as in most real pools")
	fs.IntVar(&p.Pool.Users, "users", users, "users in the emulated pool")
	fs.IntVar(&p.Pool.Groups, "groups", 80, "groups in the emulated pool (over 60 puts some users in more than 60 groups)")
	fs.Int64Var(&p.Pool.Seed, "seed", 1, "seed of the synthetic pool; the same seed gives the same pool")
	fs.Float64Var(&p.Pool.MeanGroupsPerUser, "memberships", 1.5, "mean groups per user")
	fs.Float64Var(&p.DeletedShare, "deleted-share", 0, "share of users deleted between ListUsers and AdminListGroupsForUser")
	fs.Float64Var(&p.FaultRate, "fault-rate", 0, "share of requests answered InternalErrorException")
	fs.Float64Var(&p.RemovedShare, "removed-share", 0, "share of users deleted before the export (absent everywhere; ListUsers pages come back short)")
	fs.Float64Var(&p.ChangedShare, "changed-share", 0, "serve the pool as it is a day later: this share of users added and as many removed, ~3% of memberships, some attributes, 2 role ARNs and a group added and deleted (0 = the seed pool as generated)")
	fs.Float64Var(&p.QuotaScale, "quota-scale", 0, "enforce Cognito's default per-account quotas times this (1 = the real defaults; 0 = none), answering TooManyRequestsException above them")
}

func (p poolFlags) validate() error {
	if p.Pool.Users < 0 || p.Pool.Groups < 0 {
		return usageError{"--users and --groups must not be negative"}
	}
	if p.Pool.MeanGroupsPerUser < 0 || p.QuotaScale < 0 {
		return usageError{"--memberships and --quota-scale must not be negative"}
	}
	for _, share := range []float64{p.DeletedShare, p.FaultRate, p.RemovedShare, p.ChangedShare} {
		if share < 0 || share > 1 {
			return usageError{"--deleted-share, --removed-share, --changed-share and --fault-rate must be in [0, 1]"}
		}
	}
	return nil
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
	fs.StringVar(&p.Pool.ID, "user-pool-id", demoPoolID, "id of the emulated pool")
	addr := fs.String("addr", "127.0.0.1:9229", "address to listen on")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := p.validate(); err != nil {
		return err
	}
	memory.Hold(p.HeapBytes(), "emulated pool")
	ln, stop, err := listenAndServe(ctx, *addr, func() (http.Handler, error) { return p.Server() })
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Cognito emulator serving pool %s (%d users, %d groups) at http://%s\n", p.Pool.ID, p.Pool.Users, p.Pool.Groups, ln)
	if memory != nil {
		fmt.Fprintf(stdout, "memory limit: %s\n", memory.Current())
	}
	fmt.Fprintf(stdout, "try: AWS_ACCESS_KEY_ID=x AWS_SECRET_ACCESS_KEY=x cognito-export export --region %s --endpoint-url http://%s --user-pool-id %s --output ./out\n", demoRegion, ln, p.Pool.ID)
	<-ctx.Done()
	return stop()
}

// demoFlags are the flags of demo: the emulated pool's, export's and
// the profiles'.
type demoFlags struct {
	pool   poolFlags
	export exportFlags
	direct bool
	prof   profileFlags
	// The review loop: decide on this day's report, check the previous
	// day's decisions, serve the pool with some of them carried out.
	decide              bool
	decisions, carryOut string
}

func parseDemo(args []string, stdout io.Writer) (*demoFlags, error) {
	fs := newFlagSet("demo", "demo [--users N] [--output DIR] [export flags]", stdout)
	d := &demoFlags{}
	f := &d.export
	bindPoolFlags(fs, &d.pool, 10000)
	bindExportFlags(fs, f)
	fs.BoolVar(&f.run.report, "report", true, "end with the access review of the export (report.html and report.json beside the manifest), compared with the latest earlier demo export beside it if there is one")
	fs.StringVar(&f.run.diffAgainst, "diff-against", "", "after the export, write what changed since the export at this location (or latest) under diff/ in the output")
	fs.BoolVar(&d.direct, "direct", false, "call the emulator's handler in-process instead of over loopback TCP (benchmarks)")
	d.prof.bind(fs)
	fs.BoolVar(&d.decide, "decide", false, "after the report, write decisions.csv beside it as the demo's stand-in for a reviewer: the memberships DISABLED_WITH_GROUPS and PRIVILEGED_NOT_CONFIRMED name revoked (the first 6), the rows of one privileged group left undecided, every other row kept")
	fs.StringVar(&d.decisions, "report-decisions", "", "the previous review's decisions.csv (an earlier demo's --decide): the report checks it, as export --report-decisions does")
	fs.StringVar(&d.carryOut, "carry-out", "", "a decisions.csv of which every other revocation was carried out before this export, as an administrator running part of remediation's script would: the emulated pool serves those memberships removed")
	// email_verified and name beside email: without email_verified the
	// report cannot evaluate UNVERIFIED_EMAIL_PRIVILEGED.
	for name, value := range map[string]string{"output": "cognito-export-demo", "user-pool-id": demoPoolID, "attributes": "email,email_verified,name"} {
		if err := fs.Set(name, value); err != nil {
			return nil, err
		}
	}
	if err := parseFlags(fs, args); err != nil {
		return nil, err
	}
	d.pool.Pool.ID = f.cfg.UserPoolID
	if d.decide && !f.run.report {
		return nil, usageError{"demo: --decide decides on the report: drop --report=false"}
	}
	if err := d.pool.validate(); err != nil {
		return nil, err
	}
	return d, d.carriedOut()
}

// carriedOut removes from the emulated pool the revocations of --carry-out
// that the demo's administrator carried out.
func (d *demoFlags) carriedOut() error {
	if d.carryOut == "" {
		return nil
	}
	ds, err := review.DemoCarriedOut(d.carryOut)
	if err != nil {
		return usageError{err.Error()}
	}
	for _, x := range ds {
		d.pool.CarriedOut = append(d.pool.CarriedOut, cognitoemu.NamedMembership{Username: x.Username, Group: x.Group})
	}
	return nil
}

// decideOn writes the --decide decisions on the report in output.
func (d *demoFlags) decideOn(stdout io.Writer, output string) error {
	if !d.decide {
		return nil
	}
	res, err := review.DemoDecide(output, time.Now().UTC())
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "demo: decided as a reviewer would: %d kept, %d revoked, %d left undecided (group %s): %s\n",
		res.Kept, res.Revoked, res.Undecided, res.UndecidedGroup, res.File)
	return nil
}

func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	d, err := parseDemo(args, stdout)
	if err != nil {
		return err
	}
	f := &d.export
	cfg, err := f.poolConfig(os.LookupEnv)
	if err != nil {
		return err
	}
	newLimits, err := f.limits.maker()
	if err != nil {
		return err
	}
	if len(f.limits.rates) == 0 {
		// The emulator on loopback has no quotas; pacing it at Cognito's
		// would make the demo take minutes for nothing.
		newLimits = ratelimit.Unlimited
	}
	con, err := newConsole(stderr, f.run.logFormat)
	if err != nil {
		return err
	}
	// The demo holds the emulated pool beside the export.
	memory.SetLogger(con.log)
	memory.Hold(d.pool.HeapBytes(), "emulated pool")
	cfg.Memory = memory
	stopEmulator, err := d.emulate(ctx, &cfg)
	if err != nil {
		return err
	}
	defer stopEmulator()
	plan, err := batch.NewPlan(batch.Settings{RunID: f.run.runID, Now: time.Now(), Pools: []export.Config{cfg}, NewLimits: newLimits})
	if err != nil {
		return err
	}
	cfg = plan.Pools[0].Config
	fmt.Fprintf(stdout, "demo: exporting emulated pool %s (%d users, %d groups) to %s\n", d.pool.Pool.ID, d.pool.Pool.Users, d.pool.Pool.Groups, cfg.Output)
	stopProfile, err := d.prof.start()
	if err != nil {
		return err
	}
	f.run.parallelPools = 1
	f.run.reportOpts = reportFlags{maxGroups: report.DefaultMaxGroupsPerUser, maxListed: report.DefaultMaxListed, maxRows: report.DefaultMaxFindingRows,
		decisions: d.decisions}
	err = exportRun(ctx, plan, batch.Found{Pools: plan.Pools}, f.run, con, stdout)
	if perr := stopProfile(); err == nil {
		err = perr
	}
	if err != nil {
		return err
	}
	printDemoFiles(stdout, cfg.Output, f.run.report)
	return d.decideOn(stdout, cfg.Output)
}

// emulate starts the demo's emulator and points cfg at it: over loopback
// TCP, or in-process with --direct. The demo always starts over.
func (d *demoFlags) emulate(ctx context.Context, cfg *export.Config) (stop func(), err error) {
	emu, err := d.pool.Server()
	if err != nil {
		return nil, err
	}
	cfg.Fresh = true
	cfg.Client.Region = demoRegion
	cfg.Client.Credentials = credentials.NewStaticCredentialsProvider("DEMOACCESSKEY", "demo-secret-not-a-real-key", "")
	if d.direct {
		cfg.Client.EndpointURL = "http://cognito-emulator.invalid"
		cfg.Client.HTTPClient = &http.Client{Transport: emu.Transport()}
		return func() {}, nil
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("start the emulator: %w", err)
	}
	wait := serve(ctx, ln, emu)
	cfg.Client.EndpointURL = "http://" + ln.Addr().String()
	return func() { _ = wait() }, nil // the demo's result is the export's, not the emulator's shutdown
}

// printDemoFiles lists what the demo wrote, and where its report is.
func printDemoFiles(stdout io.Writer, output string, report bool) {
	abs, _ := filepath.Abs(output)
	entries, _ := os.ReadDir(output)
	fmt.Fprintf(stdout, "demo: files in %s:\n", abs)
	for _, e := range entries {
		fmt.Fprintf(stdout, "  %s\n", e.Name())
	}
	if report {
		fmt.Fprintf(stdout, "demo: the access review: %s\n", filepath.Join(abs, "report.html"))
	}
}
