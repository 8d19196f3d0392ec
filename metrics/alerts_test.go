package metrics

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cognito-export/cognito-export/batch"
)

// TestAlertsWithNeitherChangeNothing: without a gateway or EMF, the run's
// hooks are left as they were.
func TestAlertsWithNeitherChangeNothing(t *testing.T) {
	a, err := NewAlerts(&batch.Plan{RunID: "r"}, AlertOptions{}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	var opts batch.RunOptions
	a.Hook(&opts)
	if opts.Watch != nil || opts.Finished != nil {
		t.Fatal("hooks added with nowhere to send the metrics")
	}
}

// TestAlertsWriteEMFAsPoolsAndTheRunEnd: one line as each pool ends,
// naming it, and one as the run ends.
func TestAlertsWriteEMFAsPoolsAndTheRunEnd(t *testing.T) {
	var out bytes.Buffer
	p := &batch.Plan{RunID: "run-1"}
	a, err := NewAlerts(p, AlertOptions{EMF: &out}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	var opts batch.RunOptions
	a.Hook(&opts)
	if opts.Watch != nil || opts.Finished == nil {
		t.Fatal("EMF needs the pools' end, not their watch")
	}
	opts.Finished(context.Background(), benchPool(), nil)
	if lines := strings.Split(strings.TrimSpace(out.String()), "\n"); len(lines) != 1 || !strings.Contains(lines[0], `"eu-west-1_Bench"`) || !strings.Contains(lines[0], `"run-1"`) {
		t.Fatalf("after a pool, EMF:\n%s", &out)
	}
	a.RunOver(batch.NewRun(p, batch.Found{}, batch.RunOptions{}), time.Second)
	if n := strings.Count(out.String(), "\n"); n != 2 {
		t.Fatalf("after the run, %d EMF lines:\n%s", n, &out)
	}
}

// TestAlertsPushWhileAPoolRunsAndAtItsEnd: the pool's watch pushes until
// it finishes, the console's own finish still called, and its end pushes
// once more.
func TestAlertsPushWhileAPoolRunsAndAtItsEnd(t *testing.T) {
	var pushes, active atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		active.Add(1)
		defer active.Add(-1)
		io.Copy(io.Discard, r.Body)
		pushes.Add(1)
	}))
	defer srv.Close()
	a, err := NewAlerts(&batch.Plan{RunID: "r"}, AlertOptions{PushGateway: srv.URL, Interval: time.Millisecond}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	var finished []bool
	opts := batch.RunOptions{Watch: func(context.Context, *batch.PoolRun) func(bool) {
		return func(complete bool) { finished = append(finished, complete) }
	}}
	a.Hook(&opts)
	pr := benchPool()
	finish := opts.Watch(context.Background(), pr)
	for deadline := time.Now().Add(10 * time.Second); pushes.Load() < 2; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no pushes while the pool runs")
		}
	}
	finish(true)
	if len(finished) != 1 || !finished[0] {
		t.Fatalf("the console's finish got %v, want [true]", finished)
	}
	// A push that stop cancelled may still be in the gateway's hands.
	for deadline := time.Now().Add(10 * time.Second); active.Load() > 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("a push never ended")
		}
	}
	before := pushes.Load()
	opts.Finished(context.Background(), pr, nil)
	if pushes.Load() != before+1 {
		t.Fatalf("%d pushes at the pool's end, want 1", pushes.Load()-before)
	}
}

func TestAlertsRefuseABadGateway(t *testing.T) {
	if _, err := NewAlerts(&batch.Plan{}, AlertOptions{PushGateway: "ftp://x"}, slog.New(slog.DiscardHandler)); err == nil {
		t.Fatal("a gateway that is not http(s) was accepted")
	}
}
