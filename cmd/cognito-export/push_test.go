package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cognito-export/cognito-export/internal/cognitoemu"
	"github.com/cognito-export/cognito-export/internal/pushgateway"
)

// TestPushGatewayHoldsEveryPoolsGroup runs two pools, one that does not
// exist, against a real Pushgateway: pushes land while the first runs, and
// after the run the gateway holds one group per pool, the complete one with
// its counts, last success and findings, the failed one with its failure.
func TestPushGatewayHoldsEveryPoolsGroup(t *testing.T) {
	gw := pushgateway.Start(t)
	a := cognitoemu.NewPool(cognitoemu.PoolSpec{ID: "us-east-1_PushA", Users: 3000, Groups: 20, Seed: 3})
	url := startServer(t, cognitoemu.NewServer(cognitoemu.Options{}, a))
	dir := t.TempDir()
	file := writeConfig(t, `
endpoint-url: `+url+`
output: `+dir+`/pool={pool}
strategy: per-user
rate: [UserResourceRead=1500]
pools:
  - user-pool-id: us-east-1_PushA
  - user-pool-id: us-east-1_PushMissing
`)
	start := time.Now()
	l := startCLI(t, cleanEnv(creds()...), "export", "--config", file, "--log-format", "json", "--report",
		"--push-gateway", gw.URL, "--progress-interval", "100ms")
	groupA := map[string]string{"job": "cognito-export", "pool": "us-east-1_PushA", "account": "", "region": "us-east-1"}
	groupMissing := map[string]string{"job": "cognito-export", "pool": "us-east-1_PushMissing", "account": "", "region": "us-east-1"}
	with := func(g map[string]string, k, v string) map[string]string {
		m := map[string]string{k: v}
		for key, val := range g {
			m[key] = val
		}
		return m
	}

	// While A runs: a push says so, with some of its users.
	deadline := time.Now().Add(30 * time.Second)
	for {
		fams := gw.Metrics(t)
		running, _ := pushgateway.Value(fams, "cognito_export_pool_state", with(groupA, "state", "running"))
		users, _ := pushgateway.Value(fams, "cognito_export_users_total", groupA)
		if running == 1 && users > 0 && users < 3000 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no push of the running pool (running=%v users=%v)", running, users)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if code := l.wait(t); code != 1 {
		t.Fatalf("exit %d, want 1 (one pool failed):\n%s", code, l.allStderr())
	}
	fams := gw.Metrics(t)
	want := []struct {
		name   string
		labels map[string]string
		value  float64
	}{
		{"cognito_export_users_total", groupA, 3000},
		{"cognito_export_rows_total", groupA, rowsOf(a)},
		{"cognito_export_pool_state", with(groupA, "state", "complete"), 1},
		{"cognito_export_pool_state", with(groupA, "state", "running"), 0},
		{"cognito_export_pool_state", with(groupMissing, "state", "failed"), 1},
		{"cognito_export_pool_state", with(groupMissing, "state", "complete"), 0},
		{"cognito_export_rate_limit", with(groupA, "category", "UserResourceRead"), 1500},
	}
	for _, w := range want {
		if v, ok := pushgateway.Value(fams, w.name, w.labels); !ok || v != w.value {
			t.Errorf("%s%v = %v (present %v), want %v", w.name, w.labels, v, ok, w.value)
		}
	}
	if v, ok := pushgateway.Value(fams, "cognito_export_calls_total", with(groupA, "operation", "AdminListGroupsForUser")); !ok || v < 3000 {
		t.Errorf("AdminListGroupsForUser calls of A: %v (present %v)", v, ok)
	}
	success, ok := pushgateway.Value(fams, "cognito_export_last_success_timestamp_seconds", groupA)
	if !ok || success < float64(start.Unix()) || success > float64(time.Now().Unix()+1) {
		t.Errorf("last success of A = %v (present %v), want a time of this run", success, ok)
	}
	if _, ok := pushgateway.Value(fams, "cognito_export_last_success_timestamp_seconds", groupMissing); ok {
		t.Error("the failed pool has a last success")
	}
	if d, ok := pushgateway.Value(fams, "cognito_export_duration_seconds", groupA); !ok || d <= 0 || d > time.Since(start).Seconds() {
		t.Errorf("duration of A = %v (present %v)", d, ok)
	}
	// Every finding the report evaluated, with the report's count.
	var rep struct {
		Findings []struct {
			ID        string `json:"id"`
			Evaluated bool   `json:"evaluated"`
			Count     int64  `json:"count"`
		} `json:"findings"`
	}
	data, err := os.ReadFile(filepath.Join(dir, "pool=us-east-1_PushA", "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	evaluated := 0
	for _, fd := range rep.Findings {
		v, ok := pushgateway.Value(fams, "cognito_export_findings", with(groupA, "id", fd.ID))
		if ok != fd.Evaluated || fd.Evaluated && v != float64(fd.Count) {
			t.Errorf("finding %s: pushed %v (present %v), report says %d (evaluated %v)", fd.ID, v, ok, fd.Count, fd.Evaluated)
		}
		if fd.Evaluated {
			evaluated++
		}
	}
	if evaluated == 0 {
		t.Fatal("the report evaluated no finding: the check of pushed findings proves nothing")
	}
}

// TestUnreachablePushGatewayIsAWarning: the export completes, exit 0,
// with a warning that names the failure.
func TestUnreachablePushGatewayIsAWarning(t *testing.T) {
	pool, url := startEmu(t, 200, cognitoemu.Options{})
	closed := "http://" + pushgateway.FreeAddr(t)
	r := runCLI(t, cleanEnv(creds()...), "export", "--endpoint-url", url, "--user-pool-id", pool.ID(), "--output", t.TempDir(),
		"--log-format", "json", "--push-gateway", closed)
	if r.code != 0 {
		t.Fatalf("exit %d:\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, `"level":"WARN","msg":"metrics not pushed at the end of the pool's run"`) {
		t.Fatalf("no warning about the push:\n%s", r.stderr)
	}
	r = runCLI(t, cleanEnv(creds()...), "export", "--endpoint-url", url, "--user-pool-id", pool.ID(), "--output", t.TempDir(),
		"--push-gateway", "gateway:9091")
	if r.code != 2 || !strings.Contains(r.stderr, "--push-gateway: not a Pushgateway URL") {
		t.Fatalf("bad URL: exit %d:\n%s", r.code, r.stderr)
	}
}

// rowsOf is the rows an export of p holds: a row per membership, and one
// for each user without groups.
func rowsOf(p *cognitoemu.Pool) float64 {
	rows := 0
	for i := range p.NumUsers() {
		if p.Exists(i) {
			rows += max(len(p.UserGroups(i, nil)), 1)
		}
	}
	return float64(rows)
}
