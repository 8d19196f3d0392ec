package export

import (
	"cmp"
	"sync/atomic"
	"time"

	"github.com/cognito-export/cognito-export/cognito"
)

// Progress is a live view of a running export for whoever watches it (a
// progress bar, a log line, a metrics endpoint): totals committed so far,
// resumed runs included, and this run's Cognito calls. It is safe to read
// from any goroutine while the export writes it; a nil *Progress is
// valid and counts nothing.
type Progress struct {
	users, rows, skipped atomic.Int64
	// listed counts the users of the ListUsers pages written, whether the
	// page exported them or the group phase had (by-group's pass).
	listed atomic.Int64
	// What the whole export should come to, 0 until known: users from
	// DescribeUserPool, rows and memberships from the estimate's sample.
	estUsers, estRows, estMemberships atomic.Int64
	strategy, phase                   atomic.Pointer[string]
	calls                             cognito.Calls
}

// The phases of a run: by-group's group phase (ListUsersInGroup), then the
// ListUsers pass that every strategy makes.
const (
	PhaseGroups = "groups"
	PhaseUsers  = "users"
)

// ProgressSnapshot is Progress at one instant.
type ProgressSnapshot struct {
	Users, Rows, Skipped int64
	// Listed is the users of the ListUsers pages written so far.
	Listed int64
	// EstimatedUsers, EstimatedRows and EstimatedMemberships are 0 until
	// known.
	EstimatedUsers, EstimatedRows, EstimatedMemberships int64
	// Phase is PhaseGroups or PhaseUsers, "" before the first.
	Phase              string
	Calls              map[string]int64
	Throttles, Retries int64
	// ThrottlesOf is Throttles by operation (only those that had any).
	ThrottlesOf map[string]int64
	// Strategy is the one the run uses, "" until it is decided.
	Strategy string
}

// TotalCalls adds up the calls of every operation.
func (s ProgressSnapshot) TotalCalls() int64 {
	var n int64
	for _, c := range s.Calls {
		n += c
	}
	return n
}

// Pace is how fast an export goes, measured between two snapshots of one
// run.
type Pace struct {
	CallsPerSec float64
	ETA         time.Duration // -1 when unknown
}

// PhaseProgress is how far the current phase is, in its own unit: the
// group phase counts memberships (rows) against DescribeUserPool's users
// times the sampled memberships per user; the ListUsers pass counts the
// users it listed against DescribeUserPool's users. total is 0 until
// known. The bar, the log line and the metrics all show this.
func (s ProgressSnapshot) PhaseProgress() (unit string, done, total int64) {
	if s.Phase == PhaseGroups {
		return "memberships", s.Rows, s.EstimatedMemberships
	}
	return "users", s.Listed, s.EstimatedUsers
}

// PaceSince compares s with first, a snapshot taken elapsed earlier in the
// same phase (a watcher starts again when the phase changes). Only this
// run's pace counts: a resumed export starts from its checkpoint's totals.
// The ETA is the current phase's.
func (s ProgressSnapshot) PaceSince(first ProgressSnapshot, elapsed time.Duration) Pace {
	p := Pace{ETA: -1}
	secs := elapsed.Seconds()
	if secs <= 0 {
		return p
	}
	p.CallsPerSec = float64(s.TotalCalls()-first.TotalCalls()) / secs
	if first.Phase != s.Phase {
		return p
	}
	_, before, _ := first.PhaseProgress()
	_, done, total := s.PhaseProgress()
	if eta, ok := remaining(before, done, total, secs); ok {
		p.ETA = eta
	}
	return p
}

// remaining is the time to go from done to total at the pace since before.
func remaining(before, done, total int64, secs float64) (time.Duration, bool) {
	if total <= done || done <= before {
		return 0, false
	}
	perSec := float64(done-before) / secs
	return time.Duration(float64(total-done) / perSec * float64(time.Second)).Round(time.Second), true
}

// Snapshot reads the counters.
func (p *Progress) Snapshot() ProgressSnapshot {
	if p == nil {
		return ProgressSnapshot{Calls: map[string]int64{}}
	}
	return ProgressSnapshot{
		Users: p.users.Load(), Rows: p.rows.Load(), Skipped: p.skipped.Load(), Listed: p.listed.Load(),
		EstimatedUsers: p.estUsers.Load(), EstimatedRows: p.estRows.Load(), EstimatedMemberships: p.estMemberships.Load(),
		Phase: *cmp.Or(p.phase.Load(), new(string)),
		Calls: p.calls.ByOperation(), Throttles: p.calls.Throttles(), Retries: p.calls.Retries(),
		ThrottlesOf: p.calls.ThrottlesByOperation(),
		Strategy:    *cmp.Or(p.strategy.Load(), new(string)),
	}
}

// decided records the strategy the run uses.
func (p *Progress) decided(strategy string) {
	if p != nil {
		p.strategy.Store(&strategy)
	}
}

// entered records the phase the run is in.
func (p *Progress) entered(phase string) {
	if p != nil {
		p.phase.Store(&phase)
	}
}

// listedUsers adds the users of ListUsers pages written; setListed sets
// the count a resumed pass starts from.
func (p *Progress) listedUsers(n int64) {
	if p != nil {
		p.listed.Add(n)
	}
}

func (p *Progress) setListed(n int64) {
	if p != nil {
		p.listed.Store(n)
	}
}

// written records the export's totals after a page was written.
func (p *Progress) written(users, rows, skipped int64) {
	if p == nil {
		return
	}
	p.users.Store(users)
	p.rows.Store(rows)
	p.skipped.Store(skipped)
}

// callCounter is where the run's client counts its calls: the watcher's
// counters when there is one, so that it sees calls as they happen.
func (p *Progress) callCounter() *cognito.Calls {
	if p == nil {
		return &cognito.Calls{}
	}
	return &p.calls
}

// estimated records the size of the export from a strategy estimate.
func (p *Progress) estimated(est Estimate) {
	if p == nil {
		return
	}
	p.estUsers.Store(est.Users)
	p.estRows.Store(est.Rows)
	p.estMemberships.Store(int64(float64(est.Users) * est.MembershipsPerUser))
}
