package reader

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/cognito-export/cognito-export/location"
	"github.com/cognito-export/cognito-export/sink/s3dest"
)

// Previous is the export Latest found.
type Previous struct {
	Location string
	Manifest Manifest
}

// Latest finds the most recent complete export of poolID beside the export
// at location: among the sibling directories or prefixes of location's
// parent (…/pool=X/dt=2026-12-01/ beside …/pool=X/dt=2026-12-02/), the one
// whose manifest names the same pool and started last before before. A
// sibling that is not an export (no manifest, another pool, a diff) is
// passed over. ok is false when there is none.
func Latest(ctx context.Context, where, poolID string, before time.Time, s3opts s3dest.Options) (Previous, bool, error) {
	prev, _, ok, err := LatestComparable(ctx, where, poolID, before, s3opts, nil)
	return prev, ok, err
}

// Passed is an export LatestComparable passed over, and why.
type Passed struct {
	Location string
	Reason   error
}

// LatestComparable is Latest for an export to be compared with: among the
// earlier exports of the pool, newest first, it passes over those for
// which incomparable (nil: none) says why they cannot be compared, and
// returns them, so the caller can say which it passed over; ok is false
// when none is left.
func LatestComparable(ctx context.Context, where, poolID string, before time.Time, s3opts s3dest.Options,
	incomparable func(Manifest) error) (Previous, []Passed, bool, error) {
	loc, err := location.Parse(where)
	if err != nil {
		return Previous{}, nil, false, err
	}
	parent, ok := loc.Parent()
	if !ok {
		return Previous{}, nil, false, fmt.Errorf("output %s has no parent prefix to hold earlier exports", where)
	}
	self := loc.Base()
	src, err := openAt(ctx, parent, s3opts)
	if errors.Is(err, ErrNoExport) {
		return Previous{}, nil, false, nil
	}
	if err != nil {
		return Previous{}, nil, false, fmt.Errorf("look for the previous export in %s: %w", parent, err)
	}
	names, err := src.Dirs(ctx)
	if err != nil {
		return Previous{}, nil, false, fmt.Errorf("look for the previous export in %s: %w", parent, err)
	}
	var earlier []Previous
	for _, name := range names {
		if name == self {
			continue
		}
		sib := parent.Join(name).String()
		// Through the parent's connection: one S3 client for every
		// sibling, however many days the schedule has kept.
		m, err := ReadManifest(ctx, under{src, name, sib})
		if err != nil || m.Parameters["table"] != "" || m.Parameters["user_pool_id"] != poolID || !m.StartedAt.Before(before) {
			continue
		}
		earlier = append(earlier, Previous{Location: sib, Manifest: m})
	}
	slices.SortStableFunc(earlier, func(x, y Previous) int { return y.Manifest.StartedAt.Compare(x.Manifest.StartedAt) })
	var passed []Passed
	for _, p := range earlier {
		if incomparable != nil {
			if err := incomparable(p.Manifest); err != nil {
				passed = append(passed, Passed{p.Location, err})
				continue
			}
		}
		return p, passed, true, nil
	}
	return Previous{}, passed, false, nil
}

// under is the directory (or prefix) name under parent, read through
// parent: enough for ReadManifest.
type under struct {
	parent   Source
	name     string
	location string
}

func (u under) Open(ctx context.Context, file string) (io.ReadCloser, error) {
	return u.parent.Open(ctx, u.name+"/"+file)
}

func (u under) List(context.Context) ([]string, error) {
	return nil, errors.New("not listed: only its manifest is read")
}

func (u under) String() string { return u.location }
