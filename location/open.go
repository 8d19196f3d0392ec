package location

import (
	"context"
	"io"

	"github.com/cognito-export/cognito-export/sink"
	"github.com/cognito-export/cognito-export/sink/localdest"
	"github.com/cognito-export/cognito-export/sink/s3dest"
)

// Dir is a location opened: a local directory (localdest.Dir) or an S3
// prefix (s3dest.Prefix), with what both of them do. It is wide because it
// is the two destinations' common face, not a contract of its own: each
// user holds it by the few methods it needs (reader.Source,
// export.Output, sink.Putter).
type Dir interface {
	// Create starts a part that becomes visible under name on Commit.
	Create(ctx context.Context, name string) (sink.Part, error)
	// Put writes a small file atomically; Get reads one ((nil, nil) when
	// absent); Delete removes one (a missing one is not an error).
	Put(ctx context.Context, name string, data []byte) error
	Get(ctx context.Context, name string) ([]byte, error)
	Delete(ctx context.Context, name string) error
	// Prune removes the files directly under the location that remove
	// accepts, with the temporary files of unfinished writes.
	Prune(ctx context.Context, remove func(name string) bool) error
	// Open streams a file; a missing one is an error wrapping
	// fs.ErrNotExist. List names the files directly under the location,
	// Dirs the directories (or prefixes).
	Open(ctx context.Context, name string) (io.ReadCloser, error)
	List(ctx context.Context) ([]string, error)
	Dirs(ctx context.Context) ([]string, error)
	String() string
}

// OpenRead opens l for reading only: nothing is created or written, so a
// reader (an auditor's verify) needs no write permission and a mistyped
// path is not made into an empty directory. A local directory that does
// not exist is an error wrapping fs.ErrNotExist; an S3 prefix is checked by
// listing it. s3opts say how to reach S3, and are unused for a local
// directory.
func (l Location) OpenRead(ctx context.Context, s3opts s3dest.Options) (Dir, error) {
	if l.IsS3() {
		p, err := s3dest.OpenRead(ctx, l.s3URL(), s3opts)
		if err != nil {
			return nil, err
		}
		return p, nil
	}
	d, err := localdest.OpenExisting(l.path)
	if err != nil {
		return nil, err
	}
	return d, nil
}

// OpenWrite opens l for writing and proves it writable: a local directory
// is created if needed and probed, an S3 prefix gets a probe object written
// and deleted, so that a bad output fails before any work is spent. With
// s3opts.Retention, everything written is locked (s3dest.Retention): the
// bucket must have Object Lock, and a directory is refused. Errors
// keep their cause, so that package fault tells what the user must change
// from what a retry may fix.
func (l Location) OpenWrite(ctx context.Context, s3opts s3dest.Options) (Dir, error) {
	if l.IsS3() {
		p, err := s3dest.Open(ctx, l.s3URL(), s3opts)
		if err != nil {
			return nil, err
		}
		return p, nil
	}
	if err := s3opts.Retention.ForDirectory(l.text); err != nil {
		return nil, err
	}
	d, err := localdest.Open(l.path)
	if err != nil {
		return nil, err
	}
	return d, nil
}

// s3URL is l as s3dest takes it.
func (l Location) s3URL() string { return s3Scheme + l.bucket + "/" + l.key }

// CheckObjectLock checks, writing nothing, that the retention s3opts ask
// for can be had at l: an S3 prefix in a bucket with Object Lock enabled.
// A directory has no Object Lock.
func (l Location) CheckObjectLock(ctx context.Context, s3opts s3dest.Options) error {
	if !l.IsS3() {
		return s3opts.Retention.ForDirectory(l.text)
	}
	return s3dest.CheckObjectLock(ctx, l.s3URL(), s3opts)
}
