// Package lease keeps one writer per output: before a run writes anything
// it takes a lease object in the output, created only if absent, renewed
// by a conditional overwrite of the version it wrote, and expiring after a
// TTL, so that the output of a killed holder is taken over by exactly one
// successor. The conditions are the store's (O_EXCL and a compare under a
// lock locally, If-None-Match and If-Match on S3): no clock decides who
// wins, only who may try.
package lease

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/cognito-export/cognito-export/fault"
)

// Store holds the lease object: a small file with a version that changes
// with every write (S3's ETag, a local file's digest). Declared here, where
// it is used; sink/localdest and sink/s3dest implement it.
type Store interface {
	// Read returns name's bytes and version; (nil, "", nil) when absent.
	Read(ctx context.Context, name string) (data []byte, version string, err error)
	// Swap writes data as name only if name is at version match, or, when
	// match is "", only if name is absent. It returns the new version; a
	// condition that does not hold is an error for which
	// fault.Precondition is true.
	Swap(ctx context.Context, name string, data []byte, match string) (version string, err error)
	// Remove deletes name if it is at version match.
	Remove(ctx context.Context, name, match string) error
}

// Names of the lease objects. An export and a diff lease the directory they
// write (the same name: a diff written into an export's output waits for
// it); the run's index leases only its index file, which shares its
// directory with the pools' outputs.
const (
	Name = "_lease.json"
)

// IndexName is the lease of a run's index file, such as index.json.
func IndexName(index string) string { return "_lease-" + index }

// IsName reports whether a file's name is a lease's: a working file of the
// run, not part of what it wrote.
func IsName(name string) bool { return name == Name || strings.HasPrefix(name, "_lease-") }

// DefaultTTL is how long a lease lasts without renewal: long enough that a
// renewal every third of it rides out a slow S3 call or two, short enough
// that a killed run's successor does not wait long.
const DefaultTTL = 2 * time.Minute

// Holder is what a lease object says: who holds it and until when.
type Holder struct {
	RunID   string    `json:"run_id"`
	Host    string    `json:"host"`
	PID     int       `json:"pid"`
	Started time.Time `json:"started"`
	Renewed time.Time `json:"renewed"`
	Expires time.Time `json:"expires"`
	// Released is when the holder gave the lease up: a released lease is
	// free whatever the clocks of its holder and its next taker say.
	Released time.Time `json:"released,omitzero"`
}

// Options say who takes a lease and for how long.
type Options struct {
	TTL   time.Duration // 0 is DefaultTTL
	RunID string
	// Where names the output in messages, e.g. s3://bucket/prefix/.
	Where  string
	Logger *slog.Logger
	// Now is the clock; nil is time.Now.
	Now func() time.Time
}

// Lease is a lease held: renewed by Keep, given up by Release.
type Lease struct {
	store   Store
	name    string
	opts    Options
	holder  Holder
	mu      sync.Mutex
	version string
	data    []byte // what was last written, at version
	// deadline is when the lease runs out unless renewed: the time a
	// successful write was sent plus the TTL, on this process's monotonic
	// clock, so that a jump of the wall clock does not extend it.
	deadline time.Time
	lost     error // set once: the lease is gone
	// renewErr is why the last renewal failed, if it did: the reason a
	// lease that ran out gives.
	renewErr error
}

// HeldError is a live lease of another run: try again once it has ended or
// expired (exit 1: a retry may succeed).
type HeldError struct {
	Where  string
	Holder Holder
	Now    time.Time
}

func (e *HeldError) Error() string {
	h := e.Holder
	return fmt.Sprintf("%s is being written by run %s (host %s, pid %d) since %s; its lease expires at %s (in %s): try again once that run ends, or after its lease expires",
		e.Where, printable(h.RunID), printable(h.Host), h.PID, h.Started.UTC().Format(time.RFC3339), h.Expires.UTC().Format(time.RFC3339),
		h.Expires.Sub(e.Now).Round(time.Second))
}

// LostError is a lease this run held and no longer does: a renewal was
// refused (another run took the output over) or could not be made before
// it ran out. The run stops writing at once (exit 1).
type LostError struct {
	Where  string
	Reason string
}

func (e *LostError) Error() string {
	return fmt.Sprintf("lost the lease on %s (%s): this run stopped writing; check that no other run writes there, then run again", e.Where, e.Reason)
}

// attempts bounds Acquire's rounds of read-then-write: each lost race
// re-reads the lease, and a live one ends it.
const attempts = 4

