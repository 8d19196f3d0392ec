// Package metrics exposes a run of export to Prometheus: every pool's
// users, rows, calls, throttles, state, duration and findings, and each
// (account, region)'s paced rates, read from the same counters as the
// progress display when they are scraped or pushed, so that nothing is
// counted twice. The same metrics are served (--metrics-addr), pushed to
// a Pushgateway (--push-gateway) and written as CloudWatch's Embedded
// Metric Format (--metrics-format emf).
package metrics

import (
	"math"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/cognito-export/cognito-export/batch"
	"github.com/cognito-export/cognito-export/ratelimit"
)

// poolLabels name a pool and where it is: a pool id is unique only within
// its account. A push carries them in its grouping key instead.
var poolLabels = []string{"account", "region", "pool"}

// descs are the metric families of one pool, with the pool's labels
// (served) or without them (pushed, where the grouping key holds them).
type descs struct {
	users, estimated, rows, skipped, calls, throttles, retries, state *prometheus.Desc
	duration, lastSuccess, findings, rate                             *prometheus.Desc
	phaseDone, phaseTotal                                             *prometheus.Desc
}

func newDescs(pool []string) descs {
	with := func(extra ...string) []string { return append(append([]string(nil), pool...), extra...) }
	// The rate is the (account, region)'s: served with those two labels,
	// pushed with the pool's grouping key.
	rateLabels := []string{"account", "region", "category"}
	if pool == nil {
		rateLabels = []string{"category"}
	}
	return descs{
		users:       prometheus.NewDesc("cognito_export_users_total", "Users exported, resumed runs included.", with(), nil),
		estimated:   prometheus.NewDesc("cognito_export_estimated_users", "Users in the pool by DescribeUserPool's EstimatedNumberOfUsers (0 until known).", with(), nil),
		rows:        prometheus.NewDesc("cognito_export_rows_total", "Rows (memberships) written, resumed runs included.", with(), nil),
		skipped:     prometheus.NewDesc("cognito_export_skipped_users_total", "Users deleted during the export and skipped.", with(), nil),
		calls:       prometheus.NewDesc("cognito_export_calls_total", "Cognito requests sent by this run, retries included, by operation and its quota category.", with("operation", "category"), nil),
		throttles:   prometheus.NewDesc("cognito_export_throttles_total", "TooManyRequestsException answers, by operation and its quota category.", with("operation", "category"), nil),
		retries:     prometheus.NewDesc("cognito_export_retries_total", "Attempts beyond the first.", with(), nil),
		state:       prometheus.NewDesc("cognito_export_pool_state", "1 for the pool's current state: waiting, running, complete or failed.", with("state"), nil),
		duration:    prometheus.NewDesc("cognito_export_duration_seconds", "Seconds the pool's export and its follow-up have taken, so far while it runs.", with(), nil),
		lastSuccess: prometheus.NewDesc("cognito_export_last_success_timestamp_seconds", "Unix time the pool's export last finished complete.", with(), nil),
		findings:    prometheus.NewDesc("cognito_export_findings", "Rows of each finding of the pool's report (only when a report was made).", with("id"), nil),
		phaseDone:   prometheus.NewDesc("cognito_export_phase_done", "How far the current phase is, in its unit: memberships in by-group's group phase, users listed in the ListUsers pass (the progress bar's and log line's figure).", with("phase", "unit"), nil),
		phaseTotal:  prometheus.NewDesc("cognito_export_phase_total", "What the current phase should come to, in its unit, from DescribeUserPool and the sampled memberships per user (0 until known).", with("phase", "unit"), nil),
		rate:        prometheus.NewDesc("cognito_export_rate_limit", "Requests/second a quota category is paced at now, after adaptive slow-down (absent when unlimited).", rateLabels, nil),
	}
}

var (
	served = newDescs(poolLabels)
	pushed = newDescs(nil)
)

func (d descs) all() []*prometheus.Desc {
	return []*prometheus.Desc{d.users, d.estimated, d.rows, d.skipped, d.calls, d.throttles, d.retries, d.state,
		d.duration, d.lastSuccess, d.findings, d.rate, d.phaseDone, d.phaseTotal}
}

// collectPool sends one pool's metrics, each with the labels first.
func collectPool(ch chan<- prometheus.Metric, d descs, pr *batch.PoolRun, labels []string) {
	with := func(extra ...string) []string { return append(append([]string(nil), labels...), extra...) }
	counter := func(desc *prometheus.Desc, v int64, extra ...string) {
		ch <- prometheus.MustNewConstMetric(desc, prometheus.CounterValue, float64(v), with(extra...)...)
	}
	gauge := func(desc *prometheus.Desc, v float64, extra ...string) {
		ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, v, with(extra...)...)
	}
	s := pr.Progress.Snapshot()
	counter(d.users, s.Users)
	counter(d.rows, s.Rows)
	counter(d.skipped, s.Skipped)
	counter(d.retries, s.Retries)
	for op, n := range s.Calls {
		counter(d.calls, n, op, categoryOf(op))
		// Every operation called has its series, 0 included, so that
		// an alert on a rise sees it start.
		counter(d.throttles, s.ThrottlesOf[op], op, categoryOf(op))
	}
	gauge(d.estimated, float64(s.EstimatedUsers))
	if s.Phase != "" {
		unit, done, total := s.PhaseProgress()
		gauge(d.phaseDone, float64(done), s.Phase, unit)
		gauge(d.phaseTotal, float64(total), s.Phase, unit)
	}
	state := pr.State()
	for _, st := range batch.States {
		v := 0.0
		if st == state {
			v = 1
		}
		gauge(d.state, v, st.String())
	}
	started, finished := pr.Times()
	if !started.IsZero() {
		end := finished
		if end.IsZero() {
			end = time.Now()
		}
		gauge(d.duration, end.Sub(started).Seconds())
	}
	if state == batch.Complete && !finished.IsZero() {
		gauge(d.lastSuccess, float64(finished.UnixNano())/1e9)
	}
	for id, n := range pr.Findings() {
		gauge(d.findings, float64(n), id)
	}
}

// categoryOf is the quota category of a Cognito operation, "" for one
// with none.
func categoryOf(op string) string {
	c, _ := ratelimit.CategoryOf(op)
	return string(c)
}

// collectRates sends the paced rates of one limiter set.
func collectRates(ch chan<- prometheus.Metric, desc *prometheus.Desc, set *ratelimit.Set, labels ...string) {
	for cat, r := range set.Rates() {
		if !math.IsInf(r, 1) {
			ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, r, append(append([]string(nil), labels...), string(cat))...)
		}
	}
}

// exportCollector reads every pool of the run at scrape time.
type exportCollector struct {
	runs   []*batch.PoolRun
	limits map[batch.QuotaKey]*ratelimit.Set
}

func (c exportCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range served.all() {
		ch <- d
	}
}

func (c exportCollector) Collect(ch chan<- prometheus.Metric) {
	for _, pr := range c.runs {
		collectPool(ch, served, pr, []string{pr.Key.Account, pr.Key.Region, pr.Config.UserPoolID})
	}
	for key, set := range c.limits {
		collectRates(ch, served.rate, set, key.Account, key.Region)
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
