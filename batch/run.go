package batch

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/cognito-export/cognito-export/export"
	"github.com/cognito-export/cognito-export/fault"
	"github.com/cognito-export/cognito-export/lease"
	"github.com/cognito-export/cognito-export/review"
)

// State is where a pool of a run is: waiting, running, complete or failed.
type State int32

const (
	Waiting State = iota
	Running
	Complete
	Failed
)

// States lists every state, in order.
var States = []State{Waiting, Running, Complete, Failed}

func (s State) String() string {
	return [...]string{"waiting", "running", "complete", "failed"}[s]
}

// PoolRun is one pool of a run, as a progress display and the metrics see
// it.
type PoolRun struct {
	Config   export.Config // with the run's logger and Progress
	Key      QuotaKey
	Name     string
	Progress *export.Progress
	env      *export.Env // nil until the pool's output and client are open
	state    atomic.Int32
	// started and finished are Unix nanoseconds, 0 until then: the
	// metrics read them while the pool runs.
	started, finished atomic.Int64
	findings          atomic.Pointer[map[string]int64]
}

// Times are when the pool's export started and when it and its follow-up
// finished; zero until then.
func (pr *PoolRun) Times() (started, finished time.Time) {
	at := func(n int64) time.Time {
		if n == 0 {
			return time.Time{}
		}
		return time.Unix(0, n)
	}
	return at(pr.started.Load()), at(pr.finished.Load())
}

// Findings are the counts of the pool's report by finding id (those
// evaluated), nil when no report was made.
func (pr *PoolRun) Findings() map[string]int64 {
	if p := pr.findings.Load(); p != nil {
		return *p
	}
	return nil
}

// State is where the pool is now.
func (pr *PoolRun) State() State { return State(pr.state.Load()) }

// EstimateUsers asks Cognito how many users the pool has, for an ETA;
// only once the pool runs (a Watch is called then).
func (pr *PoolRun) EstimateUsers(ctx context.Context) error {
	if pr.env == nil {
		return fmt.Errorf("pool %s is not running", pr.Config.UserPoolID)
	}
	return pr.env.EstimateUsers(ctx)
}

// RunOptions say how the pools of a run are exported and what follows.
type RunOptions struct {
	Parallel int // pools exported at once; 0 is 1
	// DiffAgainst, after a complete export, diffs it against this
	// location, or "latest" (the newest earlier export of the pool beside
	// it), under diff/ in its output; "" for no diff.
	DiffAgainst string
	// Report, when set, writes the access review beside a complete
	// export's manifest with these caps and gates; Output and Against are
	// each pool's own.
	Report *review.ReportOptions
	Logger *slog.Logger
	// Stdout receives the one-line results, for people.
	Stdout io.Writer
	// Watch, when set, is called as a pool's export starts, and the
	// function it returns as it ends: a progress display.
	Watch func(ctx context.Context, pr *PoolRun) (finish func(complete bool))
	// BeforeFollowUp, when set, is called before a pool's diff or report,
	// whose live heap is larger than an export's.
	BeforeFollowUp func()
	// Finished, when set, is called once a pool's export and its follow-up
	// are over, its state and findings final (complete or failed), with
	// the pool's error: the last push of its metrics.
	Finished func(ctx context.Context, pr *PoolRun, err error)
}

// Run is one run of export over the pools discovery found.
type Run struct {
	plan  *Plan
	found Found
	opts  RunOptions
	pools []*PoolRun
	log   *slog.Logger
}

// NewRun prepares the pools found for export, each with its own logger
// and progress.
func NewRun(p *Plan, fd Found, opts RunOptions) *Run {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Stdout == nil {
		opts.Stdout = io.Discard
	}
	opts.Parallel = max(opts.Parallel, 1)
	r := &Run{plan: p, found: fd, opts: opts, log: opts.Logger.With("run_id", p.RunID, "pool", fd.Label())}
	for _, pp := range fd.Pools {
		cfg := pp.Config
		cfg.Logger = opts.Logger.With("run_id", p.RunID, "pool", cfg.UserPoolID, "account", pp.Key.Account, "region", pp.Key.Region)
		cfg.Progress = &export.Progress{}
		r.pools = append(r.pools, &PoolRun{Config: cfg, Key: pp.Key, Name: pp.Name, Progress: cfg.Progress})
	}
	return r
}

// Pools are the pools of the run, in the order they are exported.
func (r *Run) Pools() []*PoolRun { return r.pools }

// Export exports every pool, one after another or Parallel at once, each
// under the limiters of its (account, region). A failed pool does not stop
// the others: each has its own output and checkpoint, and a scheduled run
// should get as far as it can. Then the index is written, last. The error
// names every pool, and every (account, region) whose pools could not be
// listed, that failed.
//
// A run with an index leases the index file first (lease.IndexName): a
// second run of the same plan stops before it exports anything.
func (r *Run) Export(ctx context.Context) error {
	if r.plan.Index.Location.IsZero() || r.plan.leaseOff {
		return r.export(ctx, nil)
	}
	l, err := r.leaseIndex(ctx)
	if err != nil {
		return err
	}
	return lease.Hold(ctx, l, func(ctx context.Context) error { return r.export(ctx, l) })
}

