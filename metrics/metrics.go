// Package metrics exposes a run of export to Prometheus: every pool's
// users, rows, calls, throttles and state, and each (account, region)'s
// paced rates, read from the same counters as the progress display at
// scrape time, so that nothing is counted twice.
package metrics

import (
	"math"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/cognito-export/cognito-export/batch"
	"github.com/cognito-export/cognito-export/ratelimit"
)

// poolLabels name a pool and where it is: a pool id is unique only within
// its account.
var poolLabels = []string{"account", "region", "pool"}

// The metrics read the same counters as the progress display, at scrape
// time; nothing is counted twice.
var (
	descUsers     = prometheus.NewDesc("cognito_export_users_total", "Users exported, resumed runs included.", poolLabels, nil)
	descEstimated = prometheus.NewDesc("cognito_export_estimated_users", "Users in the pool by DescribeUserPool's EstimatedNumberOfUsers (0 until known).", poolLabels, nil)
	descRows      = prometheus.NewDesc("cognito_export_rows_total", "Rows (memberships) written, resumed runs included.", poolLabels, nil)
	descSkipped   = prometheus.NewDesc("cognito_export_skipped_users_total", "Users deleted during the export and skipped.", poolLabels, nil)
	descCalls     = prometheus.NewDesc("cognito_export_calls_total", "Cognito requests sent by this run, retries included.", append(poolLabels, "operation"), nil)
	descThrottles = prometheus.NewDesc("cognito_export_throttles_total", "TooManyRequestsException answers.", poolLabels, nil)
	descRetries   = prometheus.NewDesc("cognito_export_retries_total", "Attempts beyond the first.", poolLabels, nil)
	descState     = prometheus.NewDesc("cognito_export_pool_state", "1 for the pool's current state: waiting, running, complete or failed.", append(poolLabels, "state"), nil)
	descRate      = prometheus.NewDesc("cognito_export_rate_limit", "Requests/second a quota category is paced at now, after adaptive slow-down (absent when unlimited).", []string{"account", "region", "category"}, nil)
)

// exportCollector reads every pool of the run at scrape time.
type exportCollector struct {
	runs   []*batch.PoolRun
	limits map[batch.QuotaKey]*ratelimit.Set
}

func (c exportCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descUsers, descEstimated, descRows, descSkipped, descCalls, descThrottles, descRetries, descState, descRate} {
		ch <- d
	}
}

func (c exportCollector) Collect(ch chan<- prometheus.Metric) {
	counter := func(d *prometheus.Desc, v int64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	for _, pr := range c.runs {
		pool := []string{pr.Key.Account, pr.Key.Region, pr.Config.UserPoolID}
		s := pr.Progress.Snapshot()
		counter(descUsers, s.Users, pool...)
		counter(descRows, s.Rows, pool...)
		counter(descSkipped, s.Skipped, pool...)
		counter(descThrottles, s.Throttles, pool...)
		counter(descRetries, s.Retries, pool...)
		for op, n := range s.Calls {
			counter(descCalls, n, append(pool, op)...)
		}
		ch <- prometheus.MustNewConstMetric(descEstimated, prometheus.GaugeValue, float64(s.EstimatedUsers), pool...)
		state := pr.State()
		for _, st := range batch.States {
			v := 0.0
			if st == state {
				v = 1
			}
			ch <- prometheus.MustNewConstMetric(descState, prometheus.GaugeValue, v, append(pool, st.String())...)
		}
	}
	for key, set := range c.limits {
		for cat, r := range set.Rates() {
			if !math.IsInf(r, 1) {
				ch <- prometheus.MustNewConstMetric(descRate, prometheus.GaugeValue, r, key.Account, key.Region, string(cat))
			}
		}
	}
}

// Handler serves the metrics of runs and limits, read at scrape time, at
// /metrics, with the Go runtime's and the process's. The registry is the
// run's own, not the global one, so that nothing else registers into it.
func Handler(runs []*batch.PoolRun, limits map[batch.QuotaKey]*ratelimit.Set) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(exportCollector{runs: runs, limits: limits},
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	return mux
}