// Acquire takes the lease name in store: creates it if absent, or replaces
// it if it has expired. A live lease of another run is a *HeldError; a store
// that does not honour conditional writes is a usage error naming
// --lease=off.
func Acquire(ctx context.Context, store Store, name string, opts Options) (*Lease, error) {
	if opts.TTL <= 0 {
		opts.TTL = DefaultTTL
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.RunID == "" {
		var b [3]byte
		rand.Read(b[:])
		opts.RunID = opts.Now().UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
	}
	host, _ := os.Hostname()
	l := &Lease{store: store, name: name, opts: opts,
		holder: Holder{RunID: opts.RunID, Host: host, PID: os.Getpid(), Started: opts.Now().UTC()}}
	// ghosts counts creates refused over an object that reads as absent.
	ghosts := 0
	for range attempts {
		data, version, err := store.Read(ctx, name)
		if err != nil {
			return nil, fmt.Errorf("read the lease %s in %s: %w", name, opts.Where, err)
		}
		if data != nil {
			h, perr := Parse(data)
			now := opts.Now()
			switch {
			case perr != nil:
				opts.Logger.Warn("the lease object is not a lease; taking it over", "lease", name, "output", opts.Where, "error", perr.Error())
			case !h.Released.IsZero():
				opts.Logger.Info("taking over a released lease", "lease", name, "output", opts.Where,
					"previous_run_id", h.RunID, "previous_host", h.Host, "previous_pid", h.PID, "released", h.Released)
			case now.Before(h.Expires):
				return nil, fault.New(fault.Transient, "", &HeldError{Where: opts.Where, Holder: h, Now: now})
			default:
				opts.Logger.Info("taking over an expired lease", "lease", name, "output", opts.Where,
					"previous_run_id", h.RunID, "previous_host", h.Host, "previous_pid", h.PID, "expired", h.Expires)
			}
		}
		err = l.write(ctx, version, false)
		if fault.Precondition(err) {
			if data == nil {
				ghosts++
			}
			continue // another run got there first: see who
		}
		if err != nil {
			return nil, l.explainWrite(err)
		}
		if err := l.checkHonoured(ctx); err != nil {
			return nil, err
		}
		return l, nil
	}
	if ghosts == attempts {
		// Not a race: nothing ever appeared. In a versioned bucket a
		// delete marker left by an older release can do this (versitygw
		// refuses If-None-Match over one); releases now leave a released
		// lease instead.
		return nil, fault.Usagef(fmt.Sprintf("take the lease %s in %s: the store refuses to create it though it reads as absent (in a versioned bucket, a delete marker over %s can do that): remove that delete marker (aws s3api list-object-versions, then delete-object --version-id) and run again, or pass --lease=off if nothing else ever writes there", name, opts.Where, name))
	}
	return nil, fmt.Errorf("take the lease %s in %s: other runs kept taking it; try again", name, opts.Where)
}

// write writes the lease as held from now, or as released now, if the
// object is at match ("": absent), and records the new version and
// deadline.
func (l *Lease) write(ctx context.Context, match string, released bool) error {
	sent := time.Now()
	now := l.opts.Now().UTC()
	h := l.holder
	h.Renewed, h.Expires = now, now.Add(l.opts.TTL)
	if released {
		h.Released, h.Expires = now, now
	}
	data, err := json.MarshalIndent(h, "", "  ")
	if err != nil {
		return err
	}
	data = append(data, '\n')
	version, err := l.store.Swap(ctx, l.name, data, match)
	if fault.Precondition(err) {
		// The retry of a write whose answer was lost on the way back
		// finds the write done: the object holds these very bytes.
		if cur, v, rerr := l.store.Read(ctx, l.name); rerr == nil && bytes.Equal(cur, data) {
			version, err = v, nil
		}
	}
	if err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.holder, l.version, l.data, l.deadline = h, version, data, sent.Add(l.opts.TTL)
	return nil
}

// checkHonoured proves the store refuses a second create: a server that
// ignores If-None-Match would let every run believe it holds the lease.
// It costs one write per run. The probe carries the lease's own bytes, so
// that a server that ignores the condition leaves the lease as it was.
func (l *Lease) checkHonoured(ctx context.Context) error {
	l.mu.Lock()
	data := l.data
	l.mu.Unlock()
	_, err := l.store.Swap(ctx, l.name, data, "")
	switch {
	case fault.Precondition(err):
		return nil
	case err == nil:
		l.store.Remove(ctx, l.name, l.Version())
		return fault.Usagef(fmt.Sprintf("%s does not honour conditional writes (a second create-if-absent of %s succeeded), so two runs could write it at once: use a store that does, or pass --lease=off if nothing else ever writes there", l.opts.Where, l.name))
	default:
		l.store.Remove(ctx, l.name, l.Version())
		return l.explainWrite(err)
	}
}

// explainWrite makes a server without conditional writes a usage error.
func (l *Lease) explainWrite(err error) error {
	if fault.NotImplemented(err) {
		return fault.New(fault.Usage, fmt.Sprintf("%s does not support conditional writes (If-None-Match, If-Match), which the lease %s needs: pass --lease=off if nothing else ever writes there", l.opts.Where, l.name), err)
	}
	return fmt.Errorf("write the lease %s in %s: %w", l.name, l.opts.Where, err)
}

// Holder is what the lease says now.
func (l *Lease) Holder() Holder {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.holder
}

// Version is the version of the lease object last written.
func (l *Lease) Version() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.version
}

