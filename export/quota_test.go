package export_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"golang.org/x/time/rate"

	"github.com/cognito-export/cognito-export/export"
	"github.com/cognito-export/cognito-export/internal/cognitoemu"
	"github.com/cognito-export/cognito-export/internal/duckdb"
	"github.com/cognito-export/cognito-export/internal/exportcheck"
	"github.com/cognito-export/cognito-export/ratelimit"
)

// The tests run at four times Cognito's default quotas so that they are
// short yet leave CPU to spare under -race on a busy 2-core machine (at ten
// times, the race detector itself became the limit);
// COGNITO_EXPORT_QUOTA_SCALE=1 measures at the real defaults.
var quotaScale = func() float64 {
	if v, err := strconv.ParseFloat(os.Getenv("COGNITO_EXPORT_QUOTA_SCALE"), 64); err == nil && v > 0 {
		return v
	}
	return 4
}()

// emuQuotas are Cognito's defaults, as the emulator enforces them.
func emuQuotas() map[string]float64 {
	return map[string]float64{
		"ListUsers": 30 * quotaScale, "AdminListGroupsForUser": 50 * quotaScale,
		"ListGroups": 5 * quotaScale, "DescribeUserPool": 15 * quotaScale,
	}
}

func scaledLimits() *ratelimit.Set {
	rates := map[ratelimit.Category]float64{}
	for c, q := range ratelimit.DefaultQuotas {
		rates[c] = q * quotaScale
	}
	return ratelimit.NewSet(rates, 1)
}

// rateMeter samples an emulator counter over a window in the middle of a run.
type rateMeter struct {
	wg         sync.WaitGroup
	calls, thr int64
	window     time.Duration
	perSecond  float64
}

func measure(srv *cognitoemu.Server, op string, warmup, window time.Duration) *rateMeter {
	m := &rateMeter{window: window}
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		time.Sleep(warmup)
		c0, t0 := srv.Calls(op), srv.Throttled(op)
		start := time.Now()
		time.Sleep(window)
		m.calls, m.thr = srv.Calls(op)-c0, srv.Throttled(op)-t0
		m.perSecond = float64(m.calls-m.thr) / time.Since(start).Seconds()
	}()
	return m
}

func TestJobUsesTheQuotaWithoutThrottling(t *testing.T) {
	if testing.Short() {
		t.Skip("measures rates over seconds")
	}
	quota := 50.0 * quotaScale
	for _, concurrency := range []int{4, 16, 64} {
		t.Run(fmt.Sprint("concurrency ", concurrency), func(t *testing.T) {
			env := startEmulator(t, cognitoemu.PoolSpec{Users: int(4.4 * quota), Groups: 10, Seed: 2}, cognitoemu.Options{Quotas: emuQuotas(), QuotaBurst: 5})
			cfg := exportConfig(env, t.TempDir())
			cfg.Concurrency = concurrency
			cfg.Limits = scaledLimits()
			m := measure(env.srv, "AdminListGroupsForUser", time.Second, 2*time.Second)
			lm := measure(env.srv, "ListUsers", time.Second, 2*time.Second)
			sum, err := export.Run(context.Background(), cfg)
			m.wg.Wait()
			lm.wg.Wait()
			if err != nil {
				t.Fatal(err)
			}
			share := float64(sum.Throttles) / float64(sum.TotalCalls())
			t.Logf("UserResourceRead (AdminListGroupsForUser): %.1f/s of %.0f (%.1f%%); UserList (ListUsers): %.1f/s of %.0f, as the workers need it; throttled %.2f%% of all calls",
				m.perSecond, quota, 100*m.perSecond/quota, lm.perSecond, 30*quotaScale, 100*share)
			// Generous bounds for a shared CI machine; the figures belong to `make bench`.
			if m.perSecond < 0.85*quota || m.perSecond > 1.02*quota {
				t.Errorf("achieved %.1f/s, want close to the quota of %.0f/s", m.perSecond, quota)
			}
			if share > 0.02 {
				t.Errorf("%.2f%% of calls throttled, want at most 1-2%%", 100*share)
			}
		})
	}
}

