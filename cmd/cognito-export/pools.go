package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/cognito-export/cognito-export/diff"
	"github.com/cognito-export/cognito-export/export"
)

// poolRun is one pool of a run, as the progress display and the metrics see it.
type poolRun struct {
	cfg   export.Config
	key   quotaKey
	name  string
	prog  *export.Progress
	env   *export.Env  // nil until the pool's output and client are open
	state atomic.Int32 // poolWaiting, poolRunning, ...
}

const (
	poolWaiting int32 = iota
	poolRunning
	poolComplete
	poolFailed
)

// exportPools exports every pool found, one after another or
// --parallel-pools at once, each under the limiters of its (account,
// region). A failed pool does not stop the others: each has its own output
// and checkpoint, and a scheduled run should get as far as it can. Then
// the index is written, last. The error names every pool, and every
// (account, region) whose pools could not be listed, that failed.
func exportPools(ctx context.Context, p *plan, fd found, con *console, stdout io.Writer) error {
	started := time.Now()
	runs := make([]*poolRun, len(fd.pools))
	for i, pp := range fd.pools {
		cfg := pp.Config
		cfg.Logger = con.log.With("run_id", p.run.runID, "pool", cfg.UserPoolID, "account", pp.key.account, "region", pp.key.region)
		cfg.Progress = &export.Progress{}
		runs[i] = &poolRun{cfg: cfg, key: pp.key, name: pp.name, prog: cfg.Progress}
	}
	runLog := con.log.With("run_id", p.run.runID, "pool", poolsLabel(fd))
	stopMetrics, err := serveMetrics(ctx, p.run.metricsAddr, p.limits, runs, runLog)
	if err != nil {
		return err
	}
	defer stopMetrics()

	// A bar per pool only makes sense when they take turns on the terminal.
	useBar := con.tty && p.run.parallelPools == 1
	errs := make([]error, len(runs))
	began := make([]bool, len(runs))
	var g errgroup.Group
	g.SetLimit(p.run.parallelPools)
	for i, pr := range runs {
		if ctx.Err() != nil {
			break // interrupted: the pools not started stay as they are
		}
		began[i] = true
		g.Go(func() error {
			errs[i] = exportPool(ctx, pr, p.run, con, stdout, useBar)
			return nil
		})
	}
	g.Wait()

	var failed []error
	for i, err := range errs {
		if err != nil {
			failed = append(failed, fmt.Errorf("pool %s: %w", runs[i].cfg.UserPoolID, err))
		}
	}
	for _, f := range fd.failed {
		failed = append(failed, f.err)
	}
	if !p.index.location.IsZero() {
		idx := runIndex{RunID: p.run.runID, Shard: p.shard.String(), StartedAt: started.UTC()}
		for i, pr := range runs {
			idx.Pools = append(idx.Pools, indexEntryOf(ctx, pr, began[i], errs[i]))
		}
		for _, f := range fd.failed {
			idx.Pools = append(idx.Pools, f.entry)
		}
		idx.Pools = append(idx.Pools, fd.skipped...)
		sortEntries(idx.Pools)
		var sig interrupted
		if errors.As(context.Cause(ctx), &sig) {
			idx.Status = statusInterrupted
		}
		idx.FinishedAt = time.Now().UTC()
		if err := writeIndex(ctx, p, idx); err != nil {
			failed = append(failed, err)
		} else {
			runLog.With("phase", "finish").Info("index written", "index", p.index.String(), "pools", len(idx.Pools))
		}
	}
	if len(runs) == 1 && len(fd.failed) == 0 && p.targets == nil && p.index.location.IsZero() {
		return errs[0]
	}
	if len(failed) == 0 {
		return nil
	}
	// One line for the operator; the first failure decides the exit code.
	return fmt.Errorf("%s failed: %w", countFailures(errs, fd), joinLine(failed))
}

