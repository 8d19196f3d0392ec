package fuzzcheck

import (
	"encoding/binary"
	"testing"
)

var keep []byte

// TestCheckCatchesALengthTakenFromTheInput proves the check can fail: a
// reader that makes a slice of the length its input declares is caught,
// one that checks the length against what is left is not.
func TestCheckCatchesALengthTakenFromTheInput(t *testing.T) {
	input := binary.LittleEndian.AppendUint32(make([]byte, 0, 1024), 64<<20)
	input = input[:1024]
	trusting := func() { keep = make([]byte, binary.LittleEndian.Uint32(input)) }
	checking := func() {
		if n := binary.LittleEndian.Uint32(input); int(n) <= len(input)-4 {
			keep = make([]byte, n)
		}
	}
	if got := Allocated(trusting); got < 64<<20 {
		t.Fatalf("a 64 MiB allocation measured as %d bytes", got)
	}
	if err := Default.check(len(input), trusting); err == nil {
		t.Fatal("a 64 MiB allocation for 1 KiB of input passed the check")
	}
	if err := Default.check(len(input), checking); err != nil {
		t.Fatalf("a reader that checks the length failed: %v", err)
	}
}
