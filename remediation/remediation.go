// Package remediation turns a review's revoke decisions into the AWS CLI
// commands that carry them out: for each membership decided revoke that an
// export still holds, one admin-remove-user-from-group in a shell script an
// administrator reads and runs, with the least-privilege policy to run it.
// The tool itself never changes a pool.
package remediation

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/cognito-export/cognito-export/decisions"
	"github.com/cognito-export/cognito-export/fault"
	"github.com/cognito-export/cognito-export/reader"
	"github.com/cognito-export/cognito-export/rowscan"
	"github.com/cognito-export/cognito-export/sink/s3dest"
)

// Options say which decisions are carried out, checked against which
// export, and where the script goes.
type Options struct {
	// Decisions is the reviewers' decisions.csv (a local file).
	Decisions string
	// Export is the export the revocations are checked against: the
	// pool as it is now, a directory or s3://bucket/prefix/.
	Export string
	// Output is the script (a local file); Policy the IAM policy, "" for
	// beside the script (remove.sh: remove-policy.json).
	Output, Policy string
	S3             s3dest.Options
	// Generator names this program in the script; Now is the clock.
	Generator string
	Now       func() time.Time
}

// Result counts the revocations by what the export says of them.
type Result struct {
	Decisions, Revokes             int
	Remove, Gone, Recreated        int
	Script, Policy, ExportLocation string
}

// PolicyPath is where the policy goes for a script at output, unless said.
func PolicyPath(output string) string {
	return strings.TrimSuffix(output, filepath.Ext(output)) + "-policy.json"
}

// Run reads the decisions, checks each revocation against the export and
// writes the policy, then the script (last: a script present is a
// complete one). Bad input (a decisions file that cannot be taken, one of
// another pool than the export, no complete export) is a usage error;
// nothing is written then.
func Run(ctx context.Context, opts Options) (Result, error) {
	var res Result
	if strings.HasPrefix(opts.Output, "s3://") || opts.Output == "" {
		return res, fault.Usagef("remediation: --output is the script to write, a local file such as remove.sh")
	}
	if opts.Policy == "" {
		opts.Policy = PolicyPath(opts.Output)
	}
	ds, err := readDecisions(opts.Decisions)
	if err != nil {
		return res, err
	}
	res.Decisions = len(ds)
	poolID := ds[0].PoolID
	if _, err := Region(poolID); err != nil {
		return res, fault.Usagef(fmt.Sprintf("remediation: %s, line %d: %v", opts.Decisions, ds[0].Line, err))
	}
	var revokes []decisions.Decision
	for _, d := range ds {
		if d.Verdict == decisions.Revoke {
			revokes = append(revokes, d)
		}
	}
	res.Revokes = len(revokes)

	side, err := openExport(ctx, opts.Export, opts.S3)
	if err != nil {
		return res, err
	}
	res.ExportLocation = side.location
	if p := side.manifest.Parameters["user_pool_id"]; p != poolID {
		return res, fault.Usagef(fmt.Sprintf("remediation: %s decides about pool %s, the export at %s is of pool %s: give the export of the decisions' pool", opts.Decisions, poolID, side.location, p))
	}
	present, recreated, err := check(ctx, side, revokes)
	if err != nil {
		return res, err
	}
	s := Script{PoolID: poolID, Generator: opts.Generator, WrittenAt: now(opts), Export: side.location,
		ExportSHA256: side.manifest.SHA256, ExportedAt: side.manifest.StartedAt, DecisionsFile: opts.Decisions, Policy: filepath.Base(opts.Policy)}
	s.Region, _ = Region(poolID)
	for k, d := range revokes {
		switch {
		case present[k]:
			s.Remove = append(s.Remove, d)
		case recreated[k]:
			s.Recreated = append(s.Recreated, d)
		default:
			s.Gone = append(s.Gone, d)
		}
	}
	res.Remove, res.Gone, res.Recreated = len(s.Remove), len(s.Gone), len(s.Recreated)
	if err := writeFile(opts.Policy, 0o644, func(w io.Writer) error { return WritePolicy(w, poolID) }); err != nil {
		return res, err
	}
	if err := writeFile(opts.Output, 0o700, func(w io.Writer) error { return WriteScript(w, filepath.Base(opts.Output), s) }); err != nil {
		return res, err
	}
	res.Script, res.Policy = opts.Output, opts.Policy
	return res, nil
}

