package cognitoemu

import "fmt"

// Synthetic is a generated pool as the demo and emulate commands serve it:
// the pool, how much of it has changed since it was generated, and how the
// server misbehaves (deleted users, faults, Cognito's quotas).
type Synthetic struct {
	Pool PoolSpec
	// ChangedShare serves the pool as it is later: this share of users
	// added and as many removed, memberships, attributes and role ARNs
	// changed (RandomMutations, seeded by the pool's seed). 0 serves the
	// pool as generated.
	ChangedShare float64
	// DeletedShare, RemovedShare and FaultRate are Options' of the same
	// names; the faults are seeded by the pool's seed.
	DeletedShare, RemovedShare, FaultRate float64
	// QuotaScale enforces Cognito's default per-account quotas times this
	// (1 = the real defaults); 0 enforces none.
	QuotaScale float64
}

// Server generates the pool, changes it as asked and returns the server
// that serves it.
func (s Synthetic) Server() (*Server, error) {
	pool := NewPool(s.Pool)
	if s.ChangedShare > 0 {
		var err error
		if pool, err = pool.Mutate(RandomMutations(pool, s.Pool.Seed, s.ChangedShare)); err != nil {
			return nil, fmt.Errorf("change the emulated pool: %w", err)
		}
	}
	opts := Options{DeletedShare: s.DeletedShare, RemovedShare: s.RemovedShare, FaultRate: s.FaultRate, FaultSeed: s.Pool.Seed}
	if s.QuotaScale > 0 {
		// A burst of a few calls, as a token bucket on a real service has:
		// with none, network jitter alone would throttle a client that
		// keeps exactly to the quota.
		opts.CategoryQuotas, opts.QuotaBurst = DefaultQuotas(s.QuotaScale), 5
	}
	return NewServer(opts, pool), nil
}

// HeapBytes is about what the pool holds live once served: per user an
// offset (4 bytes), its groups (2 bytes each, with the generator's 10%
// headroom) and its places in the member lists (4 bytes each), built on the
// first ListUsersInGroup.
func (s Synthetic) HeapBytes() int64 {
	mean := s.Pool.MeanGroupsPerUser
	if mean == 0 {
		mean = 1.5
	}
	return int64(float64(s.Pool.Users) * (4 + mean*(2*1.1+4)))
}
