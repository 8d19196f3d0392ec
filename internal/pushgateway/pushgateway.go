// Package pushgateway starts a real Prometheus Pushgateway (Debian's
// prometheus-pushgateway, installed by scripts/install-test-deps.sh) for
// tests, so that pushed metrics are proven against the gateway's own
// grouping and consistency checks, not against a handler of ours.
package pushgateway

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	dto "github.com/prometheus/client_model/go"

	"github.com/cognito-export/cognito-export/internal/peer"
)

// Binary is the Debian package's program; PUSHGATEWAY overrides it.
func Binary() string {
	if p := os.Getenv("PUSHGATEWAY"); p != "" {
		return p
	}
	return "/usr/bin/prometheus-pushgateway"
}

// Gateway is one running Pushgateway.
type Gateway struct {
	URL  string // http://127.0.0.1:PORT
	Addr string // 127.0.0.1:PORT
}

// Start runs a Pushgateway on a free loopback port, its persistence file
// in a temporary directory, and stops it when the test ends.
func Start(t testing.TB) *Gateway {
	t.Helper()
	peer.Start(t, "prometheus-pushgateway")
	bin := Binary()
	if _, err := exec.LookPath(bin); err != nil {
		peer.Missing(t, fmt.Errorf("prometheus-pushgateway not installed at %s: run scripts/install-test-deps.sh", bin))
		return nil
	}
	addr := FreeAddr(t)
	dir := t.TempDir()
	logFile, err := os.Create(filepath.Join(dir, "pushgateway.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--web.listen-address="+addr, "--persistence.file="+filepath.Join(dir, "pushgateway.data"))
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatalf("start prometheus-pushgateway: %v", err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		logFile.Close()
	})
	g := &Gateway{URL: "http://" + addr, Addr: addr}
	WaitReady(t, g.URL+"/-/ready", logFile.Name())
	return g
}

// FreeAddr is a loopback address with a port free a moment ago.
func FreeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// WaitReady polls url until it answers 200, failing the test with the
// program's log after 15 seconds.
func WaitReady(t testing.TB, url, logName string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(logName)
			t.Fatalf("%s not ready: %v\n%s", url, err, log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Metrics are the gateway's /metrics, parsed: every pushed group's
// families, each sample with its job and grouping labels.
func (g *Gateway) Metrics(t testing.TB) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(g.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	return Parse(t, resp.Body)
}

// Parse reads Prometheus' text format.
func Parse(t testing.TB, r io.Reader) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(r)
	if err != nil {
		t.Fatalf("parse metrics: %v", err)
	}
	return fams
}

// Value is the value of the sample of family name whose labels include
// every pair of want, and whether there is one.
func Value(fams map[string]*dto.MetricFamily, name string, want map[string]string) (float64, bool) {
	f, ok := fams[name]
	if !ok {
		return 0, false
	}
next:
	for _, m := range f.GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if have[k] != v {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Untyped != nil:
			return m.Untyped.GetValue(), true
		}
	}
	return 0, false
}
