package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/cognito-export/cognito-export/diff"
	"github.com/cognito-export/cognito-export/export"
	"github.com/cognito-export/cognito-export/location"
	"github.com/cognito-export/cognito-export/reader"
	"github.com/cognito-export/cognito-export/sink"
	"github.com/cognito-export/cognito-export/sink/s3dest"
)

// errChanges is a diff with --exit-code that found changes: exit 1, like
// git diff --exit-code. Its summary is already printed.
var errChanges = errors.New("the exports differ")

// diffFlags are the choices of a diff, shared by `diff` and
// `export --diff-against`.
type diffFlags struct {
	format, compression string
	csvRaw, roleOnly    bool
	allowDifferentPools bool
	privileged          string
	tempDir             string
	partitions          int
}

func (d *diffFlags) options(log *slog.Logger) diff.Options {
	o := diff.Options{Format: d.format, Compression: d.compression, CSVRaw: d.csvRaw, GroupsWithRoleOnly: d.roleOnly,
		AllowDifferentPools: d.allowDifferentPools, TempDir: d.tempDir, Partitions: d.partitions, Logger: log}
	for _, g := range strings.Split(d.privileged, ",") {
		if g = strings.TrimSpace(g); g != "" {
			o.Privileged = append(o.Privileged, g)
		}
	}
	return o
}

// runDiff compares two exports and writes the change rows.
func runDiff(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("diff", "diff OLD NEW --output DIR|s3://bucket/prefix/ [flags]", stdout)
	var df diffFlags
	var s3opts s3dest.Options
	var output string
	var exitCodeFlag bool
	fs.StringVar(&output, "output", "", "where the change rows go: a directory or s3://bucket/prefix/ (required)")
	fs.StringVar(&df.format, "format", "parquet", "format of the change rows: "+strings.Join(sink.Formats, " or "))
	fs.StringVar(&df.compression, "compression", "snappy", "Parquet compression: "+strings.Join(sink.Compressions, ", "))
	fs.BoolVar(&df.csvRaw, "csv-raw", false, "write CSV cells as they are, without neutralising spreadsheet formulas")
	fs.BoolVar(&exitCodeFlag, "exit-code", false, "exit 1 when there are changes (like git diff --exit-code)")
	fs.BoolVar(&df.roleOnly, "groups-with-role-only", false, "only changes about groups with a role ARN, and their members")
	fs.BoolVar(&df.allowDifferentPools, "allow-different-pools", false, "compare exports of two different pools")
	fs.StringVar(&df.privileged, "privileged-groups", "", "comma-separated groups whose membership changes the summary lists in full, besides those with a role ARN")
	fs.StringVar(&df.tempDir, "temp-dir", "", "where both exports are spilled while compared (default: the system's temporary directory)")
	fs.IntVar(&df.partitions, "partitions", 0, "how many parts each export is spilled into by user; one of each is in memory at a time (default: from the exports' sizes)")
	fs.StringVar(&s3opts.Region, "region", "", "AWS region of the S3 buckets (default: the SDK's chain, e.g. AWS_REGION)")
	fs.StringVar(&s3opts.EndpointURL, "endpoint-url", "", "S3 endpoint (default: the SDK's chain, e.g. AWS_ENDPOINT_URL_S3)")
	pos, rest, err := splitArgs("diff", args, 2, map[string]bool{"csv-raw": true, "exit-code": true, "groups-with-role-only": true, "allow-different-pools": true})
	if err != nil {
		return err
	}
	if err := parseFlags(fs, rest); err != nil {
		return err
	}
	if len(pos) != 2 {
		return usageError{"diff: want two export locations, OLD and NEW (see cognito-export diff -h)"}
	}
	if output == "" {
		return usageError{"diff: missing --output, a directory or s3://bucket/prefix/ for the change rows"}
	}
	con, err := newConsole(stderr, "")
	if err != nil {
		return err
	}
	allowHeap(diffMemoryLimit)
	sum, err := diffExports(ctx, pos[0], pos[1], output, df, s3opts, con.log)
	if err != nil {
		return fmt.Errorf("diff: %w", err)
	}
	sum.WriteText(stdout)
	fmt.Fprintf(stdout, "written: %s change rows in %s to %s\n", thousands(sum.Changes), plural(sum.Parts, "part"), output)
	if exitCodeFlag && sum.Changes > 0 {
		return errChanges
	}
	return nil
}

