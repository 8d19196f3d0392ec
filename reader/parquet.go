package reader

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
)

// tailSize is the end of a part kept as it streams past: a Parquet footer
// that fits is read from it, a larger one with a second read.
var tailSize = 1 << 20

// maxFooter bounds the Parquet footer read into memory: a footer holds a
// few kilobytes per row group.
const maxFooter = 64 << 20

var parquetMagic = []byte("PAR1")

// tail keeps the last bytes written to it in a ring, and the first four.
type tail struct {
	ring  []byte
	pos   int   // where the next byte goes
	n     int64 // bytes written in all
	first [4]byte
}

func newTail(size int) *tail { return &tail{ring: make([]byte, size)} }

func (t *tail) Write(p []byte) {
	for i := t.n; i < 4 && int(i-t.n) < len(p); i++ {
		t.first[i] = p[i-t.n]
	}
	t.n += int64(len(p))
	if len(p) >= len(t.ring) {
		copy(t.ring, p[len(p)-len(t.ring):])
		t.pos = 0
		return
	}
	k := copy(t.ring[t.pos:], p)
	copy(t.ring, p[k:])
	t.pos = (t.pos + len(p)) % len(t.ring)
}

// last returns the last n bytes written, or false when the ring no longer
// holds them.
func (t *tail) last(n int) ([]byte, bool) {
	if int64(n) > t.n || n > len(t.ring) {
		return nil, false
	}
	out := make([]byte, n)
	start := (t.pos - n + len(t.ring)) % len(t.ring)
	k := copy(out, t.ring[start:min(start+n, len(t.ring))])
	copy(out[k:], t.ring[:n-k])
	return out, true
}

// countParquet streams a Parquet part through (for its SHA-256 and size)
// and takes its row count from the footer: the footer's num_rows, which
// the SHA-256 of the whole part vouches for. The footer comes from the
// tail kept on the way, or, when larger, from a second read of the end.
func countParquet(ctx context.Context, r io.Reader, reopen func() (io.ReadCloser, error), size func() int64, tl *tail, buf []byte) (int64, error) {
	if _, err := io.CopyBuffer(io.Discard, onlyReader{r}, buf); err != nil {
		return 0, err
	}
	n := size()
	if n < 12 || !bytes.Equal(tl.first[:], parquetMagic) {
		return 0, formatError{"not a Parquet file (no PAR1 at the start)"}
	}
	end, _ := tl.last(8)
	if !bytes.Equal(end[4:], parquetMagic) {
		return 0, formatError{"not a Parquet file (no PAR1 at the end)"}
	}
	flen := int64(binary.LittleEndian.Uint32(end[:4]))
	if flen > n-12 || flen > maxFooter {
		return 0, formatError{fmt.Sprintf("Parquet footer of %d bytes in a file of %d", flen, n)}
	}
	footer, ok := tl.last(int(flen) + 8)
	if !ok {
		var err error
		if footer, err = readAt(reopen, n-8-flen, flen); err != nil {
			return 0, err
		}
	}
	meta, err := DecodeFooter(ctx, footer[:flen])
	if err != nil {
		return 0, formatError{fmt.Sprintf("Parquet footer does not decode: %v", err)}
	}
	return meta.NumRows, nil
}

// readAt reads n bytes at off with a second read of the part, skipping
// what comes before.
func readAt(reopen func() (io.ReadCloser, error), off, n int64) ([]byte, error) {
	r, err := reopen()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	if _, err := io.CopyN(io.Discard, r, off); err != nil {
		return nil, err
	}
	out := make([]byte, n)
	if _, err := io.ReadFull(r, out); err != nil {
		return nil, err
	}
	return out, nil
}
