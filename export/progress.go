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
	// What the whole export should come to, 0 until known: users from
	// DescribeUserPool, rows from the estimate's sample.
	estUsers, estRows atomic.Int64
	strategy          atomic.Pointer[string]
	calls             cognito.Calls
}

// ProgressSnapshot is Progress at one instant.
type ProgressSnapshot struct {
	Users, Rows, Skipped int64
	// EstimatedUsers and EstimatedRows are 0 until known.
	EstimatedUsers, EstimatedRows int64
	Calls                         map[string]int64
	Throttles, Retries            int64
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

// PaceSince compares s with first, a snapshot taken elapsed earlier. Only
// this run's pace counts: a resumed export starts from its checkpoint's
// totals. Users are counted as ListUsers pages are written; by-group's
// group phase writes rows before it counts users, so there rows stand in
// for them.
func (s ProgressSnapshot) PaceSince(first ProgressSnapshot, elapsed time.Duration) Pace {
	p := Pace{ETA: -1}
	secs := elapsed.Seconds()
	if secs <= 0 {
		return p
	}
	p.CallsPerSec = float64(s.TotalCalls()-first.TotalCalls()) / secs
	if eta, ok := remaining(first.Users+first.Skipped, s.Users+s.Skipped, s.EstimatedUsers, secs); ok {
		p.ETA = eta
	} else if eta, ok := remaining(first.Rows, s.Rows, s.EstimatedRows, secs); ok {
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
		Users: p.users.Load(), Rows: p.rows.Load(), Skipped: p.skipped.Load(),
		EstimatedUsers: p.estUsers.Load(), EstimatedRows: p.estRows.Load(),
		Calls: p.calls.ByOperation(), Throttles: p.calls.Throttles(), Retries: p.calls.Retries(),
		Strategy: *cmp.Or(p.strategy.Load(), new(string)),
	}
}

// decided records the strategy the run uses.
func (p *Progress) decided(strategy string) {
	if p != nil {
		p.strategy.Store(&strategy)
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
}
