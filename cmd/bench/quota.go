package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/cognito-export/cognito-export/cognito"
	"github.com/cognito-export/cognito-export/export"
	"github.com/cognito-export/cognito-export/internal/cognitoemu"
	"github.com/cognito-export/cognito-export/ratelimit"
)

// The quota runs last about quotaRun at the quota; the rates are read over
// the steady window in its middle.
const (
	quotaRun    = 16 * time.Second
	windowStart = 3 * time.Second
	window      = 10 * time.Second
)

type quotaScenario struct {
	name     string
	pageSize int32
	groups   int
	binding  string // the operation whose quota bounds the run
	// burst is the emulator's token bucket, in seconds of quota (the
	// exporter's own bucket holds one call); 0 means burstCalls calls.
	burst      time.Duration
	burstCalls int
}

var quotaScenarios = []quotaScenario{
	// The real shape: a ListUsers page feeds 60 users, so
	// AdminListGroupsForUser's quota is the one that binds. Scaling the
	// quotas scales the burst too, so that the jitter the emulator
	// tolerates stays as long as at the real quotas (100 ms: 5 calls at 50/s).
	{name: "page size 60, burst 100 ms", pageSize: 60, groups: 80, binding: "AdminListGroupsForUser", burst: 100 * time.Millisecond},
	// The same with a burst of 5 calls, 10 ms at the scaled quota: any
	// scheduling delay longer than that on this machine is a throttle.
	{name: "page size 60, burst 5 calls", pageSize: 60, groups: 80, binding: "AdminListGroupsForUser", burstCalls: 5},
	// One user per ListUsers page and at most one group per user: one call
	// of each per user, so ListUsers' smaller quota binds.
	{name: "page size 1, burst 100 ms", pageSize: 1, groups: 1, binding: "ListUsers", burst: 100 * time.Millisecond},
}

// quotaResult is a scenario's binding operation and the whole run's throttling.
type quotaResult struct {
	scenario, op     string
	share, throttled float64
}

func quotaEfficiency(ctx context.Context, w io.Writer, scale float64) ([]quotaResult, error) {
	quotas := map[string]float64{
		"ListUsers": 30 * scale, "AdminListGroupsForUser": 50 * scale,
		"ListGroups": 5 * scale, "DescribeUserPool": 15 * scale,
	}
	fmt.Fprintf(w, "### Quota efficiency, Cognito's default quotas x%g\n\n", scale)
	fmt.Fprintln(w, "The emulator (over loopback TCP) enforces each operation's quota with a token bucket and answers")
	fmt.Fprintln(w, "TooManyRequestsException above it; the exporter paces at the same rates. Achieved is the rate of accepted")
	fmt.Fprintf(w, "calls over %s after %s of warm-up; throttled is the share of all calls of the run.\n\n", window, windowStart)
	fmt.Fprintln(w, "| scenario | operation | quota | achieved | share of quota | throttled |")
	fmt.Fprintln(w, "|---|---|---:|---:|---:|---:|")
	var results []quotaResult
	for _, sc := range quotaScenarios {
		res, err := runQuota(ctx, sc, quotas, scale)
		if err != nil {
			return nil, fmt.Errorf("quota scenario %q: %w", sc.name, err)
		}
		var calls, throttled int64
		for _, r := range res {
			calls, throttled = calls+r.calls, throttled+r.throttled
		}
		results = append(results, quotaResult{scenario: sc.name, op: sc.binding,
			share: res[sc.binding].rate / quotas[sc.binding], throttled: float64(throttled) / max(1, float64(calls))})
		for _, op := range []string{sc.binding, other(sc.binding)} {
			r := res[op]
			note := ""
			if op != sc.binding {
				note = " (as needed)"
			}
			fmt.Fprintf(w, "| %s | %s | %.0f/s | %.1f/s | %.1f%%%s | %.2f%% (%d of %d) |\n", sc.name, op, quotas[op],
				r.rate, 100*r.rate/quotas[op], note, 100*float64(r.throttled)/max(1, float64(r.calls)), r.throttled, r.calls)
		}
	}
	fmt.Fprintln(w)
	return results, nil
}

func other(op string) string {
	if op == "ListUsers" {
		return "AdminListGroupsForUser"
	}
	return "ListUsers"
}

type opResult struct {
	rate             float64 // accepted calls per second over the window
	calls, throttled int64   // over the whole run
}

func runQuota(ctx context.Context, sc quotaScenario, quotas map[string]float64, scale float64) (map[string]opResult, error) {
	users := int(quotas[sc.binding] * quotaRun.Seconds())
	pool := cognitoemu.NewPool(cognitoemu.PoolSpec{Users: users, Groups: sc.groups, Seed: 1})
	burst := sc.burstCalls
	if sc.burst > 0 {
		burst = int(quotas[sc.binding] * sc.burst.Seconds())
	}
	srv := cognitoemu.NewServer(cognitoemu.Options{Quotas: quotas, QuotaBurst: burst}, pool)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(ln)
	defer hs.Close()

	dir, err := os.MkdirTemp("", "cognito-export-quota-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	rates := map[ratelimit.Category]float64{}
	for c, q := range ratelimit.DefaultQuotas {
		rates[c] = q * scale
	}
	cfg := export.Config{
		UserPoolID: pool.ID(), Output: dir, Format: "parquet", Strategy: export.StrategyPerUser, Concurrency: export.DefaultConcurrency,
		PageSize: sc.pageSize, PartBytes: export.DefaultPartBytes, UsersWithoutGroups: true,
		CheckpointInterval: export.DefaultCheckpointInterval, Limits: ratelimit.NewSet(rates, 1),
		Logger: slog.New(slog.DiscardHandler),
		Client: cognito.Config{Region: "us-east-1", EndpointURL: "http://" + ln.Addr().String(), MaxAttempts: 10,
			CallTimeout: 30 * time.Second, Credentials: credentials.NewStaticCredentialsProvider("BENCH", "not-a-secret", "")},
	}
	ops := []string{"ListUsers", "AdminListGroupsForUser"}
	type sample struct{ calls, throttled [2]int64 }
	read := func() (s sample) {
		for i, op := range ops {
			s.calls[i], s.throttled[i] = srv.Calls(op), srv.Throttled(op)
		}
		return s
	}
	windowDone := make(chan [2]float64, 1)
	go func() {
		time.Sleep(windowStart)
		a, t0 := read(), time.Now()
		time.Sleep(window)
		b, secs := read(), time.Since(t0).Seconds()
		var r [2]float64
		for i := range ops {
			r[i] = float64((b.calls[i]-b.throttled[i])-(a.calls[i]-a.throttled[i])) / secs
		}
		windowDone <- r
	}()
	start := time.Now()
	if _, err := export.Run(ctx, cfg); err != nil {
		return nil, err
	}
	if took := time.Since(start); took < windowStart+window {
		return nil, errors.New("the export ended before the measuring window did: the quota did not bound it")
	}
	r := <-windowDone
	out := map[string]opResult{}
	for i, op := range ops {
		out[op] = opResult{rate: r[i], calls: srv.Calls(op), throttled: srv.Throttled(op)}
	}
	return out, nil
}
