package export

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/cognito-export/cognito-export/checkpoint"
)

// TestUserSetHoldsExactlyItsUsers builds sets of several sizes (one
// bucket, many buckets, across the builder's buffer) from repeated hashes
// in random order and checks every member and as many non-members.
func TestUserSetHoldsExactlyItsUsers(t *testing.T) {
	for _, n := range []int{0, 1, 7, 100, 5000, builderBuffer + 12345} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(n), 1))
			in, out := make([]uint64, n), make([]uint64, n)
			for i := range in {
				in[i] = checkpoint.UserHash(fmt.Sprintf("user-%08d", i))
				out[i] = checkpoint.UserHash(fmt.Sprintf("other-%08d", i))
			}
			var b userSetBuilder
			// Every user twice, as a user in two groups is met twice.
			for _, i := range append(rng.Perm(n), rng.Perm(n)...) {
				b.Add(in[i])
			}
			s := b.Set()
			if s.Len() != n {
				t.Fatalf("Len = %d, want %d", s.Len(), n)
			}
			for i := range in {
				if !s.Contains(in[i]) {
					t.Fatalf("user %d missing", i)
				}
				if s.Contains(out[i]) {
					t.Fatalf("user %d of the other set found", i)
				}
			}
			prev, count := uint64(0), 0
			for h := range s.all() {
				if count > 0 && h <= prev {
					t.Fatalf("not ascending at %d", count)
				}
				prev, count = h, count+1
			}
			if count != n {
				t.Fatalf("all yielded %d, want %d", count, n)
			}
			if n >= 5000 {
				if per := float64(s.SizeBytes()) / float64(n); per > 8 {
					t.Errorf("%.2f bytes a user, want at most 8", per)
				}
			}
		})
	}
}

func TestUserSetExtremeHashes(t *testing.T) {
	var b userSetBuilder
	// The edges of the hash range, with fewer users than one bucket's
	// worth: the set is a single bucket of 64-bit words.
	for _, h := range []uint64{0, 1, 1 << 63, ^uint64(0)} {
		b.Add(h)
	}
	s := b.Set()
	for _, h := range []uint64{0, 1, 1 << 63, ^uint64(0)} {
		if !s.Contains(h) {
			t.Errorf("%#x missing", h)
		}
	}
	if s.Contains(2) {
		t.Error("2 found")
	}
}

// BenchmarkUserSetContains is the lookup the ListUsers pass makes for every
// user of the pool, in a set of 8 million (a 10M-user pool's users with
// groups), half of the lookups hits; beside it the sorted []uint64 that it
// replaced, for the cost of the 2 bytes a user it saves.
func BenchmarkUserSetContains(b *testing.B) {
	const n = 8_000_000
	var bld userSetBuilder
	sorted := make([]uint64, n)
	for i := range n {
		sorted[i] = checkpoint.UserHash(fmt.Sprintf("user-%08d", i))
		bld.Add(sorted[i])
	}
	s := bld.Set()
	slices.Sort(sorted)
	probes := make([]uint64, 1<<16)
	for i := range probes {
		probes[i] = checkpoint.UserHash(fmt.Sprintf("user-%08d", i*257%(2*n)))
	}
	lookup := func(b *testing.B, contains func(uint64) bool, size int) {
		hits := 0
		for i := 0; b.Loop(); i++ {
			if contains(probes[i&(len(probes)-1)]) {
				hits++
			}
		}
		if hits == 0 {
			b.Fatal("no hits")
		}
		b.ReportMetric(float64(size)/n, "bytes/user")
	}
	b.Run("userSet", func(b *testing.B) { lookup(b, s.Contains, s.SizeBytes()) })
	b.Run("sortedSlice", func(b *testing.B) {
		lookup(b, func(h uint64) bool { _, ok := slices.BinarySearch(sorted, h); return ok }, 8*len(sorted))
	})
}