// Err is nil while the lease is held, and a *LostError once it is not:
// lost to another run, or run out without a renewal. Every write of the
// holder checks it first.
func (l *Lease) Err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.lost == nil && !time.Now().Before(l.deadline) {
		reason := fmt.Sprintf("not renewed within its TTL of %s", l.opts.TTL)
		if l.renewErr != nil {
			reason += "; the last renewal failed: " + l.renewErr.Error()
		}
		l.lost = &LostError{Where: l.opts.Where, Reason: reason}
	}
	return l.lost
}

func (l *Lease) lose(reason string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.lost == nil {
		l.lost = &LostError{Where: l.opts.Where, Reason: reason}
	}
	return l.lost
}

// Renew extends the lease by its TTL from now, if it is still the version
// this run wrote. A refusal loses the lease for good; any other failure is
// returned for the caller to try again while the lease lasts.
func (l *Lease) Renew(ctx context.Context) error {
	if err := l.Err(); err != nil {
		return err
	}
	// A renewal that lands after the lease ran out is no use: bound it.
	l.mu.Lock()
	ctx, cancel := context.WithDeadline(ctx, l.deadline)
	l.mu.Unlock()
	defer cancel()
	err := l.write(ctx, l.Version(), false)
	if fault.Precondition(err) {
		reason := "another run replaced or removed it"
		if data, _, rerr := l.store.Read(ctx, l.name); rerr == nil && data != nil {
			if h, perr := Parse(data); perr == nil {
				reason = fmt.Sprintf("run %s (host %s, pid %d) holds it now", printable(h.RunID), printable(h.Host), h.PID)
			}
		}
		return l.lose(reason)
	}
	if err == nil || ctx.Err() == nil {
		// A renewal cut short by the lease's end says less than the
		// failure before it.
		l.mu.Lock()
		l.renewErr = err
		l.mu.Unlock()
	}
	if err != nil {
		return fmt.Errorf("renew the lease %s in %s: %w", l.name, l.opts.Where, err)
	}
	return nil
}

// Release gives the lease up, if this run still holds it, so that a
// successor need not wait for it to expire: it marks the lease released
// (a conditional overwrite), then removes it. The mark comes first
// because a removal does not always free the name: in a versioned bucket
// a delete leaves a delete marker, over which some S3 servers refuse the
// next run's create-if-absent, and there the store keeps the released
// lease (sink/s3dest), which the next run replaces like an expired one.
func (l *Lease) Release(ctx context.Context) error {
	if l.Err() != nil {
		return nil // not ours to remove any more
	}
	err := l.write(ctx, l.Version(), true)
	l.lose("released")
	if fault.Precondition(err) {
		return nil // another run replaced it: not ours to remove
	}
	if err == nil {
		err = l.store.Remove(ctx, l.name, l.Version())
	}
	if err != nil && !fault.Precondition(err) {
		return fmt.Errorf("release the lease %s in %s: %w", l.name, l.opts.Where, err)
	}
	return nil
}

// Parse reads a lease object, which came from the output: anyone who can
// write there could have written it.
func Parse(data []byte) (Holder, error) {
	var h Holder
	if err := json.Unmarshal(data, &h); err != nil {
		return Holder{}, fmt.Errorf("not a lease: %w", err)
	}
	if h.Expires.IsZero() {
		return Holder{}, errors.New("not a lease: no expiry")
	}
	return h, nil
}

// printable keeps what another run wrote from breaking a message line.
func printable(s string) string {
	const limit = 80
	b := []rune(s)
	if len(b) > limit {
		b = append(b[:limit], '…')
	}
	for i, r := range b {
		if r < 0x20 || r == 0x7f {
			b[i] = '?'
		}
	}
	return string(b)
}

// Live is the holder of a live lease name in store, or nil when there is
// none (absent, expired, or not a lease).
func Live(ctx context.Context, store Store, name string, now time.Time) (*Holder, error) {
	data, _, err := store.Read(ctx, name)
	if err != nil || data == nil {
		return nil, err
	}
	h, err := Parse(data)
	if err != nil || !h.Released.IsZero() || !now.Before(h.Expires) {
		return nil, nil
	}
	return &h, nil
}
