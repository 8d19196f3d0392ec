package main

import (
	"regexp"
	"strings"
	"testing"

	"github.com/cognito-export/cognito-export/internal/cognitoemu"
	"github.com/cognito-export/cognito-export/internal/prometheus"
	"github.com/cognito-export/cognito-export/internal/pushgateway"
)

type dashboard struct {
	Inputs []struct{ Name, PluginID string } `json:"__inputs"`
	Panels []struct {
		Title      string
		Datasource struct{ Type, UID string }
		Targets    []struct{ Expr string }
	}
	Templating struct {
		List []struct {
			Name  string
			Query struct{ Query string }
		}
	}
}

// grafanaVars are what Grafana puts for the dashboard's variables: every
// pool.
var grafanaVars = strings.NewReplacer("$pool", ".+")

// TestGrafanaDashboardQueriesReturnData pushes a run of two pools, one
// failing, to a real Pushgateway that a real Prometheus scrapes, then runs
// every query of configs/grafana-dashboard.json there: each names only
// metrics the binary pushed, and each returns data.
func TestGrafanaDashboardQueriesReturnData(t *testing.T) {
	var d dashboard
	readJSON(t, "grafana-dashboard.json", &d)
	if len(d.Panels) < 6 || len(d.Inputs) != 1 || d.Inputs[0].PluginID != "prometheus" {
		t.Fatalf("%d panels, inputs %v: want the panels and one Prometheus data source", len(d.Panels), d.Inputs)
	}
	gw := pushgateway.Start(t)
	prom := prometheus.Start(t, gw.Addr)
	a := cognitoemu.NewPool(cognitoemu.PoolSpec{ID: "us-east-1_DashA", Users: 300, Groups: 12, Seed: 4})
	url := startServer(t, cognitoemu.NewServer(cognitoemu.Options{}, a))
	dir := t.TempDir()
	file := writeConfig(t, `
endpoint-url: `+url+`
output: `+dir+`/pool={pool}
pools:
  - user-pool-id: us-east-1_DashA
  - user-pool-id: us-east-1_DashMissing
`)
	if r := runCLI(t, cleanEnv(creds()...), "export", "--config", file, "--report", "--push-gateway", gw.URL); r.code != 1 {
		t.Fatalf("exit %d, want 1 (one pool failed): %s", r.code, lastLine(r.stderr))
	}
	pushed := gw.Metrics(t)
	// Prometheus has scraped the gateway once the last pushed family is
	// there.
	prom.WaitFor(t, `cognito_export_pool_state{job="cognito-export",pool="us-east-1_DashMissing",state="failed"} == 1`)
	prom.WaitFor(t, `cognito_export_findings{job="cognito-export"}`)

	metricName := regexp.MustCompile(`\bcognito_export_[a-z_]+`)
	queries := 0
	check := func(where, expr string) {
		queries++
		for _, name := range metricName.FindAllString(expr, -1) {
			if _, ok := pushed[name]; !ok {
				t.Errorf("%s queries %s, which the binary does not push", where, name)
			}
		}
		if got := prom.Query(t, grafanaVars.Replace(expr)); len(got) == 0 {
			t.Errorf("%s: %s returns no data", where, expr)
		}
	}
	// The calls are summed by the quota category each operation draws on.
	byCategory := false
	for _, p := range d.Panels {
		for _, tg := range p.Targets {
			if strings.HasPrefix(tg.Expr, "sum by (category)") {
				for _, s := range prom.Query(t, grafanaVars.Replace(tg.Expr)) {
					byCategory = byCategory || s.Metric["category"] == "UserResourceRead"
				}
			}
		}
	}
	if !byCategory {
		t.Error("no panel sums the calls by quota category, or its query gives no UserResourceRead")
	}
	for _, p := range d.Panels {
		if len(p.Targets) == 0 || p.Datasource.UID != "${DS_PROMETHEUS}" {
			t.Errorf("panel %q: %d queries, data source %q", p.Title, len(p.Targets), p.Datasource.UID)
		}
		for _, tg := range p.Targets {
			check("panel "+p.Title, tg.Expr)
		}
	}
	for _, v := range d.Templating.List {
		// label_values(SELECTOR, LABEL) is Grafana's: Prometheus runs the
		// selector.
		m := regexp.MustCompile(`^label_values\((.+), *(\w+)\)$`).FindStringSubmatch(v.Query.Query)
		if m == nil {
			t.Errorf("variable %s: query %q", v.Name, v.Query.Query)
			continue
		}
		check("variable "+v.Name, m[1])
	}
	if queries < len(d.Panels) {
		t.Fatalf("only %d queries checked", queries)
	}
}
