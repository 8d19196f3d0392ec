package export

import (
	"iter"
	"math/bits"
	"slices"
)

// userSet is a read-only set of user hashes in about 6 bytes a user, for
// the ListUsers pass of by-group, which asks of every user of the pool
// whether a group phase met it. A []uint64 takes 8 bytes a user and a map
// over 40; at ten million users the difference is what the collector
// scans for the whole pass.
//
// It is an Elias–Fano-like layout with the unary upper half replaced by an
// offset table: the top b bits of a (mixed) hash pick a bucket of about
// eight members, and the remaining 64-b bits of each member are packed at
// a fixed width, sorted within the bucket. A lookup reads one offset pair
// and scans a few packed words.
type userSet struct {
	n     int
	shift uint     // bucket = h >> shift; the low shift bits are stored
	offs  []uint32 // members of bucket k are [offs[k], offs[k+1])
	lows  []uint64 // the low bits, shift bits each, packed
}

// mixHash spreads a user hash over all 64 bits (the splitmix64 finaliser,
// a bijection, so it adds no collisions): FNV-1a leaves the top bits of
// short, similar names clustered, and the buckets are chosen by them.
func mixHash(h uint64) uint64 {
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	h ^= h >> 31
	return h
}

// newUserSet packs n distinct, ascending mixed hashes.
func newUserSet(n int, sorted iter.Seq[uint64]) *userSet {
	b := max(bits.Len(uint(n))-4, 0) // about 8 members a bucket
	s := &userSet{n: n, shift: uint(64 - b), offs: make([]uint32, 1<<b+1)}
	s.lows = make([]uint64, (n*int(s.shift)+63)/64)
	i := 0
	for h := range sorted {
		s.offs[s.bucket(h)+1]++
		s.put(i, h&s.mask())
		i++
	}
	for k := 1; k < len(s.offs); k++ {
		s.offs[k] += s.offs[k-1]
	}
	return s
}

func (s *userSet) bucket(h uint64) uint64 { return h >> s.shift } // 0 when shift is 64
func (s *userSet) mask() uint64           { return 1<<s.shift - 1 }

func (s *userSet) put(i int, v uint64) {
	pos := uint(i) * s.shift
	w, off := pos/64, pos%64
	s.lows[w] |= v << off
	if off+s.shift > 64 {
		s.lows[w+1] |= v >> (64 - off)
	}
}

func (s *userSet) get(i uint32) uint64 {
	pos := uint(i) * s.shift
	w, off := pos/64, pos%64
	v := s.lows[w] >> off
	if off+s.shift > 64 {
		v |= s.lows[w+1] << (64 - off)
	}
	return v & s.mask()
}

// Len is the number of users in the set.
func (s *userSet) Len() int {
	if s == nil {
		return 0
	}
	return s.n
}

// Contains reports whether the user hash (checkpoint.UserHash) is in the set.
func (s *userSet) Contains(userHash uint64) bool {
	if s.Len() == 0 {
		return false
	}
	h := mixHash(userHash)
	k, lo := s.bucket(h), h&s.mask()
	for i := s.offs[k]; i < s.offs[k+1]; i++ {
		switch v := s.get(i); {
		case v == lo:
			return true
		case v > lo:
			return false
		}
	}
	return false
}

// all yields the mixed hashes in ascending order.
func (s *userSet) all() iter.Seq[uint64] {
	return func(yield func(uint64) bool) {
		if s.Len() == 0 {
			return
		}
		for k := 0; k+1 < len(s.offs); k++ {
			for i := s.offs[k]; i < s.offs[k+1]; i++ {
				if !yield(uint64(k)<<s.shift | s.get(i)) { // k<<64 is 0
					return
				}
			}
		}
	}
}

// userSetBytes is about what a set of n users takes: 6 bytes a user up to
// 2^24 users, a little less above.
func userSetBytes(n int64) int64 { return 6*n + 64 }

// SizeBytes is the memory the set holds.
func (s *userSet) SizeBytes() int {
	if s == nil {
		return 0
	}
	return 4*len(s.offs) + 8*len(s.lows)
}

// userSetBuilder collects user hashes in any order, with repeats (a user
// in several groups), into a userSet. It sorts a bounded buffer at a time
// and merges it into the set built so far, so that what it holds beyond
// the two sets of a merge is the buffer, not 8 bytes a membership.
type userSetBuilder struct {
	set *userSet
	buf []uint64
}

// builderBuffer is the hashes sorted at a time: 8 MiB.
const builderBuffer = 1 << 20

func (b *userSetBuilder) Add(userHash uint64) {
	if b.buf == nil {
		b.buf = make([]uint64, 0, builderBuffer)
	}
	b.buf = append(b.buf, mixHash(userHash))
	if len(b.buf) == cap(b.buf) {
		b.flush()
	}
}

func (b *userSetBuilder) flush() {
	if len(b.buf) == 0 && b.set != nil {
		return
	}
	slices.Sort(b.buf)
	b.buf = slices.Compact(b.buf)
	merged := mergeSorted(b.set.all(), b.buf)
	n := 0
	for range merged {
		n++
	}
	b.set = newUserSet(n, merged)
	b.buf = b.buf[:0]
}

// Set returns the users added so far.
func (b *userSetBuilder) Set() *userSet {
	b.flush()
	b.buf = nil
	return b.set
}

// mergeSorted yields the union of an ascending, distinct sequence and an
// ascending, distinct slice.
func mergeSorted(x iter.Seq[uint64], y []uint64) iter.Seq[uint64] {
	return func(yield func(uint64) bool) {
		j := 0
		for u := range x {
			for ; j < len(y) && y[j] < u; j++ {
				if !yield(y[j]) {
					return
				}
			}
			if j < len(y) && y[j] == u {
				j++
			}
			if !yield(u) {
				return
			}
		}
		for ; j < len(y); j++ {
			if !yield(y[j]) {
				return
			}
		}
	}
}
