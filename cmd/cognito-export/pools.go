package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/cognito-export/cognito-export/export"
)

// poolRun is one pool of a run, as the progress display and the metrics see it.
type poolRun struct {
	cfg   export.Config
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

// exportPools exports every pool of the plan, one after another or
// --parallel-pools at once, all under the same limiters. A failed pool does
// not stop the others: each has its own output and checkpoint, and a
// scheduled run should get as far as it can. The error names every pool
// that failed.
func exportPools(ctx context.Context, p *plan, con *console, stdout io.Writer) error {
	runs := make([]*poolRun, len(p.pools))
	for i, cfg := range p.pools {
		cfg.Logger = con.log.With("run_id", p.run.runID, "pool", cfg.UserPoolID)
		cfg.Progress = &export.Progress{}
		runs[i] = &poolRun{cfg: cfg, prog: cfg.Progress}
	}
	stopMetrics, err := serveMetrics(ctx, p.run.metricsAddr, p.limits, runs, con.log.With("run_id", p.run.runID, "pool", poolsLabel(p)))
	if err != nil {
		return err
	}
	defer stopMetrics()

	// A bar per pool only makes sense when they take turns on the terminal.
	useBar := con.tty && p.run.parallelPools == 1
	errs := make([]error, len(runs))
	var g errgroup.Group
	g.SetLimit(p.run.parallelPools)
	for i, pr := range runs {
		if ctx.Err() != nil {
			break // interrupted: the pools not started stay as they are
		}
		g.Go(func() error {
			errs[i] = exportPool(ctx, pr, p.run, con, stdout, useBar)
			return nil
		})
	}
	g.Wait()
	if len(runs) == 1 {
		return errs[0]
	}
	var failed []error
	for i, err := range errs {
		if err != nil {
			failed = append(failed, fmt.Errorf("pool %s: %w", runs[i].cfg.UserPoolID, err))
		}
	}
	if len(failed) == 0 {
		return nil
	}
	// One line for the operator; the first failure decides the exit code.
	return fmt.Errorf("%d of %d pools failed: %w", len(failed), len(runs), joinLine(failed))
}

// poolsLabel is the pool field of the lines about the whole run.
func poolsLabel(p *plan) string {
	if len(p.pools) == 1 {
		return p.pools[0].UserPoolID
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

// afterExport does what a complete export was asked to do next.
func afterExport(ctx context.Context, cfg export.Config, run runOptions, stdout io.Writer) error {
	if run.diffAgainst == "" {
		return nil
	}
	return diffAfterExport(ctx, cfg, run.diffAgainst, cfg.Logger.With("phase", "diff"), stdout)
}