// diffExports verifies both exports and writes their diff to output, which
// must not already hold a complete one.
func diffExports(ctx context.Context, oldLoc, newLoc, output string, df diffFlags, s3opts s3dest.Options, log *slog.Logger) (diff.Summary, error) {
	if df.format != "parquet" && df.format != "csv" {
		return diff.Summary{}, usageError{fmt.Sprintf("--format %q: use parquet or csv", df.format)}
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
	out, err := export.OpenOutput(ctx, output, s3opts)
	if err != nil {
		return diff.Summary{}, fmt.Errorf("output %s: %w", output, err)
	}
	if m, err := out.Get(ctx, reader.ManifestName); err != nil {
		return diff.Summary{}, fmt.Errorf("output %s: %w", output, err)
	} else if m != nil {
		return diff.Summary{}, usageError{fmt.Sprintf("output %s already holds a complete diff or export (%s): choose an empty --output", output, reader.ManifestName)}
	}
	// What an interrupted diff left there is not evidence of anything.
	err = out.Prune(ctx, func(name string) bool { return reader.IsPart(name) || name == diff.SummaryName })
	if err != nil {
		return diff.Summary{}, fmt.Errorf("output %s: %w", output, err)
	}
	return diff.Run(ctx, sides[0], sides[1], out, df.options(log))
}

// openError makes "no export there" a usage error (exit 2).
func openError(err error) error {
	if errors.Is(err, reader.ErrNoExport) {
		return usageError{err.Error()}
	}
	return err
}

// diffAfterExport diffs a complete export against --diff-against: a
// location, or "latest", the newest earlier export of the pool beside it.
// The diff goes under the export (diff/). No earlier export is not an
// error: a first scheduled run has nothing to compare with. The summary is
// nil when no diff was made now (none to make, or one already there).
func diffAfterExport(ctx context.Context, cfg export.Config, against string, df diffFlags, log *slog.Logger, stdout io.Writer) (*diff.Summary, error) {
	s3opts := cfg.S3Options()
	loc, err := location.Parse(cfg.Output)
	if err != nil {
		return nil, err
	}
	out := loc.Join("diff").String()
	self, err := reader.Open(ctx, cfg.Output, s3opts)
	if err != nil {
		return nil, err
	}
	m, err := reader.ReadManifest(ctx, self)
	if err != nil {
		return nil, err
	}
	if dst, err := reader.Open(ctx, out, s3opts); err == nil {
		if dm, err := reader.ReadManifest(ctx, dst); err == nil {
			if dm.Parameters["new_manifest_sha256"] == m.SHA256 {
				log.Info("the diff of this export is already complete", "diff", out)
				return nil, nil
			}
			// The export was made again (--fresh): its old diff is of
			// another export, and would be evidence of nothing.
			log.Info("replacing the diff of an earlier export in this output", "diff", out)
			o, err := export.OpenOutput(ctx, out, s3opts)
			if err == nil {
				err = o.Delete(ctx, reader.ManifestName)
			}
			if err != nil {
				return nil, fmt.Errorf("replace the stale diff in %s: %w", out, err)
			}
		}
	}
	if against == "latest" {
		prev, ok, err := reader.Latest(ctx, cfg.Output, cfg.UserPoolID, m.StartedAt, s3opts)
		if err != nil {
			return nil, err
		}
		if !ok {
			log.Info("no earlier complete export of this pool beside this one: nothing to diff against", "output", cfg.Output)
			return nil, nil
		}
		against = prev.Location
		log.Info("diffing against the latest earlier export", "previous", against)
	}
	sum, err := diffExports(ctx, against, cfg.Output, out, df, s3opts, log)
	if err != nil {
		return nil, fmt.Errorf("export complete, but its diff against %s failed: %w", against, err)
	}
	sum.WriteText(stdout)
	fmt.Fprintf(stdout, "written: %s change rows in %s to %s\n", thousands(sum.Changes), plural(sum.Parts, "part"), out)
	return &sum, nil
}