// leaseIndex takes the lease of the run's index file.
func (r *Run) leaseIndex(ctx context.Context) (*lease.Lease, error) {
	ix := r.plan.Index
	dir, err := ix.Location.OpenWrite(ctx, r.plan.s3)
	if err != nil {
		return nil, fmt.Errorf("open %s for %s: %w", ix.Location, ix.Name, err)
	}
	st, ok := dir.(lease.Store)
	if !ok {
		return nil, fmt.Errorf("%s cannot hold a lease: pass --lease=off", ix.Location)
	}
	return lease.Acquire(ctx, st, lease.IndexName(ix.Name), lease.Options{TTL: r.plan.leaseTTL, RunID: r.plan.RunID,
		Where: ix.String(), Logger: r.log.With("phase", "plan")})
}

// export is Export under the index's lease, when there is one (l, else nil).
func (r *Run) export(ctx context.Context, l *lease.Lease) error {
	started := time.Now()
	errs := make([]error, len(r.pools))
	began := make([]bool, len(r.pools))
	var g errgroup.Group
	g.SetLimit(r.opts.Parallel)
	for i, pr := range r.pools {
		if ctx.Err() != nil {
			break // interrupted: the pools not started stay as they are
		}
		began[i] = true
		g.Go(func() error {
			// A pool's failure is its own (errs[i]); the group does not
			// cancel the others, and Wait gives the first.
			errs[i] = r.exportPool(ctx, pr)
			pr.finished.Store(time.Now().UnixNano())
			if r.opts.Finished != nil {
				r.opts.Finished(ctx, pr, errs[i])
			}
			return errs[i]
		})
	}
	first := g.Wait()

	var failed []error
	for i, err := range errs {
		if err != nil {
			failed = append(failed, fmt.Errorf("pool %s: %w", r.pools[i].Config.UserPoolID, err))
		}
	}
	// A pool a signal kept from starting is not exported: the run did not
	// succeed, and its exit says it was interrupted.
	if n := len(began) - countTrue(began); n > 0 {
		err := fmt.Errorf("%d of %d pools not started: %w", n, len(began), context.Cause(ctx))
		failed = append(failed, err)
		if first == nil {
			first = err
		}
	}
	for _, f := range r.found.Failed {
		failed = append(failed, f.Err)
	}
	if !r.plan.Index.Location.IsZero() {
		if err := r.writeIndex(ctx, l, started, began, errs); err != nil {
			failed = append(failed, err)
		}
	}
	if len(r.pools) == 1 && len(r.found.Failed) == 0 && r.plan.Targets == nil && r.plan.Index.Location.IsZero() {
		return first // one pool named: its error as it is
	}
	if len(failed) == 0 {
		return nil
	}
	// One line for the operator; the first failure decides the exit code.
	return fmt.Errorf("%s failed: %w", countFailures(errs, r.found), joinLine(failed))
}

// writeIndex writes the index of the run: every pool found, how it ended,
// and what discovery left out or could not list.
func (r *Run) writeIndex(ctx context.Context, l *lease.Lease, started time.Time, began []bool, errs []error) error {
	idx := RunIndex{RunID: r.plan.RunID, Shard: r.plan.Shard.String(), StartedAt: started.UTC()}
	for i, pr := range r.pools {
		idx.Pools = append(idx.Pools, indexEntryOf(ctx, pr, began[i], errs[i]))
	}
	for _, f := range r.found.Failed {
		idx.Pools = append(idx.Pools, f.Entry)
	}
	idx.Pools = append(idx.Pools, r.found.Skipped...)
	sortEntries(idx.Pools)
	if _, ok := fault.InterruptedBy(ctx); ok {
		idx.Status = StatusInterrupted
	}
	idx.FinishedAt = time.Now().UTC()
	if l != nil {
		if err := l.Err(); err != nil {
			return err // another run writes the index now
		}
	}
	if err := writeIndex(ctx, r.plan, idx); err != nil {
		return err
	}
	r.log.With("phase", "finish").Info("index written", "index", r.plan.Index.String(), "pools", len(idx.Pools))
	return nil
}

func countTrue(bs []bool) int {
	n := 0
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}

// countFailures says how many pools, and (account, region) pairs, failed.
func countFailures(errs []error, fd Found) string {
	pools, listed := len(errs), 0
	failedPools := 0
	for _, err := range errs {
		if err != nil {
			failedPools++
		}
	}
	for _, f := range fd.Failed {
		if f.Entry.UserPoolID != "" {
			pools++
			failedPools++
		} else {
			listed++
		}
	}
	msg := fmt.Sprintf("%d of %d pools", failedPools, pools)
	if listed > 0 {
		msg += fmt.Sprintf(" and the listing of %d (account, region)", listed)
	}
	return msg
}

