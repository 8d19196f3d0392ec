package reader

import (
	"context"
	"errors"
	"fmt"
	"io"
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
	loc, err := location.Parse(where)
	if err != nil {
		return Previous{}, false, err
	}
	parent, ok := loc.Parent()
	if !ok {
		return Previous{}, false, fmt.Errorf("output %s has no parent prefix to hold earlier exports", where)
	}
	self := loc.Base()
	src, err := openAt(ctx, parent, s3opts)
	if errors.Is(err, ErrNoExport) {
		return Previous{}, false, nil
	}
	if err != nil {
		return Previous{}, false, fmt.Errorf("look for the previous export in %s: %w", parent, err)
	}
	names, err := src.Dirs(ctx)
	if err != nil {
		return Previous{}, false, fmt.Errorf("look for the previous export in %s: %w", parent, err)
	}
	var best Previous
	found := false
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
		if !found || m.StartedAt.After(best.Manifest.StartedAt) {
			best, found = Previous{Location: sib, Manifest: m}, true
		}
	}
	return best, found, nil
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
