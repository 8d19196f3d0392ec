package memlimit

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
)

// DefaultGCPercent is the collector's GOGC while the live heap is small.
// Each Cognito call allocates ~30 KB in the SDK while the live heap stays
// small (bounded channels, one Parquet row group), so at GOGC=100 the
// collector runs dozens of times a second and takes a third of the CPU;
// at 400 the heap may grow to five times a live set of a few tens of MB.
const DefaultGCPercent = 400

// heapRoom is how far past a large live set the heap may grow before a
// collection, at least: five times a live set of 100 MB (GOGC=400) would
// put a diff's or report's peak RSS past 500 MB. A collection costs in
// proportion to the live set's pointers, so the heap grows at least as far
// as the scannable part of the live set: then the collector takes a bounded
// share of the CPU (BENCHMARKS.md, "Ten million users": a diff's live set
// is all pointers, a report's mostly flat arrays).
const heapRoom = 80 << 20

// minGCPercent bounds how often the collector runs for a huge live set:
// past it, the heap outgrows heapRoom instead.
const minGCPercent = 25

// GCPercentFor is the GOGC at which the heap grows past a live set of live
// bytes, scan of them scannable, by heapRoom or scan, whichever is more,
// between minGCPercent and DefaultGCPercent.
func GCPercentFor(live, scan int64) int {
	if live <= 0 {
		return DefaultGCPercent
	}
	return int(max(minGCPercent, min(DefaultGCPercent, 100*max(heapRoom, scan)/live)))
}

// gcSentinel is an object only the collector frees: its finalizer runs
// after a collection. It holds a pointer so that the allocator does not
// batch it with others.
type gcSentinel struct{ g *Governor }

// afterEachGC runs g.adapt after every collection, from a finalizer that
// re-arms itself: the live set is known only after a collection, and a
// finalizer needs no goroutine of ours waiting on the runtime.
func (g *Governor) afterEachGC() {
	runtime.SetFinalizer(&gcSentinel{g}, func(s *gcSentinel) {
		if s.g.stopped.Load() {
			return
		}
		s.g.adapt(liveHeap())
		s.g.afterEachGC()
	})
}

// Stop ends the adaptation after collections (tests: the runtime's
// settings are the process's).
func (g *Governor) Stop() { g.stopped.Store(true) }

// heapNow is the live heap the last collection marked, and the scannable
// heap (read just after a collection: the scannable part of the live set).
type heapNow struct{ live, scan int64 }

func liveHeap() heapNow {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/gc/scan/heap:bytes"}}
	metrics.Read(s)
	var v [2]int64
	for i := range s {
		if s[i].Value.Kind() == metrics.KindUint64 {
			v[i] = int64(s[i].Value.Uint64())
		}
	}
	return heapNow{live: v[0], scan: min(v[1], v[0])}
}

// adapt sets GOGC for the live heap the last collection found, or the
// largest a job declared: a live set that grows with the pool (the group
// phase's buffers at ten million users) lowers it, so that the heap, and
// the RSS with it, stays near the live set rather than at five times it;
// one that shrinks raises it again. A change under a fifth is left
// alone, so that GOGC does not follow every collection's noise.
func (g *Governor) adapt(h heapNow) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.gcPercent == 0 {
		return // GOGC in the environment rules
	}
	want := GCPercentFor(max(h.live, g.held), max(h.scan, g.heldScan))
	if diff := want - g.gcPercent; diff == 0 || 5*max(diff, -diff) < g.gcPercent && want != minGCPercent && want != DefaultGCPercent {
		return
	}
	g.gcPercent = want
	debug.SetGCPercent(want)
	if g.log != nil {
		g.log.Debug("collector", "gogc", want, "live_heap", Bytes(h.live), "scannable", Bytes(h.scan))
	}
}