// countFailures says how many pools, and (account, region) pairs, failed.
func countFailures(errs []error, fd found) string {
	pools, listed := len(errs), 0
	failedPools := 0
	for _, err := range errs {
		if err != nil {
			failedPools++
		}
	}
	for _, f := range fd.failed {
		if f.entry.UserPoolID != "" {
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
func indexEntryOf(ctx context.Context, pr *poolRun, began bool, err error) indexEntry {
	e := indexEntry{Account: pr.key.account, Region: pr.key.region, UserPoolID: pr.cfg.UserPoolID, PoolName: pr.name,
		RoleARN: pr.cfg.Client.RoleARN, Output: pr.cfg.Output, Status: statusComplete}
	var sig interrupted
	switch {
	case !began:
		e.Status, e.Error = statusSkipped, "not started: the run was interrupted"
		return e
	case err != nil && errors.As(context.Cause(ctx), &sig):
		e.Status, e.Error = statusInterrupted, err.Error()
		return e
	case err != nil:
		e.Status, e.Error = statusFailed, err.Error()
		return e
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), indexWriteTimeout)
	defer cancel()
	m, err := pr.env.Manifest(rctx)
	if err != nil {
		e.Status, e.Error = statusFailed, "the export finished but its manifest cannot be read back: "+err.Error()
		return e
	}
	e.Users, e.Rows, e.ManifestSHA256 = m.Totals.Users, m.Totals.Rows, m.SHA256
	return e
}

func sortEntries(es []indexEntry) {
	slices.SortStableFunc(es, func(a, b indexEntry) int {
		return cmp.Or(cmp.Compare(a.Account, b.Account), cmp.Compare(a.Region, b.Region), cmp.Compare(a.UserPoolID, b.UserPoolID))
	})
}

// poolsLabel is the pool field of the lines about the whole run.
func poolsLabel(fd found) string {
	if len(fd.pools) == 1 && len(fd.failed) == 0 {
		return fd.pools[0].UserPoolID
	}
	return "*"
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
// and writes its summary.
func exportPool(ctx context.Context, pr *poolRun, run runOptions, con *console, stdout io.Writer, useBar bool) error {
	cfg := pr.cfg
	plan := cfg.Logger.With("phase", "plan")
	plan.Info("export starting", "output", cfg.Output, "format", cfg.Format, "strategy", cfg.Strategy, "concurrency", cfg.Concurrency)
	pr.state.Store(poolRunning)
	started := time.Now()
	env, err := export.Open(ctx, cfg)
	if err != nil {
		pr.state.Store(poolFailed)
		return err // the output or the client could not be had: no summary.json either
	}
	pr.env = env

	watchCtx, stopWatch := context.WithCancel(ctx)
	finishWatch := watch(watchCtx, con, cfg.Logger.With("phase", "export"), pr, run.progressInterval, useBar)
	sum, err := env.Run(ctx)
	stopWatch()
	finishWatch(err == nil && sum.Complete)
	if err == nil {
		pr.state.Store(poolComplete)
	} else {
		pr.state.Store(poolFailed)
	}

	if sum.AlreadyComplete {
		fmt.Fprintf(stdout, "export in %s is already complete (manifest.json); pass --fresh to export again\n", sum.Output)
		return afterExport(ctx, cfg, run, stdout)
	}
	fin := cfg.Logger.With("phase", "finish")
	fin.Info("export finished", "complete", sum.Complete, "users", sum.Users, "rows", sum.Rows,
		"skipped", sum.Skipped, "calls", sum.TotalCalls(), "throttles", sum.Throttles, "retries", sum.Retries,
		"strategy", sum.Strategy, "parts", sum.Parts, "bytes", sum.Bytes, "elapsed", sum.Elapsed.Round(time.Millisecond).String(),
		slog.Any("calls_by_operation", sum.Calls), slog.Any("rates", sum.Rates))
	if werr := writeSummary(ctx, env, run.runID, started, sum, err); werr != nil {
		fin.Warn("summary.json not written", "error", werr.Error())
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "exported %d users, %d rows, %d skipped, %d API calls in %s to %s\n",
		sum.Users, sum.Rows, sum.Skipped, sum.TotalCalls(), sum.Elapsed.Round(time.Millisecond), sum.Output)
	return afterExport(ctx, cfg, run, stdout)
}

// afterExport does what a complete export was asked to do next: the diff,
// then the report, which reuses the diff's summary rather than diffing the
// same two exports again.
func afterExport(ctx context.Context, cfg export.Config, run runOptions, stdout io.Writer) error {
	if run.diffAgainst != "" || run.report {
		allowHeap(diffMemoryLimit)
	}
	var sum *diff.Summary
	if run.diffAgainst != "" {
		df := diffFlags{format: cfg.Format, compression: cfg.Compression, csvRaw: cfg.CSVRaw}
		if run.report {
			// The report lists the changes of its privileged groups: the
			// diff must list them too for its summary to serve.
			df.privileged = run.reportOpts.privileged
		}
		var err error
		if sum, err = diffAfterExport(ctx, cfg, run.diffAgainst, df, cfg.Logger.With("phase", "diff"), stdout); err != nil {
			return err
		}
	}
	if !run.report {
		return nil
	}
	return reportAfterExport(ctx, cfg, run, sum, cfg.Logger.With("phase", "report"), stdout)
}
