package lease_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cognito-export/cognito-export/fault"
	"github.com/cognito-export/cognito-export/internal/s3server"
	"github.com/cognito-export/cognito-export/lease"
	"github.com/cognito-export/cognito-export/sink/localdest"
	"github.com/cognito-export/cognito-export/sink/s3dest"
)

// stores are the real stores a lease lives in: a local directory, an S3
// prefix on versitygw, and one in a bucket with Object Lock (versioned:
// a delete there leaves a delete marker).
func stores(t *testing.T) map[string]func(t *testing.T) lease.Store {
	return map[string]func(t *testing.T) lease.Store{
		"local": func(t *testing.T) lease.Store {
			d, err := localdest.Open(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			return d
		},
		"s3":        func(t *testing.T) lease.Store { return s3Store(t, false) },
		"s3-locked": func(t *testing.T) lease.Store { return s3Store(t, true) },
	}
}

// s3Store is a prefix on versitygw, in a bucket with Object Lock (and so
// versioning) if locked.
func s3Store(t *testing.T, locked bool) lease.Store {
	var srv *s3server.Server
	if locked {
		srv = s3server.StartVersioned(t)
		srv.LockedBucket(t, "lease")
	} else {
		srv = s3server.Start(t)
		srv.Bucket(t, "lease")
	}
	p, err := s3dest.Open(context.Background(), "s3://lease/out/",
		s3dest.Options{Region: srv.Region, EndpointURL: srv.Endpoint, Credentials: srv.Credentials()})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// released fails t unless the lease in st was given up: gone, or (where a
// delete would leave a delete marker) marked released by run.
func released(t *testing.T, st lease.Store, run string) {
	t.Helper()
	ctx := context.Background()
	data, _, err := st.Read(ctx, lease.Name)
	if err != nil {
		t.Fatal(err)
	}
	if data != nil {
		h, err := lease.Parse(data)
		if err != nil || h.RunID != run || h.Released.IsZero() {
			t.Fatalf("after release the lease object is %q (%v): neither gone nor released by %s", data, err, run)
		}
	}
	if h, err := lease.Live(ctx, st, lease.Name, time.Now()); err != nil || h != nil {
		t.Fatalf("after release Live says %+v, %v", h, err)
	}
}

func forEachStore(t *testing.T, test func(t *testing.T, st lease.Store)) {
	for name, open := range stores(t) {
		t.Run(name, func(t *testing.T) { test(t, open(t)) })
	}
}

func opts(run string, ttl time.Duration) lease.Options {
	return lease.Options{RunID: run, TTL: ttl, Where: "out"}
}

// later is a clock ahead of the real one: a run that looks at a lease
// after it expired.
func later(d time.Duration) func() time.Time { return func() time.Time { return time.Now().Add(d) } }

func TestALiveLeaseKeepsOthersOutUntilReleased(t *testing.T) {
	forEachStore(t, func(t *testing.T, st lease.Store) {
		ctx := context.Background()
		a, err := lease.Acquire(ctx, st, lease.Name, opts("run-a", time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		_, err = lease.Acquire(ctx, st, lease.Name, opts("run-b", time.Minute))
		var held *lease.HeldError
		if !errors.As(err, &held) || held.Holder.RunID != "run-a" {
			t.Fatalf("second acquire: %v, want the lease of run-a", err)
		}
		if fault.KindOf(err) != fault.Transient || strings.Contains(err.Error(), "\n") ||
			!strings.Contains(err.Error(), "run run-a") || !strings.Contains(err.Error(), "expires at") {
			t.Errorf("the refusal is %v (%v): want one line naming the holder and its expiry, a retry's kind", err, fault.KindOf(err))
		}
		if h, err := lease.Live(ctx, st, lease.Name, time.Now()); err != nil || h == nil || h.RunID != "run-a" {
			t.Fatalf("Live: %+v, %v", h, err)
		}
		before := a.Version()
		if err := a.Renew(ctx); err != nil {
			t.Fatal(err)
		}
		if a.Version() == before {
			t.Error("a renewal did not change the lease's version")
		}
		if err := a.Release(ctx); err != nil {
			t.Fatal(err)
		}
		released(t, st, "run-a")
		// The next run takes it at once, even with a clock an hour behind
		// the one that released it; and again after its own release.
		behind := opts("run-b", time.Minute)
		behind.Now = later(-time.Hour)
		b, err := lease.Acquire(ctx, st, lease.Name, behind)
		if err != nil {
			t.Fatalf("acquire after release: %v", err)
		}
		if err := b.Release(ctx); err != nil {
			t.Fatal(err)
		}
		released(t, st, "run-b")
		c, err := lease.Acquire(ctx, st, lease.Name, opts("run-c", time.Minute))
		if err != nil {
			t.Fatalf("acquire after the second release: %v", err)
		}
		c.Release(ctx)
	})
}

// TestOfManyTakersOfAnExpiredLeaseOneWins: a killed holder's lease, once
// expired, goes to exactly one of the runs that want it at once; the killed
// holder, if it comes back, cannot renew.
func TestOfManyTakersOfAnExpiredLeaseOneWins(t *testing.T) {
	forEachStore(t, func(t *testing.T, st lease.Store) {
		ctx := context.Background()
		dead, err := lease.Acquire(ctx, st, lease.Name, opts("killed", time.Second))
		if err != nil {
			t.Fatal(err)
		}
		for round := range 3 {
			const takers = 6
			var wg sync.WaitGroup
			won := make(chan *lease.Lease, takers)
			errs := make(chan error, takers)
			for i := range takers {
				wg.Go(func() {
					o := opts(fmt.Sprintf("taker-%d-%d", round, i), time.Second)
					o.Now = later(time.Duration(round+1) * 2 * time.Second)
					l, err := lease.Acquire(ctx, st, lease.Name, o)
					if err != nil {
						errs <- err
						return
					}
					won <- l
				})
			}
			wg.Wait()
			close(won)
			close(errs)
			if len(won) != 1 {
				t.Fatalf("round %d: %d takers won the expired lease, want 1", round, len(won))
			}
			for err := range errs {
				var held *lease.HeldError
				if !errors.As(err, &held) {
					t.Fatalf("round %d: a taker failed with %v, want the winner's live lease", round, err)
				}
			}
		}
		err = dead.Renew(ctx)
		var lost *lease.LostError
		if !errors.As(err, &lost) {
			t.Fatalf("the old holder renewed a lease taken over: %v", err)
		}
	})
}

// TestHoldStopsTheHolderThatLostItsLease: once another run has the lease,
// the holder's next renewal is refused, fn's context is cancelled with the
// loss as its cause, and Hold says so; the new holder's lease stays.
func TestHoldStopsTheHolderThatLostItsLease(t *testing.T) {
	forEachStore(t, func(t *testing.T, st lease.Store) {
		ctx := context.Background()
		a, err := lease.Acquire(ctx, st, lease.Name, opts("slow", 3*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		var b *lease.Lease
		err = lease.Hold(ctx, a, func(ctx context.Context) error {
			o := opts("successor", time.Minute)
			o.Now = later(time.Hour) // a clock that sees a's lease expired
			if b, err = lease.Acquire(ctx, st, lease.Name, o); err != nil {
				return err
			}
			<-ctx.Done()
			var lost *lease.LostError
			if !errors.As(context.Cause(ctx), &lost) {
				t.Errorf("fn's context ended with %v, not the loss", context.Cause(ctx))
			}
			return ctx.Err()
		})
		var lost *lease.LostError
		if !errors.As(err, &lost) || !strings.Contains(err.Error(), "successor") {
			t.Fatalf("Hold returned %v, want the loss naming the successor", err)
		}
		if a.Err() == nil {
			t.Error("the lost lease still says it is held")
		}
		if h, err := lease.Live(ctx, st, lease.Name, time.Now()); err != nil || h == nil || h.RunID != "successor" {
			t.Fatalf("the successor's lease after the loser's release: %+v, %v", h, err)
		}
		b.Release(ctx)
	})
}

// TestHoldRenewsAndReleases: a holder that works longer than its TTL keeps
// its lease, and gives it up on the way out, a failure included.
func TestHoldRenewsAndReleases(t *testing.T) {
	forEachStore(t, func(t *testing.T, st lease.Store) {
		ctx := context.Background()
		l, err := lease.Acquire(ctx, st, lease.Name, opts("long", 1500*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		failed := errors.New("the job failed")
		err = lease.Hold(ctx, l, func(ctx context.Context) error {
			first := l.Version()
			deadline := time.Now().Add(10 * time.Second)
			for l.Version() == first || time.Since(l.Holder().Started) < 2*time.Second {
				if time.Now().After(deadline) {
					return errors.New("never renewed")
				}
				if err := l.Err(); err != nil {
					return err
				}
				time.Sleep(20 * time.Millisecond)
			}
			return failed
		})
		if !errors.Is(err, failed) {
			t.Fatalf("Hold: %v", err)
		}
		released(t, st, "long")
	})
}

func TestParseRefusesWhatIsNotALease(t *testing.T) {
	for _, in := range []string{"", "{}", "null", `{"expires":"x"}`, "[1]"} {
		if _, err := lease.Parse([]byte(in)); err == nil {
			t.Errorf("Parse(%q) accepted it", in)
		}
	}
}
