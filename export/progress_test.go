package export_test

import (
	"testing"
	"time"

	"github.com/cognito-export/cognito-export/export"
)

func snapshot(users, rows, estUsers, estRows int64) export.ProgressSnapshot {
	return export.ProgressSnapshot{Users: users, Rows: rows, EstimatedUsers: estUsers, EstimatedRows: estRows, Calls: map[string]int64{}}
}

// The ETA of a run is from its own pace, users first, rows when users are
// not counted yet, and unknown rather than wrong.
func TestPaceSince(t *testing.T) {
	tests := []struct {
		name                     string
		firstUsers, users, est   int64
		firstRows, rows, estRows int64
		elapsed                  time.Duration
		want                     time.Duration
	}{
		{"users pace", 0, 100, 1000, 0, 0, 0, 10 * time.Second, 90 * time.Second},
		{"resumed: only this run's pace counts", 500, 600, 1000, 0, 0, 0, 10 * time.Second, 40 * time.Second},
		{"no estimate", 0, 100, 0, 0, 0, 0, 10 * time.Second, -1},
		{"estimate passed", 0, 1200, 1000, 0, 0, 0, 10 * time.Second, -1},
		{"nothing done yet", 0, 0, 1000, 0, 0, 0, 10 * time.Second, -1},
		{"group phase: rows stand in", 0, 0, 1000, 0, 300, 1500, 10 * time.Second, 40 * time.Second},
	}
	for _, tt := range tests {
		first := snapshot(tt.firstUsers, tt.firstRows, 0, 0)
		now := snapshot(tt.users, tt.rows, tt.est, tt.estRows)
		if got := now.PaceSince(first, tt.elapsed).ETA; got != tt.want {
			t.Errorf("%s: ETA %v, want %v", tt.name, got, tt.want)
		}
	}
}
