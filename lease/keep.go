package lease

import (
	"context"
	"errors"
	"time"

	"golang.org/x/sync/errgroup"
)

// releaseTimeout bounds the release on the way out, which runs under a
// fresh context: the run's may be cancelled by then (a signal, a failure).
const releaseTimeout = 10 * time.Second

// Hold runs fn while holding l, and releases l when fn returns, whatever
// the way out (success, failure, a signal). Meanwhile it renews l every
// third of its TTL; if a renewal is refused, or none succeeds before the
// lease runs out, fn's context is cancelled with the *LostError as its
// cause and Hold returns that error: the holder stops at once. The renewer
// and fn are owned by one errgroup.
func Hold(ctx context.Context, l *Lease, fn func(ctx context.Context) error) error {
	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	// Renewals go on after a signal, while the run takes its final
	// checkpoint, and stop only when fn returns.
	keepCtx, stopKeeping := context.WithCancel(context.WithoutCancel(ctx))
	var g errgroup.Group
	g.Go(func() error {
		if err := l.keep(keepCtx); err != nil {
			cancel(err)
		}
		return nil
	})
	var err error
	g.Go(func() error {
		defer stopKeeping()
		err = fn(runCtx)
		return nil
	})
	g.Wait()
	var lost *LostError
	lostErr := l.Err()
	rctx, stop := context.WithTimeout(context.WithoutCancel(ctx), releaseTimeout)
	defer stop()
	if rerr := l.Release(rctx); rerr != nil {
		l.opts.Logger.Warn("lease not released; it expires by itself", "lease", l.name, "output", l.opts.Where, "error", rerr.Error())
	}
	if errors.As(lostErr, &lost) && (errors.As(err, new(*LostError)) || errors.Is(err, context.Canceled)) {
		return lost // why fn stopped, not which write noticed
	}
	// fn failed for a reason of its own (S3 out, say, which also kept the
	// lease from being renewed): that reason is what to act on.
	return err
}

// keep renews l until ctx is done, every third of its TTL, and more often
// after a failed renewal, until the lease runs out. It returns the
// *LostError that ends the lease, or nil once ctx is done.
func (l *Lease) keep(ctx context.Context) error {
	every := l.opts.TTL / 3
	retry := max(l.opts.TTL/20, 50*time.Millisecond)
	t := time.NewTimer(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		err := l.Renew(ctx)
		if ctx.Err() != nil {
			return nil // fn returned during the renewal
		}
		var lost *LostError
		switch {
		case errors.As(err, &lost):
			l.opts.Logger.Error("lease lost: stopping", "lease", l.name, "output", l.opts.Where, "reason", lost.Reason)
			return lost
		case err != nil:
			l.opts.Logger.Warn("lease renewal failed; trying again while it lasts", "lease", l.name, "output", l.opts.Where, "error", err.Error())
			t.Reset(retry)
		default:
			t.Reset(every)
		}
	}
}
