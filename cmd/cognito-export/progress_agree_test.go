package main

import (
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/cognito-export/cognito-export/internal/cognitoemu"
)

// TestProgressAgreesInEveryPhase forces by-group (no estimate from auto)
// and reads the log's progress lines and the served metrics while it
// runs: both phases have a total and an ETA, and the log line and the
// metrics give the same phase, unit and total, and a done the metrics
// never run ahead of. The bar is drawn from the same status (barText).
func TestProgressAgreesInEveryPhase(t *testing.T) {
	pool := cognitoemu.NewPool(cognitoemu.PoolSpec{Users: 3000, Groups: 20, Seed: 11})
	url := startServer(t, cognitoemu.NewServer(cognitoemu.Options{}, pool))
	l := startCLI(t, cleanEnv(creds()...), "export", "--endpoint-url", url, "--user-pool-id", pool.ID(), "--output", t.TempDir(),
		"--strategy", "by-group", "--rate", "UserList=40", "--rate", "UserResourceRead=2000", "--page-size", "20", "--progress-interval", "200ms",
		"--metrics-addr", "127.0.0.1:0", "--log-format", "json")
	line := l.waitLine(t, "serving metrics")
	addr := regexp.MustCompile(`"metrics_addr":"([^"]+)"`).FindStringSubmatch(line)
	if addr == nil {
		t.Fatalf("no metrics_addr in %s", line)
	}
	metricRE := func(name string) *regexp.Regexp {
		return regexp.MustCompile(name + `\{account="",phase="(\w+)",pool="[^"]+",region="[^"]+",unit="(\w+)"\} (\d+)`)
	}
	doneRE, totalRE := metricRE("cognito_export_phase_done"), metricRE("cognito_export_phase_total")
	type view struct {
		phase, unit string
		done, total int64
		eta         string
	}
	seen := map[string]bool{} // phases where log and metrics agreed with an ETA
	deadline := time.Now().Add(60 * time.Second)
	for len(seen) < 2 && time.Now().Before(deadline) {
		var logged view
		var rec struct {
			Progress    string `json:"progress"`
			Done, Total int64
			ETA         string `json:"eta"`
		}
		if err := json.Unmarshal([]byte(l.waitLine(t, `"msg":"progress"`)), &rec); err != nil {
			t.Fatal(err)
		}
		m := regexp.MustCompile(`^(\w+): (\w+) \d+ of`).FindStringSubmatch(rec.Progress)
		if m == nil {
			t.Fatalf("progress %q", rec.Progress)
		}
		logged = view{m[1], m[2], rec.Done, rec.Total, rec.ETA}
		resp, err := http.Get("http://" + addr[1] + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		d, tot := doneRE.FindStringSubmatch(string(body)), totalRE.FindStringSubmatch(string(body))
		if d == nil || tot == nil {
			t.Fatalf("no phase metrics served:\n%s", body)
		}
		if d[1] != logged.phase {
			continue // the phase changed between the log line and the scrape
		}
		done, _ := strconv.ParseInt(d[3], 10, 64)
		total, _ := strconv.ParseInt(tot[3], 10, 64)
		if d[2] != logged.unit || total != logged.total || done < logged.done {
			t.Fatalf("log says %s %s %d of %d; metrics %s %s %d of %d", logged.phase, logged.unit, logged.done, logged.total, d[1], d[2], done, total)
		}
		want := map[string]string{"groups": "memberships", "users": "users"}[logged.phase]
		if logged.unit != want {
			t.Fatalf("phase %s counts %s, want %s", logged.phase, logged.unit, want)
		}
		// The total is unknown (0) until DescribeUserPool and the sample
		// answer; then the phase has an ETA.
		if logged.total > 0 && logged.eta != "unknown" && logged.done > 0 && logged.done < logged.total {
			seen[logged.phase] = true
		}
	}
	if !seen["groups"] || !seen["users"] {
		t.Fatalf("phases with progress and an ETA in the log and the metrics: %v, want groups and users", seen)
	}
	if code := l.wait(t); code != 0 {
		t.Fatalf("exit %d", code)
	}
}
