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
	// CarriedOut are memberships removed once ChangedShare's changes are
	// made, as an administrator's AdminRemoveUserFromGroup calls would
	// remove them; one already gone (its user, or the membership) is passed
	// over, as a rerun of the calls would find it.
	CarriedOut []NamedMembership
}

// NamedMembership is a membership by username and group name.
type NamedMembership struct{ Username, Group string }

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
	if len(s.CarriedOut) > 0 {
		var err error
		if pool, err = pool.Mutate(Mutations{RemoveMemberships: present(pool, s.CarriedOut)}); err != nil {
			return nil, fmt.Errorf("carry out removals in the emulated pool: %w", err)
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

// present are the memberships of ms that pool holds, by user index.
func present(pool *Pool, ms []NamedMembership) []Membership {
	var out []Membership
	seen := map[NamedMembership]bool{}
	for _, m := range ms {
		i, ok := pool.Lookup(m.Username)
		if !ok || seen[m] {
			continue
		}
		seen[m] = true
		for _, g := range pool.UserGroups(i, nil) {
			if pool.Groups()[g].Name == m.Group {
				out = append(out, Membership{User: i, Group: m.Group})
				break
			}
		}
	}
	return out
}