// indexEntryOf is a pool's line in the index. A complete export's counts
// and SHA-256 come from its manifest, as read back now, whether this run
// or an earlier one wrote it.
func indexEntryOf(ctx context.Context, pr *PoolRun, began bool, err error) IndexEntry {
	e := IndexEntry{Account: pr.Key.Account, Region: pr.Key.Region, UserPoolID: pr.Config.UserPoolID, PoolName: pr.Name,
		RoleARN: pr.Config.Client.RoleARN, Output: pr.Config.Output, Status: StatusComplete}
	_, interrupted := fault.InterruptedBy(ctx)
	switch {
	case !began:
		e.Status, e.Error = StatusSkipped, "not started: the run was interrupted"
		return e
	case err != nil && interrupted:
		e.Status, e.Error = StatusInterrupted, err.Error()
		return e
	case err != nil:
		e.Status, e.Error = StatusFailed, err.Error()
		return e
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), indexWriteTimeout)
	defer cancel()
	m, err := pr.env.Manifest(rctx)
	if err != nil {
		e.Status, e.Error = StatusFailed, "the export finished but its manifest cannot be read back: "+err.Error()
		return e
	}
	e.Users, e.Rows, e.ManifestSHA256 = m.Totals.Users, m.Totals.Rows, m.SHA256
	return e
}

func sortEntries(es []IndexEntry) {
	slices.SortStableFunc(es, func(a, b IndexEntry) int {
		return cmp.Or(cmp.Compare(a.Account, b.Account), cmp.Compare(a.Region, b.Region), cmp.Compare(a.UserPoolID, b.UserPoolID))
	})
}

// lineErrors is errors.Join on one line: "a; b".
type lineErrors []error

func joinLine(errs []error) error { return lineErrors(errs) }

func (l lineErrors) Error() string {
	msgs := make([]string, len(l))
	for i, e := range l {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "; ")
}

func (l lineErrors) Unwrap() []error { return l }

// exportPool runs one pool's export with its progress display, then logs
// and writes its summary, then its follow-up diff and report, all under
// the lease of the pool's output unless the run asked for none.
func (r *Run) exportPool(ctx context.Context, pr *PoolRun) error {
	cfg := pr.Config
	plan := cfg.Logger.With("phase", "plan")
	plan.Info("export starting", "output", cfg.Output, "format", cfg.Format, "strategy", cfg.Strategy, "concurrency", cfg.Concurrency)
	pr.state.Store(int32(Running))
	started := time.Now()
	pr.started.Store(started.UnixNano())
	env, err := export.Open(ctx, cfg)
	if err != nil {
		pr.state.Store(int32(Failed))
		return err // the output or the client could not be had: no summary.json either
	}
	pr.env = env
	if cfg.LeaseOff {
		return r.runPool(ctx, pr, started)
	}
	l, err := env.TakeLease(ctx, lease.Options{TTL: cfg.LeaseTTL, RunID: r.plan.RunID, Logger: plan})
	if err != nil {
		// Another run writes there: nothing of this run's, summary.json
		// included, may go beside its files.
		pr.state.Store(int32(Failed))
		return err
	}
	return lease.Hold(ctx, l, func(ctx context.Context) error { return r.runPool(ctx, pr, started) })
}

// runPool is exportPool once the output is open, and leased.
func (r *Run) runPool(ctx context.Context, pr *PoolRun, started time.Time) error {
	cfg, env := pr.Config, pr.env
	finishWatch := func(bool) {}
	watchCtx, stopWatch := context.WithCancel(ctx)
	if r.opts.Watch != nil {
		finishWatch = r.opts.Watch(watchCtx, pr)
	}
	sum, err := env.Run(ctx)
	stopWatch()
	finishWatch(err == nil && sum.Complete)
	if err == nil {
		pr.state.Store(int32(Complete))
	} else {
		pr.state.Store(int32(Failed))
	}

	if sum.AlreadyComplete {
		fmt.Fprintf(r.opts.Stdout, "export in %s is already complete (manifest.json); pass --fresh to export again\n", sum.Output)
		return r.afterExport(ctx, pr)
	}
	fin := cfg.Logger.With("phase", "finish")
	fin.Info("export finished", "complete", sum.Complete, "users", sum.Users, "rows", sum.Rows,
		"skipped", sum.Skipped, "calls", sum.TotalCalls(), "throttles", sum.Throttles, "retries", sum.Retries,
		"strategy", sum.Strategy, "parts", sum.Parts, "bytes", sum.Bytes, "elapsed", sum.Elapsed.Round(time.Millisecond).String(),
		slog.Any("calls_by_operation", sum.Calls), slog.Any("rates", sum.Rates))
	if werr := writeSummary(ctx, env, r.plan.RunID, started, sum, err); werr != nil {
		fin.Warn("summary.json not written", "error", werr.Error())
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(r.opts.Stdout, "exported %d users, %d rows, %d skipped, %d API calls in %s to %s\n",
		sum.Users, sum.Rows, sum.Skipped, sum.TotalCalls(), sum.Elapsed.Round(time.Millisecond), sum.Output)
	return r.afterExport(ctx, pr)
}
