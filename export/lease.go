package export

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/cognito-export/cognito-export/checkpoint"
	"github.com/cognito-export/cognito-export/lease"
	"github.com/cognito-export/cognito-export/sink"
)

// TakeLease takes the lease of the output for this run (lease.Name in it),
// before anything is written there: a live lease of another run is a
// *lease.HeldError. From then on every write of the Env, to the output and
// to the checkpoint, checks the lease first, so that a run that lost it
// writes nothing more, not even its final checkpoint.
func (e *Env) TakeLease(ctx context.Context, opts lease.Options) (*lease.Lease, error) {
	st, ok := e.raw.(lease.Store)
	if !ok {
		return nil, fmt.Errorf("%s cannot hold a lease: pass --lease=off", e.cfg.Output)
	}
	opts.Where = e.cfg.Output
	if opts.Logger == nil {
		opts.Logger = e.log
	}
	l, err := lease.Acquire(ctx, st, lease.Name, opts)
	if err != nil {
		return nil, err
	}
	e.fence.held.Store(l)
	return l, nil
}

// LiveLease is the live lease of another run in the output, or nil: what a
// dry run reports.
func (e *Env) LiveLease(ctx context.Context) (*lease.Holder, error) {
	st, ok := e.raw.(lease.Store)
	if !ok {
		return nil, nil
	}
	return lease.Live(ctx, st, lease.Name, time.Now())
}

// fence holds the run's lease, once taken; nil lets every write through
// (no lease asked for).
type fence struct{ held atomic.Pointer[lease.Lease] }

func (f *fence) check() error {
	if l := f.held.Load(); l != nil {
		return l.Err()
	}
	return nil
}

// fencedOutput is the output with every write checked against the lease.
type fencedOutput struct {
	Output
	f *fence
}

func (o fencedOutput) Create(ctx context.Context, name string) (sink.Part, error) {
	if err := o.f.check(); err != nil {
		return nil, err
	}
	p, err := o.Output.Create(ctx, name)
	if err != nil {
		return nil, err
	}
	return fencedPart{p, o.f}, nil
}

func (o fencedOutput) Put(ctx context.Context, name string, data []byte) error {
	if err := o.f.check(); err != nil {
		return err
	}
	return o.Output.Put(ctx, name, data)
}

func (o fencedOutput) Delete(ctx context.Context, name string) error {
	if err := o.f.check(); err != nil {
		return err
	}
	return o.Output.Delete(ctx, name)
}

func (o fencedOutput) Prune(ctx context.Context, remove func(name string) bool) error {
	if err := o.f.check(); err != nil {
		return err
	}
	return o.Output.Prune(ctx, remove)
}

func (o fencedOutput) String() string { return fmt.Sprint(o.Output) }

// fencedPart checks the lease before each chunk and before the commit that
// makes the part visible; an abort always goes through.
type fencedPart struct {
	sink.Part
	f *fence
}

func (p fencedPart) Write(ctx context.Context, b []byte) error {
	if err := p.f.check(); err != nil {
		return err
	}
	return p.Part.Write(ctx, b)
}

func (p fencedPart) Commit(ctx context.Context) error {
	if err := p.f.check(); err != nil {
		p.Part.Abort(ctx)
		return err
	}
	return p.Part.Commit(ctx)
}

// fencedBlob is a checkpoint store's blob with its writes checked.
type fencedBlob struct {
	checkpoint.Blob
	f *fence
}

func (b fencedBlob) Put(ctx context.Context, name string, data []byte) error {
	if err := b.f.check(); err != nil {
		return err
	}
	return b.Blob.Put(ctx, name, data)
}

func (b fencedBlob) Delete(ctx context.Context, name string) error {
	if err := b.f.check(); err != nil {
		return err
	}
	return b.Blob.Delete(ctx, name)
}
