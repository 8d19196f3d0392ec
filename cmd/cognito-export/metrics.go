package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/cognito-export/cognito-export/batch"
	"github.com/cognito-export/cognito-export/metrics"
	"github.com/cognito-export/cognito-export/ratelimit"
)

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

// serveMetrics serves the run's metrics at addr until the returned stop
// is called; an empty addr serves nothing.
func serveMetrics(ctx context.Context, addr string, r *batch.Run, limits map[batch.QuotaKey]*ratelimit.Set, log *slog.Logger) (stop func(), err error) {
	if addr == "" {
		return func() {}, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, usageError{fmt.Sprintf("--metrics-addr %s: %v", addr, err)}
	}
	wait := serve(ctx, ln, metrics.Handler(r.Pools(), limits))
	log.With("phase", "plan").Info("serving metrics", "metrics_addr", ln.Addr().String(), "path", "/metrics")
	return func() {
		if err := wait(); err != nil {
			log.Warn("metrics server did not stop cleanly", "error", err.Error())
		}
	}, nil
}

// newAlerts sends the run's metrics where --push-gateway and
// --metrics-format say.
func newAlerts(p *batch.Plan, run runOptions, con *console) (*metrics.Alerts, error) {
	o := metrics.AlertOptions{PushGateway: run.pushGateway, Interval: run.progressInterval}
	switch run.metricsFormat {
	case "emf":
		// Through the console: a line is written whole, never inside a
		// log line or the bar.
		o.EMF = con
	case "none":
	default:
		return nil, usageError{fmt.Sprintf("--metrics-format %q: use emf or none", run.metricsFormat)}
	}
	a, err := metrics.NewAlerts(p, o, con.log.With("run_id", p.RunID, "phase", "finish"))
	if err != nil {
		return nil, usageError{"--push-gateway: " + err.Error()}
	}
	return a, nil
}
