package metrics

import (
	"context"
	"io"
	"log/slog"
	"time"

	"github.com/cognito-export/cognito-export/batch"
)

// Alerts are where a run's metrics go besides the served endpoint, for
// the alarms over them: each pool's to a Pushgateway every interval and
// at its end, CloudWatch EMF lines as each pool and the run end, both or
// neither.
type Alerts struct {
	pusher   *Pusher
	emf      *EMF
	interval time.Duration
	runID    string
	log      *slog.Logger
}

// AlertOptions say where a run's metrics go.
type AlertOptions struct {
	PushGateway string        // http://host:9091; "": no pushes
	EMF         io.Writer     // where the EMF lines go; nil: none
	Interval    time.Duration // between two pushes of a pool
}

// NewAlerts sends the metrics of p's pools where o says; log says what
// could not be sent. An error is a gateway that cannot be used.
func NewAlerts(p *batch.Plan, o AlertOptions, log *slog.Logger) (*Alerts, error) {
	a := &Alerts{interval: o.Interval, runID: p.RunID, log: log}
	if o.PushGateway != "" {
		pusher, err := NewPusher(o.PushGateway, p.Limits, log)
		if err != nil {
			return nil, err
		}
		a.pusher = pusher
	}
	if o.EMF != nil {
		a.emf = NewEMF(o.EMF)
	}
	return a, nil
}

// Hook adds the pushes to the pools' watch and the last push and EMF line
// to their end.
func (a *Alerts) Hook(opts *batch.RunOptions) {
	if a.pusher != nil {
		console := opts.Watch
		opts.Watch = func(ctx context.Context, pr *batch.PoolRun) func(bool) {
			finish, stopPush := console(ctx, pr), a.pusher.Every(ctx, pr, a.interval)
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

// RunOver writes the run's EMF line.
func (a *Alerts) RunOver(r *batch.Run, elapsed time.Duration) {
	if a.emf == nil {
		return
	}
	if err := a.emf.Run(r.Pools(), a.runID, elapsed); err != nil {
		a.log.Warn("EMF line of the run not written", "error", err.Error())
	}
}
