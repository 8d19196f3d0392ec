package main

import (
	"encoding/json"
	"maps"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cognito-export/cognito-export/internal/boto"
	"github.com/cognito-export/cognito-export/internal/cognitoemu"
	"github.com/cognito-export/cognito-export/internal/emfcheck"
)

// alarm is the part of a PutMetricAlarm input that says what it watches
// and when it fires.
type alarm struct {
	AlarmName, Namespace, MetricName, Statistic, ComparisonOperator, TreatMissingData string
	Dimensions                                                                        []struct{ Name, Value string }
	Threshold                                                                         float64
	Period, EvaluationPeriods                                                         int
}

func readAlarms(t *testing.T) []alarm {
	t.Helper()
	var alarms []alarm
	readJSON(t, "cloudwatch-alarms.json", &alarms)
	if len(alarms) != 3 {
		t.Fatalf("%d alarms, want 3 (failed, no success, privileged members added)", len(alarms))
	}
	return alarms
}

// fires says whether an alarm fires on one datapoint of value.
func (a alarm) fires(value float64) bool {
	switch a.ComparisonOperator {
	case "GreaterThanThreshold":
		return value > a.Threshold
	case "GreaterThanOrEqualToThreshold":
		return value >= a.Threshold
	case "LessThanThreshold":
		return value < a.Threshold
	case "LessThanOrEqualToThreshold":
		return value <= a.Threshold
	}
	return false
}

// TestEMFLinesAndTheAlarmsOverThem exports a pool on two days, members
// added to a role-granting group between them, with a second pool that
// does not exist: every EMF line on stderr is valid by the specification
// and its schema, holds the run's numbers, and each alarm of
// configs/cloudwatch-alarms.json watches a metric the lines carry and
// decides as it should on them.
func TestEMFLinesAndTheAlarmsOverThem(t *testing.T) {
	spec := cognitoemu.PoolSpec{ID: "us-east-1_EmfPool", Users: 300, Groups: 12, Seed: 5}
	before := cognitoemu.NewPool(spec)
	var added []cognitoemu.Membership
	for gi, g := range before.Groups() {
		if g.RoleArn == nil {
			continue
		}
		for i := 0; i < spec.Users && len(added) < 3; i++ {
			if !slices.Contains(before.UserGroups(i, nil), gi) {
				added = append(added, cognitoemu.Membership{User: i, Group: g.Name})
			}
		}
		break
	}
	if len(added) != 3 {
		t.Fatal("the pool has no role-granting group to add members to")
	}
	after, err := before.Mutate(cognitoemu.Mutations{AddMemberships: added})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	noPace := []string{"--rate", "UserResourceRead=0", "--rate", "UserList=0", "--rate", "UserPoolResourceRead=0", "--rate", "UserPoolRead=0"}
	day1 := httptest.NewServer(cognitoemu.NewServer(cognitoemu.Options{}, before))
	t.Cleanup(day1.Close)
	if r := runCLI(t, cleanEnv(creds()...), append([]string{"export", "--endpoint-url", day1.URL, "--user-pool-id", spec.ID,
		"--output", filepath.Join(dir, "pool", "day1")}, noPace...)...); r.code != 0 {
		t.Fatalf("day 1: exit %d: %s", r.code, lastLine(r.stderr))
	}
	day2 := httptest.NewServer(cognitoemu.NewServer(cognitoemu.Options{}, after))
	t.Cleanup(day2.Close)
	file := writeConfig(t, `
endpoint-url: `+day2.URL+`
rate: [UserResourceRead=0, UserList=0, UserPoolResourceRead=0, UserPoolRead=0]
pools:
  - user-pool-id: us-east-1_EmfPool
    output: `+filepath.Join(dir, "pool", "day2")+`
  - user-pool-id: us-east-1_EmfMissing
    output: `+filepath.Join(dir, "missing")+`
`)
	start := time.Now()
	r := runCLI(t, cleanEnv(creds()...), "export", "--config", file, "--report", "--metrics-format", "emf", "--log-format", "json")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1 (one pool failed): %s", r.code, lastLine(r.stderr))
	}
	var pool, missing, run *emfcheck.Doc
	for line := range strings.Lines(r.stderr) {
		if !strings.Contains(line, `"_aws"`) {
			continue
		}
		doc, err := emfcheck.Check([]byte(strings.TrimSuffix(line, "\n")), time.Now())
		if err != nil {
			t.Fatalf("EMF line %s: %v", line, err)
		}
		if doc.Namespace != "CognitoExport" || doc.Timestamp.Before(start.Truncate(time.Millisecond)) {
			t.Errorf("namespace %q, timestamp %v", doc.Namespace, doc.Timestamp)
		}
		switch doc.Root["pool"] {
		case "us-east-1_EmfPool":
			pool = &doc
		case "us-east-1_EmfMissing":
			missing = &doc
		case nil:
			run = &doc
		}
	}
	if pool == nil || missing == nil || run == nil {
		t.Fatalf("want a line for each pool and one for the run:\n%s", r.stderr)
	}
	for _, d := range []*emfcheck.Doc{pool, missing} {
		if !slices.EqualFunc(d.Dimensions, [][]string{{"pool", "account", "region"}}, slices.Equal) ||
			d.Root["account"] != "self" || d.Root["region"] != "us-east-1" {
			t.Errorf("pool line's dimensions %v, account %v, region %v", d.Dimensions, d.Root["account"], d.Root["region"])
		}
	}
	if len(run.Dimensions) != 1 || len(run.Dimensions[0]) != 0 {
		t.Errorf("the run's line has dimensions %v, want one empty set", run.Dimensions)
	}
	var rep struct {
		Findings []struct {
			ID        string `json:"id"`
			Evaluated bool   `json:"evaluated"`
			Count     float64
		} `json:"findings"`
	}
	data, err := os.ReadFile(filepath.Join(dir, "pool", "day2", "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	want := map[*emfcheck.Doc]map[string]float64{
		pool:    {"users": 300, "rows": rowsOf(after), "failed": 0, "complete": 1, "skipped": 0, "throttles": 0},
		missing: {"users": 0, "failed": 1, "complete": 0},
		run:     {"pools": 2, "users": 300, "rows": rowsOf(after), "failed": 1, "complete": 1},
	}
	for _, fd := range rep.Findings {
		if fd.Evaluated {
			want[pool][fd.ID], want[run][fd.ID] = fd.Count, fd.Count
		} else if _, ok := pool.Root[fd.ID]; ok {
			t.Errorf("finding %s was not evaluated but is a metric", fd.ID)
		}
	}
	if want[pool]["PRIVILEGED_MEMBERS_ADDED"] != 3 {
		t.Fatalf("the report found %v PRIVILEGED_MEMBERS_ADDED, want 3", want[pool]["PRIVILEGED_MEMBERS_ADDED"])
	}
	for d, metrics := range want {
		for name, v := range metrics {
			if got, ok := d.Metric(name); !ok || got != v || d.Units[name] != "Count" {
				t.Errorf("line of %v: %s = %v (present %v, unit %q), want %v Count", d.Root["pool"], name, got, ok, d.Units[name], v)
			}
		}
	}
	if dur, ok := pool.Metric("duration"); !ok || dur <= 0 || pool.Units["duration"] != "Seconds" {
		t.Errorf("pool duration %v %q", dur, pool.Units["duration"])
	}

	// Each alarm watches a metric of the line with its dimensions, and
	// decides on this run: a pool failed, one was complete, members were
	// added.
	wantFire := map[string]bool{"failed": true, "complete": false, "PRIVILEGED_MEMBERS_ADDED": true}
	for _, a := range readAlarms(t) {
		var names []string
		for _, d := range a.Dimensions {
			names = append(names, d.Name)
		}
		var doc *emfcheck.Doc
		for _, d := range []*emfcheck.Doc{pool, run} {
			if slices.ContainsFunc(d.Dimensions, func(set []string) bool {
				return slices.Equal(slices.Sorted(slices.Values(set)), slices.Sorted(slices.Values(names)))
			}) {
				doc = d
			}
		}
		if a.Namespace != "CognitoExport" || doc == nil {
			t.Errorf("alarm %s: namespace %s, dimensions %v match no line", a.AlarmName, a.Namespace, names)
			continue
		}
		v, ok := doc.Metric(a.MetricName)
		if !ok {
			t.Errorf("alarm %s watches %s, which the line does not carry (it has %v)", a.AlarmName, a.MetricName, slices.Sorted(maps.Keys(doc.Units)))
			continue
		}
		if fire, known := wantFire[a.MetricName]; !known || a.fires(v) != fire {
			t.Errorf("alarm %s on %s = %v: fires %v, want %v", a.AlarmName, a.MetricName, v, a.fires(v), fire)
		}
	}
}