func now(opts Options) time.Time {
	if opts.Now != nil {
		return opts.Now()
	}
	return time.Now()
}

func readDecisions(path string) ([]decisions.Decision, error) {
	if path == "" {
		return nil, fault.Usagef("remediation: --decisions is required: the reviewers' decisions.csv")
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fault.Usagef(fmt.Sprintf("remediation: --decisions %s: no such file", path))
	}
	if err != nil {
		return nil, fmt.Errorf("remediation: open %s: %w", path, err)
	}
	defer f.Close()
	ds, err := decisions.Read(f)
	if err != nil {
		var le *decisions.LineError
		if errors.As(err, &le) {
			return nil, fault.Usagef(fmt.Sprintf("remediation: %s: %v; nothing written", path, err))
		}
		return nil, fmt.Errorf("remediation: read %s: %w", path, err)
	}
	if len(ds) == 0 {
		return nil, fault.Usagef(fmt.Sprintf("remediation: %s holds no decision (keep or revoke): nothing to carry out", path))
	}
	return ds, nil
}

type exportSide struct {
	src      reader.Source
	manifest reader.Manifest
	location string
}

// openExport opens and verifies the export: commands are written only
// from evidence that is what was written.
func openExport(ctx context.Context, where string, s3opts s3dest.Options) (exportSide, error) {
	if where == "" {
		return exportSide{}, fault.Usagef("remediation: --export is required: the latest export of the pool, to check which revocations are still to do")
	}
	src, err := reader.Open(ctx, where, s3opts)
	if err == nil {
		var res reader.Result
		res, err = reader.Verify(ctx, src, func(reader.Problem) {})
		if err == nil && !res.Intact() {
			return exportSide{}, fmt.Errorf("remediation: the export at %s is not intact: run cognito-export verify %s", src, where)
		}
		if err == nil {
			if t := res.Manifest.Parameters["table"]; t != "" {
				return exportSide{}, fault.Usagef(fmt.Sprintf("remediation: %s holds a diff (%s), not an export: give an export of the pool", src, t))
			}
			return exportSide{src: src, manifest: res.Manifest, location: src.String()}, nil
		}
	}
	if errors.Is(err, reader.ErrNoExport) {
		return exportSide{}, fault.Usagef("remediation: --export: " + err.Error())
	}
	return exportSide{}, fmt.Errorf("remediation: read %s: %w", where, err)
}

// check streams the export's memberships once and says, for each
// revocation, whether the export holds it (present) or holds the same
// username in the same group under another sub (recreated: a new user of
// the old name, whom a command by username would hit).
func check(ctx context.Context, side exportSide, revokes []decisions.Decision) (present, recreated []bool, err error) {
	present, recreated = make([]bool, len(revokes)), make([]bool, len(revokes))
	type userGroup struct{ user, group string }
	exact := make(map[decisions.Key]int, len(revokes))
	byName := make(map[userGroup][]int, len(revokes))
	for k, d := range revokes {
		exact[d.Key()] = k
		byName[userGroup{d.Username, d.Group}] = append(byName[userGroup{d.Username, d.Group}], k)
	}
	err = rowscan.Scan(ctx, side.src, side.manifest, []string{"username", "user_sub", "group_name"}, rowscan.Options{}, func(row []rowscan.Value) error {
		if !row[2].Valid || row[2].S == "" {
			return nil // a user without groups
		}
		if k, ok := exact[decisions.Key{Username: row[0].S, Sub: row[1].S, Group: row[2].S}]; ok {
			present[k] = true
			return nil
		}
		for _, k := range byName[userGroup{row[0].S, row[2].S}] {
			recreated[k] = true
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("remediation: %w", err)
	}
	return present, recreated, nil
}

// writeFile writes a file whole or not at all: a temporary file beside it,
// synced, then renamed over it.
func writeFile(path string, mode os.FileMode, write func(io.Writer) error) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-")
	if err != nil {
		return fmt.Errorf("remediation: write %s: %w", path, err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // after the rename, nothing is there
	err = write(f)
	if err == nil {
		err = f.Chmod(mode)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		return fmt.Errorf("remediation: write %s: %w", path, err)
	}
	return nil
}
