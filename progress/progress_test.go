package progress

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cognito-export/cognito-export/batch"
	"github.com/cognito-export/cognito-export/export"
)

// TestStatusSaysThePhasesProgress holds the words the bar and the log line
// share: the phase, its unit, done of the total (? until known), the ETA.
func TestStatusSaysThePhasesProgress(t *testing.T) {
	tests := []struct {
		name  string
		s     status
		phase string
		bar   string
	}{
		{"before any phase", status{export.ProgressSnapshot{}, export.Pace{ETA: -1}},
			"plan: users 0 of ?", "plan: users 0 of ? | users 0 | rows 0 | 0 calls/s | throttles 0 | ETA unknown"},
		{"group phase, memberships against the estimate",
			status{export.ProgressSnapshot{Phase: export.PhaseGroups, Rows: 300, EstimatedMemberships: 1500, Users: 0, Throttles: 2}, export.Pace{CallsPerSec: 12.4, ETA: 90 * time.Second}},
			"groups: memberships 300 of ~1500", "groups: memberships 300 of ~1500 | users 0 | rows 300 | 12 calls/s | throttles 2 | ETA 1m30s"},
		{"users phase, listed users against the pool's",
			status{export.ProgressSnapshot{Phase: export.PhaseUsers, Listed: 40, Users: 35, Rows: 70, EstimatedUsers: 100}, export.Pace{ETA: 5 * time.Second}},
			"users: users 40 of ~100", "users: users 40 of ~100 | users 35 | rows 70 | 0 calls/s | throttles 0 | ETA 5s"},
		{"users phase, size unknown",
			status{export.ProgressSnapshot{Phase: export.PhaseUsers, Listed: 40}, export.Pace{ETA: -1}},
			"users: users 40 of ?", "users: users 40 of ? | users 0 | rows 0 | 0 calls/s | throttles 0 | ETA unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.s.phaseText(); got != tt.phase {
				t.Errorf("phaseText = %q, want %q", got, tt.phase)
			}
			if got := tt.s.barText(); got != tt.bar {
				t.Errorf("barText = %q, want %q", got, tt.bar)
			}
		})
	}
}

// TestLogLineAttributes: the log line carries the same phase text as the
// bar, and the counts the metrics have, calls_per_second to one decimal.
func TestLogLineAttributes(t *testing.T) {
	s := status{export.ProgressSnapshot{Phase: export.PhaseGroups, Rows: 7, EstimatedMemberships: 20, EstimatedUsers: 9, Users: 3, Skipped: 1,
		Calls: map[string]int64{"ListUsersInGroup": 4, "ListUsers": 2}, Throttles: 1}, export.Pace{CallsPerSec: 2.349, ETA: -1}}
	got := attrMap(s.attrs())
	want := map[string]any{"progress": "groups: memberships 7 of ~20", "done": int64(7), "total": int64(20), "users": int64(3), "estimated_users": int64(9),
		"rows": int64(7), "skipped": int64(1), "calls": int64(6), "calls_per_second": 2.3, "throttles": int64(1), "eta": "unknown"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v (%T), want %v", k, got[k], got[k], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("attributes %v, want exactly %v", got, want)
	}
}

func attrMap(kv []any) map[string]any {
	m := map[string]any{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	return m
}

// lockedBuffer is written by the watcher and read by the test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// waitFor polls until cond holds; it fails the test after a generous bound
// (the behaviour, not the time, is what is tested).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("no %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func poolRun() *batch.PoolRun {
	return &batch.PoolRun{Config: export.Config{UserPoolID: "us-east-1_P", Strategy: export.StrategyAuto}, Progress: &export.Progress{}}
}

// TestWatchLogsLinesOffATerminal: without a screen, a progress line every
// interval until the context ends.
func TestWatchLogsLinesOffATerminal(t *testing.T) {
	var out lockedBuffer
	ctx, cancel := context.WithCancel(context.Background())
	finish := Watch(ctx, poolRun(), Options{Log: slog.New(slog.NewJSONHandler(&out, nil)), Interval: time.Millisecond})
	waitFor(t, "progress line", func() bool { return strings.Count(out.String(), "\n") >= 2 })
	cancel()
	finish(true)
	line, _, _ := strings.Cut(out.String(), "\n")
	var rec map[string]any
	if err := json.Unmarshal([]byte(line), &rec); err != nil {
		t.Fatal(err)
	}
	if rec["msg"] != "progress" || rec["progress"] != "plan: users 0 of ?" || rec["eta"] != "unknown" {
		t.Fatalf("line %s", line)
	}
}

// TestWatchWithoutIntervalIsSilent: --progress-interval 0 logs nothing.
func TestWatchWithoutIntervalIsSilent(t *testing.T) {
	var out lockedBuffer
	ctx, cancel := context.WithCancel(context.Background())
	finish := Watch(ctx, poolRun(), Options{Log: slog.New(slog.NewJSONHandler(&out, nil))})
	cancel()
	finish(true)
	if out.String() != "" {
		t.Fatalf("logged %q", out.String())
	}
}

// screen records what is drawn and which bar the console would clear.
type screen struct {
	out   lockedBuffer
	mu    sync.Mutex
	draws int
	bar   interface{ Clear() error }
}

func (s *screen) Draw(bar interface{ Clear() error }, fn func(io.Writer)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bar = bar
	if bar != nil {
		s.draws++
	}
	fn(&s.out)
}

func (s *screen) drawn() (int, interface{ Clear() error }) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.draws, s.bar
}

// TestWatchDrawsABarOnAScreen: on a screen the bar names the pool and says
// the status; finish leaves no bar for the next log line to clear.
func TestWatchDrawsABarOnAScreen(t *testing.T) {
	var sc screen
	ctx, cancel := context.WithCancel(context.Background())
	finish := Watch(ctx, poolRun(), Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Screen: &sc})
	waitFor(t, "bar drawn", func() bool { n, _ := sc.drawn(); return n > 0 })
	cancel()
	finish(true)
	if _, bar := sc.drawn(); bar != nil {
		t.Fatal("a finished bar is still the console's to clear")
	}
	if s := sc.out.String(); !strings.Contains(s, "us-east-1_P plan: users 0 of ? | users 0 | rows 0") || !strings.HasSuffix(s, "\n") {
		t.Fatalf("screen %q", s)
	}
}
