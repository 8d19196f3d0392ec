package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/cognito-export/cognito-export/batch"
	"github.com/cognito-export/cognito-export/metrics"
)

// alerts are where a run's metrics go besides --metrics-addr: a
// Pushgateway, CloudWatch EMF lines on stderr, or neither.
type alerts struct {
	pusher *metrics.Pusher
	emf    *metrics.EMF
	runID  string
	log    *slog.Logger
}

func newAlerts(p *batch.Plan, run runOptions, con *console) (*alerts, error) {
	a := &alerts{runID: p.RunID, log: con.log.With("run_id", p.RunID, "phase", "finish")}
	if run.metricsFormat != "none" && run.metricsFormat != "emf" {
		return nil, usageError{fmt.Sprintf("--metrics-format %q: use emf or none", run.metricsFormat)}
	}
	if run.pushGateway != "" {
		pusher, err := metrics.NewPusher(run.pushGateway, p.Limits, a.log)
		if err != nil {
			return nil, usageError{"--push-gateway: " + err.Error()}
		}
		a.pusher = pusher
	}
	if run.metricsFormat == "emf" {
		// Through the console: a line is written whole, never inside a
		// log line or the bar.
		a.emf = metrics.NewEMF(con)
	}
	return a, nil
}

// hook adds the pushes to the pools' watch and the last push and EMF line
// to their end.
func (a *alerts) hook(opts *batch.RunOptions, interval time.Duration) {
	if a.pusher != nil {
		console := opts.Watch
		opts.Watch = func(ctx context.Context, pr *batch.PoolRun) func(bool) {
			finish, stopPush := console(ctx, pr), a.pusher.Every(ctx, pr, interval)
			return func(complete bool) { stopPush(); finish(complete) }
		}
	}
	if a.pusher == nil && a.emf == nil {
		return
	}
	opts.Finished = func(ctx context.Context, pr *batch.PoolRun, _ error) {
		if a.pusher != nil {
			a.pusher.Final(ctx, pr)
		}
		if a.emf != nil {
			if err := a.emf.Pool(pr, a.runID); err != nil {
				a.log.Warn("EMF line not written", "pool", pr.Config.UserPoolID, "error", err.Error())
			}
		}
	}
}

// runOver writes the run's EMF line.
func (a *alerts) runOver(r *batch.Run, elapsed time.Duration) {
	if a.emf == nil {
		return
	}
	if err := a.emf.Run(r.Pools(), a.runID, elapsed); err != nil {
		a.log.Warn("EMF line of the run not written", "error", err.Error())
	}
}
