package export

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/cognito-export/cognito-export/checkpoint"
	"github.com/cognito-export/cognito-export/fault"
	"github.com/cognito-export/cognito-export/location"
	"github.com/cognito-export/cognito-export/sink"
	"github.com/cognito-export/cognito-export/sink/s3dest"
)

// Output is where an export goes: parts, the manifest and small state files.
type Output interface {
	sink.Destination
	checkpoint.Blob
	// Prune removes every file directly under the output that remove
	// accepts, unfinished uploads and temporary files included: orphans
	// of a run that was killed. The export decides which names are its.
	Prune(ctx context.Context, remove func(name string) bool) error
}

// NewRunID names one run: sortable by time, unique across hosts.
func NewRunID(now time.Time) string {
	var b [3]byte
	rand.Read(b[:])
	return now.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
}

// Placeholders are the values of an output location's placeholders.
type Placeholders struct {
	RunID, Pool string
	// Account and Region are the pool's; "" when unknown, and then a
	// location that uses them is refused.
	Account, Region string
	Now             time.Time
}

// ExpandPlaceholders fills {date} (UTC YYYY-MM-DD), {run_id}, {pool},
// {account} and {region} in an output location, so that a scheduled job
// writes each run to its own Hive-style path such as
// s3://bucket/cognito/account={account}/region={region}/pool={pool}/dt={date}/.
func ExpandPlaceholders(location string, p Placeholders) (string, error) {
	if p.Account == "" && strings.Contains(location, "{account}") {
		return "", fault.Usagef(fmt.Sprintf("output %q: {account} is unknown for pool %s: give the pool a role-arn (arn:aws:iam::ACCOUNT:role/NAME)", location, p.Pool))
	}
	if p.Region == "" && strings.Contains(location, "{region}") {
		return "", fault.Usagef(fmt.Sprintf("output %q: {region} is unknown for pool %s: give the pool a region (--region or AWS_REGION)", location, p.Pool))
	}
	r := strings.NewReplacer("{date}", p.Now.UTC().Format("2006-01-02"), "{run_id}", p.RunID, "{pool}", p.Pool,
		"{account}", p.Account, "{region}", p.Region)
	out := r.Replace(location)
	if i := strings.IndexByte(out, '{'); i >= 0 && strings.IndexByte(out[i:], '}') > 0 {
		return "", fault.Usagef(fmt.Sprintf("output %q: unknown placeholder; use {date}, {run_id}, {pool}, {account} or {region}", location))
	}
	return out, nil
}

// AccountOf is the account id in a role ARN (arn:aws:iam::ACCOUNT:role/NAME),
// or "" when arn is not one.
func AccountOf(arn string) string {
	parts := strings.Split(arn, ":")
	if len(parts) < 6 || parts[0] != "arn" || parts[2] != "iam" || !strings.HasPrefix(parts[5], "role/") || len(parts[4]) != 12 {
		return ""
	}
	return parts[4]
}

// S3Options are the S3 settings of cfg: S3 is in Cognito's region unless
// told otherwise.
//
// With Object Lock retention, everything the export writes under its output
// is evidence and locked but its working files (see working), which the
// run deletes as it goes and at its end.
func (c *Config) S3Options() s3dest.Options {
	o := c.S3
	if o.Region == "" {
		o.Region = c.Client.Region
	}
	if o.Retention.On() {
		o.Retention.Working = working
	}
	return o
}

// OpenOutput opens a local directory or an S3 prefix and proves it
// writable. Its errors keep their cause, so that fault tells what the user
// must change (exit 2) from what a retry may fix (exit 1).
func OpenOutput(ctx context.Context, output string, s3opts s3dest.Options) (Output, error) {
	loc, err := location.Parse(output)
	if err != nil {
		return nil, fault.Usagef(fmt.Sprintf("--output: %v", err))
	}
	return loc.OpenWrite(ctx, s3opts)
}

// openCheckpoint returns the checkpoint store: CheckpointName under the
// output, or the file or S3 object named by --checkpoint.
func openCheckpoint(ctx context.Context, file string, out Output, s3opts s3dest.Options, f *fence) (*checkpoint.Store, error) {
	if file == "" {
		return checkpoint.NewStore(out, CheckpointName, fmt.Sprintf("%s/%s", strings.TrimSuffix(fmt.Sprint(out), "/"), CheckpointName)), nil
	}
	loc, err := location.Parse(file)
	if err != nil {
		return nil, fault.Usagef(fmt.Sprintf("--checkpoint: %v", err))
	}
	dir, name, ok := loc.Split()
	if !ok {
		return nil, fault.Usagef(fmt.Sprintf("--checkpoint %q: want a file, s3://bucket/path/name.json or a local path, not a directory", file))
	}
	// The checkpoint is rewritten at every commit and removed at the end:
	// never evidence, wherever it lives.
	s3opts.Retention = s3dest.Retention{}
	d, err := dir.OpenWrite(ctx, s3opts)
	if err != nil {
		return nil, fmt.Errorf("--checkpoint: %w", err)
	}
	return checkpoint.NewStore(fencedBlob{d, f}, name, file), nil
}
