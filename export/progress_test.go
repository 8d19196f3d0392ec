package export_test

import (
	"testing"
	"time"

	"github.com/cognito-export/cognito-export/export"
)

func snapshot(phase string, users, listed, rows, estUsers, estMembers int64) export.ProgressSnapshot {
	return export.ProgressSnapshot{Phase: phase, Users: users, Listed: listed, Rows: rows, EstimatedUsers: estUsers,
		EstimatedMemberships: estMembers, Calls: map[string]int64{}}
}

// The ETA of a run is its current phase's, from its own pace in that
// phase's unit, and unknown rather than wrong.
func TestPaceSince(t *testing.T) {
	g, u := export.PhaseGroups, export.PhaseUsers
	tests := []struct {
		name       string
		first, now export.ProgressSnapshot
		elapsed    time.Duration
		want       time.Duration
	}{
		{"users pace", snapshot(u, 0, 0, 0, 0, 0), snapshot(u, 100, 100, 150, 1000, 0), 10 * time.Second, 90 * time.Second},
		{"resumed: only this run's pace counts", snapshot(u, 500, 500, 0, 0, 0), snapshot(u, 600, 600, 0, 1000, 0), 10 * time.Second, 40 * time.Second},
		{"by-group's pass counts the users it lists, not those it exports", snapshot(u, 800, 0, 0, 0, 0), snapshot(u, 820, 100, 0, 1000, 0), 10 * time.Second, 90 * time.Second},
		{"no estimate", snapshot(u, 0, 0, 0, 0, 0), snapshot(u, 100, 100, 0, 0, 0), 10 * time.Second, -1},
		{"estimate passed", snapshot(u, 0, 0, 0, 0, 0), snapshot(u, 1200, 1200, 0, 1000, 0), 10 * time.Second, -1},
		{"nothing done yet", snapshot(u, 0, 0, 0, 0, 0), snapshot(u, 0, 0, 0, 1000, 0), 10 * time.Second, -1},
		{"group phase counts memberships", snapshot(g, 0, 0, 0, 0, 0), snapshot(g, 0, 0, 300, 1000, 1500), 10 * time.Second, 40 * time.Second},
		{"group phase without a sample", snapshot(g, 0, 0, 0, 0, 0), snapshot(g, 0, 0, 300, 1000, 0), 10 * time.Second, -1},
		{"another phase since first", snapshot(g, 0, 0, 0, 0, 0), snapshot(u, 0, 100, 300, 1000, 1500), 10 * time.Second, -1},
	}
	for _, tt := range tests {
		if got := tt.now.PaceSince(tt.first, tt.elapsed).ETA; got != tt.want {
			t.Errorf("%s: ETA %v, want %v", tt.name, got, tt.want)
		}
	}
}
