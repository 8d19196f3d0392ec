// Package fuzzcheck holds what the module's fuzz targets check of a reader
// of outside bytes besides not panicking: that it allocates no more than
// its input justifies, so that a length field of 2^31 in a 1 KB file
// cannot make it allocate 2 GB. Only tests import it.
package fuzzcheck

import (
	"fmt"
	"runtime"
	"testing"
	"time"
)

// Bound is what a reader may allocate for an input of n bytes: PerByte
// bytes for each byte of it, and Fixed for the buffers it sets up whatever
// the input (a 1 MiB read buffer, say).
//
// It is measured, not estimated: the heap's TotalAlloc before and after
// the call. That counts every allocation, by the reader's own goroutines
// too, made during the call, and cannot miss one that a limit reader around
// the input would (a length taken from the input and handed to make). A
// reader that allocates in proportion to a declared length instead of to
// the bytes there fails it at once: 2^31 is well over any PerByte times a
// fuzzer's input. Other goroutines of the test binary allocate too, but the
// seeds run after the package's tests and the fuzzer's worker runs one input
// at a time, so Fixed leaves room enough for that.
type Bound struct {
	PerByte uint64
	Fixed   uint64
}

// Default suits a reader that keeps a few copies of its input and a
// structure per record: 64 bytes a byte, 1 MiB for buffers.
var Default = Bound{PerByte: 64, Fixed: 1 << 20}

// Allowed is how many bytes the bound allows for n bytes of input.
func (b Bound) Allowed(n int) uint64 { return b.PerByte*uint64(n) + b.Fixed }

// Hang is how long one input may take before Check calls it a hang.
const Hang = 20 * time.Second

// Check runs fn, which reads an input of n bytes, and fails t when it
// allocated more than the bound allows. An input that keeps fn busy for
// Hang crashes the process: go test -fuzz has no time limit of its own for
// an input, and would spend the rest of its time on one that never ends,
// saying nothing; a crash makes it keep the input under testdata/fuzz and
// print every goroutine, the stuck loop among them.
func (b Bound) Check(t testing.TB, n int, fn func()) {
	t.Helper()
	hung := time.AfterFunc(Hang, func() {
		panic(fmt.Sprintf("fuzzcheck: reading %d bytes of input still runs after %s: a loop that does not advance?", n, Hang))
	})
	defer hung.Stop()
	if err := b.check(n, fn); err != nil {
		t.Fatal(err)
	}
}

func (b Bound) check(n int, fn func()) error {
	if got := Allocated(fn); got > b.Allowed(n) {
		return fmt.Errorf("allocated %d bytes reading %d bytes of input; at most %d (%d a byte + %d) are justified", got, n, b.Allowed(n), b.PerByte, b.Fixed)
	}
	return nil
}

// Allocated runs fn and returns the bytes allocated on the heap meanwhile.
func Allocated(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}