// TestCloudWatchAlarmsAreValidPutMetricAlarmInput holds each alarm to
// botocore's model of PutMetricAlarm, as the AWS CLI's --cli-input-json
// would before sending it.
func TestCloudWatchAlarmsAreValidPutMetricAlarmInput(t *testing.T) {
	alarms := readAlarms(t)
	for _, a := range alarms {
		if a.Period >= 3600 && a.Period*a.EvaluationPeriods > 7*24*3600 || a.Period < 3600 && a.Period*a.EvaluationPeriods > 24*3600 {
			t.Errorf("alarm %s evaluates over %d s, longer than CloudWatch allows", a.AlarmName, a.Period*a.EvaluationPeriods)
		}
	}
	boto.Require(t)
	script := `
import json, sys
import botocore.session
from botocore.validate import validate_parameters
op = botocore.session.get_session().get_service_model("cloudwatch").operation_model("PutMetricAlarm")
for alarm in json.load(open(sys.argv[1])):
    validate_parameters(alarm, op.input_shape)
    print("ok", alarm["AlarmName"])
`
	out, err := exec.Command(boto.Python, "-c", script, filepath.Join(repoRoot, "configs", "cloudwatch-alarms.json")).CombinedOutput()
	if err != nil || strings.Count(string(out), "ok ") != len(alarms) {
		t.Fatalf("botocore refuses configs/cloudwatch-alarms.json: %v\n%s", err, out)
	}
}
