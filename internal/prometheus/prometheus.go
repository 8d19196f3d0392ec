// Package prometheus starts a real Prometheus server (Debian's prometheus
// package, installed by scripts/install-test-deps.sh) for tests, scraping
// a target such as a Pushgateway, and runs PromQL queries on it: a
// dashboard's queries are proven on the server that would run them.
package prometheus

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/cognito-export/cognito-export/internal/peer"
	"github.com/cognito-export/cognito-export/internal/pushgateway"
)

// Binary is the Debian package's program; PROMETHEUS overrides it.
func Binary() string {
	if p := os.Getenv("PROMETHEUS"); p != "" {
		return p
	}
	return "/usr/bin/prometheus"
}

// Server is one running Prometheus.
type Server struct {
	URL string
}

// Start runs Prometheus on a free loopback port, its data in a temporary
// directory, scraping target (host:port) every second with honor_labels,
// as a Pushgateway's scrape must be configured; it is stopped when the
// test ends.
func Start(t testing.TB, target string) *Server {
	t.Helper()
	peer.Start(t, "prometheus")
	bin := Binary()
	if _, err := exec.LookPath(bin); err != nil {
		peer.Missing(t, fmt.Errorf("prometheus not installed at %s: run scripts/install-test-deps.sh", bin))
		return nil
	}
	dir := t.TempDir()
	config := fmt.Sprintf(`global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: pushgateway
    honor_labels: true
    static_configs:
      - targets: [%q]
`, target)
	cfgPath := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfgPath, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := pushgateway.FreeAddr(t)
	logFile, err := os.Create(filepath.Join(dir, "prometheus.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--config.file="+cfgPath, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatalf("start prometheus: %v", err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		logFile.Close()
	})
	s := &Server{URL: "http://" + addr}
	pushgateway.WaitReady(t, s.URL+"/-/ready", logFile.Name())
	return s
}

// Sample is one series of an instant query's result.
type Sample struct {
	Metric map[string]string `json:"metric"`
	Value  [2]any            `json:"value"`
}

// Query runs an instant PromQL query now and returns its series; a query
// Prometheus refuses fails the test.
func (s *Server) Query(t testing.TB, promql string) []Sample {
	t.Helper()
	resp, err := http.Get(s.URL + "/api/v1/query?query=" + url.QueryEscape(promql))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			ResultType string          `json:"resultType"`
			Result     json.RawMessage `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("query %s: %v", promql, err)
	}
	if body.Status != "success" {
		t.Fatalf("query %s: %s", promql, body.Error)
	}
	var samples []Sample
	switch body.Data.ResultType {
	case "vector":
		if err := json.Unmarshal(body.Data.Result, &samples); err != nil {
			t.Fatalf("query %s: %v", promql, err)
		}
	case "scalar":
		samples = []Sample{{}}
	}
	return samples
}

// WaitFor queries promql until it returns at least one series, failing
// the test after 30 seconds: the first scrapes take a moment.
func (s *Server) WaitFor(t testing.TB, promql string) []Sample {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if got := s.Query(t, promql); len(got) > 0 {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("no series for %s after 30s", promql)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
