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
// collection: five times a live set of 100 MB (GOGC=400) would put a
// diff's or report's peak RSS past 500 MB, where twice it costs them a few
// percent more CPU (BENCHMARKS.md, "Ten million users").
const heapRoom = 128 << 20

// GCPercentFor is the GOGC at which the heap grows heapRoom past a live
// set of live bytes, between 100 (twice the live set) and
// DefaultGCPercent.
func GCPercentFor(live int64) int {
	if live <= 0 {
		return DefaultGCPercent
	}
	return int(max(100, min(DefaultGCPercent, 100*heapRoom/live)))
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

func liveHeap() int64 {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return int64(s[0].Value.Uint64())
}

// adapt sets GOGC for the live heap the last collection found, or the
// largest a job declared: a live set that grows with the pool (the group
// phase's buffers at ten million users) lowers it, so that the heap, and
// the RSS with it, stays heapRoom past the live set rather than four times
// it; one that shrinks raises it again. A change under a fifth is left
// alone, so that GOGC does not follow every collection's noise.
func (g *Governor) adapt(live int64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.gcPercent == 0 {
		return // GOGC in the environment rules
	}
	want := GCPercentFor(max(live, g.held))
	if diff := want - g.gcPercent; diff == 0 || 5*max(diff, -diff) < g.gcPercent && want != 100 && want != DefaultGCPercent {
		return
	}
	g.gcPercent = want
	debug.SetGCPercent(want)
	if g.log != nil {
		g.log.Debug("collector", "gogc", want, "live_heap", Bytes(live))
	}
}