func TestJobSettlesBesideACompetingClient(t *testing.T) {
	if testing.Short() {
		t.Skip("measures rates over seconds")
	}
	quota := 50.0 * quotaScale
	env := startEmulator(t, cognitoemu.PoolSpec{Users: 5000, Groups: 10, Seed: 2}, cognitoemu.Options{Quotas: emuQuotas(), QuotaBurst: 5})
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	// Another application in the account sends half of the quota, steadily
	// and without backing off.
	other := cip.New(cip.Options{Region: "us-east-1", BaseEndpoint: aws.String(env.url), Retryer: aws.NopRetryer{},
		Credentials: clientConfig(env.url).Credentials})
	var otherOK atomic.Int64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		lim := rate.NewLimiter(rate.Limit(quota/2), 1)
		user := aws.String(env.pool.User(0).Username)
		for lim.Wait(ctx) == nil {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := other.AdminListGroupsForUser(ctx, &cip.AdminListGroupsForUserInput{UserPoolId: aws.String(env.pool.ID()), Username: user}); err == nil {
					otherOK.Add(1)
				}
			}()
		}
	}()
	cfg := exportConfig(env, t.TempDir())
	cfg.Limits = scaledLimits()
	cfg.Concurrency = 16
	var jobRate float64
	wg.Add(1)
	go func() {
		defer wg.Done()
		time.Sleep(4 * time.Second) // let the job settle first
		c0, t0, o0 := env.srv.Calls("AdminListGroupsForUser"), env.srv.Throttled("AdminListGroupsForUser"), otherOK.Load()
		start := time.Now()
		time.Sleep(4 * time.Second)
		ok := (env.srv.Calls("AdminListGroupsForUser") - c0) - (env.srv.Throttled("AdminListGroupsForUser") - t0) - (otherOK.Load() - o0)
		jobRate = float64(ok) / time.Since(start).Seconds()
	}()
	sum, err := export.Run(context.Background(), cfg)
	stop()
	wg.Wait()
	if err != nil {
		t.Fatalf("the job failed beside a competing client: %v", err)
	}
	share := float64(sum.Throttles) / float64(sum.TotalCalls())
	t.Logf("job: %.1f/s of the %.0f/s quota while the other client sent %.0f/s; %.1f%% of the job's calls throttled; limiter at %.1f/s at the end",
		jobRate, quota, quota/2, 100*share, cfg.Limits.Rates()[ratelimit.UserResourceRead])
	if jobRate < 0.3*quota || jobRate > 0.6*quota {
		t.Errorf("the job ran at %.1f/s beside the other client, want near the remaining half (%.0f/s)", jobRate, quota/2)
	}
	if share > 0.10 {
		t.Errorf("%.1f%% of the job's calls were throttled: it did not settle", 100*share)
	}
}

func TestFaultsAreSurvivedExactly(t *testing.T) {
	env := startEmulator(t, cognitoemu.PoolSpec{Users: 4000, Groups: 80, Seed: 12}, cognitoemu.Options{
		FaultRate: 0.05, FaultSeed: 3, ResetRate: 0.01, DeletedShare: 0.02,
	})
	out := t.TempDir()
	cfg := exportConfig(env, out)
	cfg.Format = "parquet"
	sum, err := export.Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Retries == 0 || sum.Skipped == 0 {
		t.Fatalf("summary %+v: want retries and skipped users", sum)
	}
	exportcheck.Compare(t, fmt.Sprintf("read_parquet(%s, hive_partitioning=false)", duckdb.Quote(out+"/part-*.parquet")),
		exportcheck.WriteTruth(t, env.pool, env.srv, true))
	t.Logf("retries %d, skipped %d, calls %v", sum.Retries, sum.Skipped, sum.Calls)
}

// TestOneWorkerFailingStopsTheWholeJob: a fatal error in one worker must
// stop the lister and the other workers at once, never leave them waiting.
func TestOneWorkerFailingStopsTheWholeJob(t *testing.T) {
	env := startEmulator(t, cognitoemu.PoolSpec{Users: 3000, Groups: 10, Seed: 1}, cognitoemu.Options{FaultRate: 0.2, FaultSeed: 9})
	cfg := exportConfig(env, t.TempDir())
	cfg.Client.MaxAttempts = 1 // every fault is final
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := export.Run(ctx, cfg)
	if err == nil || ctx.Err() != nil {
		t.Fatalf("err = %v (context %v): want the injected fault, promptly", err, ctx.Err())
	}
}
