package metrics

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"time"

	"github.com/cognito-export/cognito-export/batch"
)

// Namespace is the CloudWatch namespace of every EMF line.
const Namespace = "CognitoExport"

// EMF dimension names: a pool's line carries all three; the run's line
// none, so that an alarm on the whole run needs no pool named.
var emfDimensions = []string{"pool", "account", "region"}

// SelfAccount stands for the run's own account in a dimension, which
// CloudWatch wants non-empty: the account of a pool reached without
// --role-arn is not known without an extra call.
const SelfAccount = "self"

// The metrics of the lines, by name, with their CloudWatch units. Finding
// ids are metrics too (Count), one per finding the report evaluated.
const (
	MetricUsers     = "users"
	MetricRows      = "rows"
	MetricSkipped   = "skipped"
	MetricCalls     = "calls"
	MetricThrottles = "throttles"
	MetricRetries   = "retries"
	MetricDuration  = "duration"
	MetricFailed    = "failed"   // a pool's: 1 when it failed; the run's: pools that failed
	MetricComplete  = "complete" // a pool's: 1 when complete; the run's: pools complete
	MetricPools     = "pools"    // the run's: pools it ran
)

var emfUnits = map[string]string{
	MetricUsers: "Count", MetricRows: "Count", MetricSkipped: "Count", MetricCalls: "Count", MetricThrottles: "Count",
	MetricRetries: "Count", MetricDuration: "Seconds", MetricFailed: "Count", MetricComplete: "Count", MetricPools: "Count",
}

// maxEMFMetrics is the specification's limit of metric definitions in one
// directive.
const maxEMFMetrics = 100

// EMF writes CloudWatch's Embedded Metric Format: one JSON object per line,
// which CloudWatch Logs turns into metrics in the namespace CognitoExport
// with no agent and no permission beyond writing the log (the awslogs
// driver of ECS and Batch). w must write each line whole (the console
// does, between log lines).
type EMF struct {
	w   io.Writer
	now func() time.Time
}

// NewEMF writes to w.
func NewEMF(w io.Writer) *EMF { return &EMF{w: w, now: time.Now} }

// emfMetric is one MetricDefinition.
type emfMetric struct {
	Name string `json:"Name"`
	Unit string `json:"Unit"`
}

type emfDirective struct {
	Namespace  string      `json:"Namespace"`
	Dimensions [][]string  `json:"Dimensions"`
	Metrics    []emfMetric `json:"Metrics"`
}

type emfMeta struct {
	Timestamp         int64          `json:"Timestamp"` // milliseconds since the epoch
	CloudWatchMetrics []emfDirective `json:"CloudWatchMetrics"`
}

// line is one EMF document: _aws, then the dimension and metric members
// (targets) on its root, and members that are neither (state, run_id).
func (e *EMF) line(dims []string, values map[string]any, metrics map[string]float64) error {
	root := map[string]any{}
	maps.Copy(root, values)
	dir := emfDirective{Namespace: Namespace, Dimensions: [][]string{dims}}
	for _, name := range slices.Sorted(maps.Keys(metrics)) {
		unit, ok := emfUnits[name]
		if !ok {
			unit = "Count" // a finding's rows
		}
		dir.Metrics = append(dir.Metrics, emfMetric{Name: name, Unit: unit})
		root[name] = metrics[name]
	}
	if len(dir.Metrics) > maxEMFMetrics {
		return fmt.Errorf("EMF: %d metrics in one line, over CloudWatch's %d", len(dir.Metrics), maxEMFMetrics)
	}
	root["_aws"] = emfMeta{Timestamp: e.now().UnixMilli(), CloudWatchMetrics: []emfDirective{dir}}
	data, err := json.Marshal(root)
	if err != nil {
		return err
	}
	_, err = e.w.Write(append(data, '\n'))
	return err
}

// poolMetrics are the numbers of one pool's run.
func poolMetrics(pr *batch.PoolRun) map[string]float64 {
	s := pr.Progress.Snapshot()
	m := map[string]float64{
		MetricUsers: float64(s.Users), MetricRows: float64(s.Rows), MetricSkipped: float64(s.Skipped),
		MetricCalls: float64(s.TotalCalls()), MetricThrottles: float64(s.Throttles), MetricRetries: float64(s.Retries),
		MetricFailed: 0, MetricComplete: 0,
	}
	switch pr.State() {
	case batch.Failed:
		m[MetricFailed] = 1
	case batch.Complete:
		m[MetricComplete] = 1
	}
	if started, finished := pr.Times(); !started.IsZero() && !finished.IsZero() {
		m[MetricDuration] = finished.Sub(started).Seconds()
	}
	for id, n := range pr.Findings() {
		m[id] = float64(n)
	}
	return m
}

// Pool writes the line of one pool whose run is over: its counts, whether
// it failed, how long it took and its findings, with the dimensions pool,
// account and region.
func (e *EMF) Pool(pr *batch.PoolRun, runID string) error {
	account := pr.Key.Account
	if account == "" {
		account = SelfAccount
	}
	values := map[string]any{"pool": pr.Config.UserPoolID, "account": account, "region": pr.Key.Region,
		"state": pr.State().String(), "run_id": runID}
	return e.line(emfDimensions, values, poolMetrics(pr))
}

// Run writes the line of the whole run, with no dimension: pools run,
// complete and failed, the sums of their counts and findings, and the
// run's duration.
func (e *EMF) Run(pools []*batch.PoolRun, runID string, elapsed time.Duration) error {
	sum := map[string]float64{MetricPools: float64(len(pools)), MetricFailed: 0, MetricComplete: 0}
	for _, pr := range pools {
		for name, v := range poolMetrics(pr) {
			if name != MetricDuration {
				sum[name] += v
			}
		}
		if pr.State() == batch.Waiting {
			sum[MetricFailed]++ // never started: the run did not export it
		}
	}
	sum[MetricDuration] = elapsed.Seconds()
	return e.line([]string{}, map[string]any{"run_id": runID}, sum)
}
