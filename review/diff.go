// Package review compares and reviews exports where they lie (a directory
// or an S3 prefix): the diff of two exports written to an output, and the
// access review of one (the report), compared with an earlier export named
// or found beside it. The diff and report commands, and an export's
// follow-up diff and report, all go through it.
package review

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/cognito-export/cognito-export/diff"
	"github.com/cognito-export/cognito-export/fault"
	"github.com/cognito-export/cognito-export/lease"
	"github.com/cognito-export/cognito-export/location"
	"github.com/cognito-export/cognito-export/reader"
	"github.com/cognito-export/cognito-export/sink"
	"github.com/cognito-export/cognito-export/sink/s3dest"
)

// Diff verifies the exports at oldLoc and newLoc and writes their diff to
// output, under the output's lease (unless opts.Lease.Off).
func Diff(ctx context.Context, oldLoc, newLoc, output string, opts diff.Options, s3opts s3dest.Options) (diff.Summary, error) {
	if opts.Format != "parquet" && opts.Format != "csv" {
		return diff.Summary{}, fault.Usagef(fmt.Sprintf("--format %q: use parquet or csv", opts.Format))
	}
	var sides [2]diff.Side
	for i, loc := range []string{oldLoc, newLoc} {
		src, err := reader.Open(ctx, loc, s3opts)
		if err != nil {
			return diff.Summary{}, openError(err)
		}
		if sides[i], err = diff.Open(ctx, loc, src); err != nil {
			return diff.Summary{}, err
		}
	}
	out, err := openOutput(ctx, output, s3opts)
	if err != nil {
		return diff.Summary{}, fmt.Errorf("output %s: %w", output, err)
	}
	if opts.Lease.Off {
		return diffInto(ctx, sides, out, output, opts)
	}
	st, ok := out.(lease.Store)
	if !ok {
		return diff.Summary{}, fmt.Errorf("output %s cannot hold a lease: pass --lease=off", output)
	}
	l, err := lease.Acquire(ctx, st, lease.Name, lease.Options{TTL: opts.Lease.TTL, RunID: opts.Lease.RunID, Where: output, Logger: opts.Logger})
	if err != nil {
		return diff.Summary{}, err
	}
	var sum diff.Summary
	err = lease.Hold(ctx, l, func(ctx context.Context) error {
		var err error
		sum, err = diffInto(ctx, sides, fencedDir{out, l}, output, opts)
		return err
	})
	return sum, err
}

// diffInto writes the diff of sides into out, which must not already hold a
// complete one. What an interrupted diff left there is removed first.
func diffInto(ctx context.Context, sides [2]diff.Side, out diffOutput, output string, opts diff.Options) (diff.Summary, error) {
	if m, err := out.Get(ctx, reader.ManifestName); err != nil {
		return diff.Summary{}, fmt.Errorf("output %s: %w", output, err)
	} else if m != nil {
		return diff.Summary{}, fault.Usagef(fmt.Sprintf("output %s already holds a complete diff or export (%s): choose an empty --output", output, reader.ManifestName))
	}
	// What an interrupted diff left there is not evidence of anything.
	err := out.Prune(ctx, func(name string) bool {
		return reader.IsPart(name) || name == diff.SummaryName || name == reader.SignatureName
	})
	if err != nil {
		return diff.Summary{}, fmt.Errorf("output %s: %w", output, err)
	}
	return diff.Run(ctx, sides[0], sides[1], out, opts)
}

// diffOutput is what a diff does with its output.
type diffOutput interface {
	diff.Destination
	Get(ctx context.Context, name string) ([]byte, error)
	Prune(ctx context.Context, remove func(name string) bool) error
}

// fencedDir is a diff's output with every write checked against its lease
// first: a diff that lost its lease writes nothing more.
type fencedDir struct {
	location.Dir
	l *lease.Lease
}

func (d fencedDir) Create(ctx context.Context, name string) (sink.Part, error) {
	if err := d.l.Err(); err != nil {
		return nil, err
	}
	p, err := d.Dir.Create(ctx, name)
	if err != nil {
		return nil, err
	}
	return fencedPart{p, d.l}, nil
}

func (d fencedDir) Put(ctx context.Context, name string, data []byte) error {
	if err := d.l.Err(); err != nil {
		return err
	}
	return d.Dir.Put(ctx, name, data)
}

func (d fencedDir) Prune(ctx context.Context, remove func(name string) bool) error {
	if err := d.l.Err(); err != nil {
		return err
	}
	return d.Dir.Prune(ctx, remove)
}

type fencedPart struct {
	sink.Part
	l *lease.Lease
}

func (p fencedPart) Write(ctx context.Context, b []byte) error {
	if err := p.l.Err(); err != nil {
		return err
	}
	return p.Part.Write(ctx, b)
}

func (p fencedPart) Commit(ctx context.Context) error {
	if err := p.l.Err(); err != nil {
		p.Part.Abort(ctx)
		return err
	}
	return p.Part.Commit(ctx)
}

// openOutput opens where a diff is written.
func openOutput(ctx context.Context, output string, s3opts s3dest.Options) (location.Dir, error) {
	loc, err := location.Parse(output)
	if err != nil {
		return nil, fault.New(fault.Usage, "", err)
	}
	return loc.OpenWrite(ctx, s3opts)
}

// PrintDiff writes a diff's summary and where its rows went.
func PrintDiff(w io.Writer, sum diff.Summary, output string) {
	sum.WriteText(w)
	fmt.Fprintf(w, "written: %s change rows in %s to %s\n", Thousands(sum.Changes), Plural(sum.Parts, "part"), output)
}

// openError makes "no export there" a usage error (exit 2).
func openError(err error) error {
	if errors.Is(err, reader.ErrNoExport) {
		return fault.Usagef(err.Error())
	}
	return err
}

// SignatureLine says in one line what is known of an export's signature.
func SignatureLine(s reader.Signature) string {
	switch {
	case !s.Present:
		return "not signed"
	case !s.Valid:
		return "signature BAD"
	case s.Trusted():
		return fmt.Sprintf("signed by key %s, allowed by %s as %s", s.Fingerprint, s.CheckedAgainst, strings.Join(s.Principals, "; "))
	}
	return fmt.Sprintf("signed by key %s (the signer is not checked: pass --allowed-signers)", s.Fingerprint)
}

// Plural counts a noun for the console: "1 part", "1,204 parts".
func Plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return Thousands(int64(n)) + " " + noun + "s"
}

// Thousands prints n with commas: 173,570.
func Thousands(n int64) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return "-" + Thousands(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
