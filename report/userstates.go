package report

import "math/bits"

// userStates maps a user's 64-bit hash to its userState in two flat
// arrays with open addressing (linear probing): 12 bytes a slot at most
// nine tenths full, and nothing for the collector to scan, where a Go map
// of ten million users held about 30 bytes a user in buckets it scans
// (BENCHMARKS.md, "Ten million users": the report's live heap was 388 MB).
type userStates struct {
	keys []uint64 // 0 is an empty slot: a hash of 0 is kept as 1
	vals []userState
	n    int
}

// minSlots keeps a small table from growing at every other user.
const minSlots = 1024

// newUserStates is a table for about expected users.
func newUserStates(expected int64) *userStates {
	s := &userStates{}
	s.alloc(max(minSlots, int(expected)*10/9+1))
	return s
}

func (s *userStates) alloc(slots int) {
	s.keys, s.vals = make([]uint64, slots), make([]userState, slots)
}

// Len is the number of users in the table.
func (s *userStates) Len() int { return s.n }

// find is the slot of key, or the empty slot where it would go.
func (s *userStates) find(key uint64) int {
	// The high word of key × len spreads a good hash over the slots
	// without a power-of-two size.
	i, _ := bits.Mul64(key, uint64(len(s.keys)))
	for j := int(i); ; j++ {
		if j == len(s.keys) {
			j = 0
		}
		if k := s.keys[j]; k == key || k == 0 {
			return j
		}
	}
}

func stored(key uint64) uint64 { return max(key, 1) }

// Get is key's state, and whether it is there.
func (s *userStates) Get(key uint64) (userState, bool) {
	i := s.find(stored(key))
	return s.vals[i], s.keys[i] != 0
}

// Set sets key's state.
func (s *userStates) Set(key uint64, st userState) {
	key = stored(key)
	i := s.find(key)
	if s.keys[i] == 0 {
		if 10*(s.n+1) > 9*len(s.keys) {
			s.grow()
			i = s.find(key)
		}
		s.keys[i] = key
		s.n++
	}
	s.vals[i] = st
}

// grow doubles the table: an export's manifest said fewer users than its
// rows hold, or said none.
func (s *userStates) grow() {
	keys, vals := s.keys, s.vals
	s.alloc(2 * len(keys))
	for i, k := range keys {
		if k != 0 {
			j := s.find(k)
			s.keys[j], s.vals[j] = k, vals[i]
		}
	}
}
