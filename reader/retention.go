package reader

import (
	"context"
	"errors"
	"time"

	"github.com/cognito-export/cognito-export/lease"
	"github.com/cognito-export/cognito-export/sink/s3dest"
)

// Unretained is a file under no S3 Object Lock retention, or under one
// that has run out: anyone allowed to delete it can.
const Unretained Kind = "unretained"

// retentionSource is a source that knows the retention of its files: an
// S3 prefix.
type retentionSource interface {
	RetentionOf(ctx context.Context, name string) (s3dest.ObjectRetention, error)
}

// ErrNoRetention is a location whose files cannot be under retention: a
// directory has no Object Lock.
var ErrNoRetention = errors.New("retention is S3 Object Lock's: a directory has none, give an s3:// location")

// HoldsRetention reports whether the files at src can be under retention:
// an S3 prefix can, a directory cannot.
func HoldsRetention(src Source) bool {
	_, ok := src.(retentionSource)
	return ok
}

// RetentionResult is what CheckRetention found.
type RetentionResult struct {
	Files      int // files asked about
	Unretained int // of those, under no retention now
	// Modes counts the retained files by mode (GOVERNANCE, COMPLIANCE).
	Modes map[string]int
	// Earliest is the soonest retain-until date among the retained files:
	// the export stays whole at least until then.
	Earliest time.Time
}

// CheckRetention asks for the Object Lock retention of every file directly
// under src: the parts, the manifest and whatever sits beside them (a
// signature, summary.json, the report), since all of them are the
// evidence (not the run's lease). Each file under none, or under one already past at now, goes
// to report. A diff under diff/ is a location of its own, checked on its
// own. The error is for what stops the check: a source that cannot hold
// retention (ErrNoRetention), a failed listing or request.
func CheckRetention(ctx context.Context, src Source, now time.Time, report func(Problem)) (RetentionResult, error) {
	res := RetentionResult{Modes: map[string]int{}}
	rs, ok := src.(retentionSource)
	if !ok {
		return res, ErrNoRetention
	}
	names, err := src.List(ctx)
	if err != nil {
		return res, err
	}
	for _, name := range names {
		if lease.IsName(name) {
			// The run's lease, kept released in a versioned bucket:
			// not evidence, and rewritten by the next run.
			continue
		}
		r, err := rs.RetentionOf(ctx, name)
		if err != nil {
			return res, err
		}
		res.Files++
		switch {
		case r.Mode == "":
			res.Unretained++
			report(Problem{Kind: Unretained, Name: name, Detail: "under no Object Lock retention"})
		case !r.Until.After(now):
			res.Unretained++
			report(Problem{Kind: Unretained, Name: name, Detail: "its " + r.Mode + " retention ran out at " + r.Until.Format(time.RFC3339)})
		default:
			res.Modes[r.Mode]++
			if res.Earliest.IsZero() || r.Until.Before(res.Earliest) {
				res.Earliest = r.Until
			}
		}
	}
	return res, nil
}
