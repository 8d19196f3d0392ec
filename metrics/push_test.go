package metrics

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestEveryPushesUntilStoppedAndWarnsOnce: pushes go to the pool's group
// until stop returns, and none after; a gateway that fails is one warning,
// not one per interval.
func TestEveryPushesUntilStoppedAndWarnsOnce(t *testing.T) {
	var pushes atomic.Int64
	var mu sync.Mutex
	var paths []string
	failing := atomic.Bool{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if failing.Load() {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		mu.Lock()
		paths = append(paths, r.Method+" "+r.URL.Path)
		mu.Unlock()
		pushes.Add(1)
	}))
	defer srv.Close()
	var logs bytes.Buffer
	var logMu sync.Mutex
	log := slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		logMu.Lock()
		defer logMu.Unlock()
		return logs.Write(p)
	}), nil))
	p, err := NewPusher(srv.URL, nil, log)
	if err != nil {
		t.Fatal(err)
	}
	pr := benchPool()
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); !ok(); time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s did not happen", what)
			}
		}
	}
	stop := p.Every(context.Background(), pr, 5*time.Millisecond)
	waitFor("three pushes", func() bool { return pushes.Load() >= 3 })
	stop()
	after := pushes.Load()
	mu.Lock()
	// The grouping key's order in the path is the push package's; each
	// label is there once. An empty account is base64's "=".
	for _, part := range []string{"POST /metrics/job/cognito-export/", "/account@base64/=", "/pool/eu-west-1_Bench", "/region/eu-west-1"} {
		if strings.Count(paths[0], part) != 1 {
			t.Errorf("pushed to %q, want %q in it once", paths[0], part)
		}
	}
	mu.Unlock()

	failing.Store(true)
	stop = p.Every(context.Background(), pr, 5*time.Millisecond)
	countWarn := func() int {
		logMu.Lock()
		defer logMu.Unlock()
		return strings.Count(logs.String(), "metrics not pushed; the export goes on")
	}
	waitFor("a warning", func() bool { return countWarn() == 1 })
	time.Sleep(50 * time.Millisecond) // ten more failing intervals
	stop()
	if n := countWarn(); n != 1 {
		t.Fatalf("%d warnings for one failing gateway:\n%s", n, logs.String())
	}
	if pushes.Load() != after {
		t.Fatal("a push landed after stop returned")
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
