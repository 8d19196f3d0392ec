package report

import (
	"math/rand/v2"
	"testing"
)

// TestUserStatesAgreeWithAMap: a table sized for fewer users than come
// (it grows several times), keys that collide in their slot, and the
// hashes 0 and 1, against a Go map of the same operations.
func TestUserStatesAgreeWithAMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	s := newUserStates(10)
	want := map[uint64]userState{}
	keys := []uint64{0, 1, 2, 1 << 63, ^uint64(0)}
	for range 50_000 {
		keys = append(keys, rng.Uint64())
	}
	for round := range 3 {
		for i, k := range keys {
			if (i+round)%3 == 0 {
				continue
			}
			st, seen := s.Get(k)
			if w, ok := want[max(k, 1)]; ok != seen || w != st {
				t.Fatalf("round %d: Get(%d) = %d, %v; want %d, %v", round, k, st, seen, w, ok)
			}
			st++
			s.Set(k, st)
			want[max(k, 1)] = st
		}
	}
	if s.Len() != len(want) {
		t.Fatalf("Len %d, want %d", s.Len(), len(want))
	}
	for k, w := range want {
		if st, ok := s.Get(k); !ok || st != w {
			t.Fatalf("Get(%d) = %d, %v; want %d", k, st, ok, w)
		}
	}
	if _, ok := s.Get(12345); ok {
		t.Error("a key never set is there")
	}
	if 10*s.Len() > 9*len(s.keys) {
		t.Errorf("%d users in %d slots: fuller than nine tenths", s.Len(), len(s.keys))
	}
}

// BenchmarkUserStates is the report's per-row lookup and update over a
// million users.
func BenchmarkUserStates(b *testing.B) {
	const users = 1_000_000
	rng := rand.New(rand.NewPCG(3, 4))
	keys := make([]uint64, users)
	for i := range keys {
		keys[i] = rng.Uint64()
	}
	s := newUserStates(users)
	b.ResetTimer()
	for i := range b.N {
		k := keys[i%users]
		st, _ := s.Get(k)
		s.Set(k, st+1)
	}
}
