package export

import "sync/atomic"

// Progress is a live view of a running export for whoever watches it (a
// progress bar, a log line, a metrics endpoint): totals committed so far,
// resumed runs included, and this run's Cognito calls. It is safe to read
// from any goroutine while the export writes it; a nil *Progress is
// valid and counts nothing.
type Progress struct {
	users, rows, skipped atomic.Int64
	calls                Calls
}

// ProgressSnapshot is Progress at one instant.
type ProgressSnapshot struct {
	Users, Rows, Skipped int64
	Calls                map[string]int64
	Throttles, Retries   int64
}

// TotalCalls adds up the calls of every operation.
func (s ProgressSnapshot) TotalCalls() int64 {
	var n int64
	for _, c := range s.Calls {
		n += c
	}
	return n
}

// Snapshot reads the counters.
func (p *Progress) Snapshot() ProgressSnapshot {
	if p == nil {
		return ProgressSnapshot{Calls: map[string]int64{}}
	}
	return ProgressSnapshot{
		Users: p.users.Load(), Rows: p.rows.Load(), Skipped: p.skipped.Load(),
		Calls: p.calls.ByOperation(), Throttles: p.calls.Throttles(), Retries: p.calls.Retries(),
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
func (p *Progress) callCounter() *Calls {
	if p == nil {
		return &Calls{}
	}
	return &p.calls
}
