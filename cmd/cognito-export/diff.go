package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/cognito-export/cognito-export/diff"
	"github.com/cognito-export/cognito-export/review"
	"github.com/cognito-export/cognito-export/sink"
	"github.com/cognito-export/cognito-export/sink/s3dest"
)

// errChanges is a diff with --exit-code that found changes: exit 1, like
// git diff --exit-code. Its summary is already printed.
var errChanges = errors.New("the exports differ")

// diffFlags are the flags of diff: where the change rows go and how.
type diffFlags struct {
	output              string
	exitCode            bool
	format, compression string
	csvRaw, roleOnly    bool
	allowDifferentPools bool
	privileged          string
	tempDir             string
	partitions          int
	lease               diff.Lease
	signing             signingFlag
	s3                  s3dest.Options
}

func (d *diffFlags) bind(fs *flag.FlagSet) {
	fs.StringVar(&d.output, "output", "", "where the change rows go: a directory or s3://bucket/prefix/ (required)")
	fs.StringVar(&d.format, "format", "parquet", "format of the change rows: "+strings.Join(sink.Formats, " or "))
	fs.StringVar(&d.compression, "compression", "snappy", "Parquet compression: "+strings.Join(sink.Compressions, ", "))
	fs.BoolVar(&d.csvRaw, "csv-raw", false, "write CSV cells as they are, without neutralising spreadsheet formulas")
	fs.BoolVar(&d.exitCode, "exit-code", false, "exit 1 when there are changes (like git diff --exit-code)")
	fs.BoolVar(&d.roleOnly, "groups-with-role-only", false, "only changes about groups with a role ARN, and their members")
	fs.BoolVar(&d.allowDifferentPools, "allow-different-pools", false, "compare exports of two different pools")
	fs.StringVar(&d.privileged, "privileged-groups", "", "comma-separated groups whose membership changes the summary lists in full, besides those with a role ARN")
	fs.StringVar(&d.tempDir, "temp-dir", "", "where both exports are spilled while compared (default: the system's temporary directory)")
	fs.IntVar(&d.partitions, "partitions", 0, "how many parts each export is spilled into by user; one of each is in memory at a time (default: from the exports' sizes)")
	bindLease(fs, &d.lease.Off, &d.lease.TTL)
	fs.StringVar(&d.s3.Region, "region", "", "AWS region of the S3 buckets (default: the SDK's chain, e.g. AWS_REGION)")
	fs.StringVar(&d.s3.EndpointURL, "endpoint-url", "", "S3 endpoint (default: the SDK's chain, e.g. AWS_ENDPOINT_URL_S3)")
	d.signing.bind(fs, "the diff")
	bindRetention(fs, &d.s3.Retention)
}

func (d *diffFlags) options(log *slog.Logger) diff.Options {
	return diff.Options{Format: d.format, Compression: d.compression, CSVRaw: d.csvRaw, GroupsWithRoleOnly: d.roleOnly,
		AllowDifferentPools: d.allowDifferentPools, TempDir: d.tempDir, Partitions: d.partitions, Logger: log,
		Lease: d.lease, Privileged: splitList(d.privileged)}
}

// runDiff compares two exports and writes the change rows.
func runDiff(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("diff", "diff OLD NEW --output DIR|s3://bucket/prefix/ [flags]", stdout)
	var df diffFlags
	df.bind(fs)
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
	if df.output == "" {
		return usageError{"diff: missing --output, a directory or s3://bucket/prefix/ for the change rows"}
	}
	signer, err := df.signing.signer(os.LookupEnv)
	if err != nil {
		return err
	}
	con, err := newConsole(stderr, "")
	if err != nil {
		return err
	}
	opts := df.options(con.log)
	opts.Signer = signer
	opts.Started = func() {
		memory.SetLogger(con.log)
		memory.Hold(diffHeap, "diff's row group and partitions")
	}
	sum, err := review.Diff(ctx, pos[0], pos[1], df.output, opts, df.s3)
	if err != nil {
		return fmt.Errorf("diff: %w", err)
	}
	review.PrintDiff(stdout, sum, df.output)
	if df.exitCode && sum.Changes > 0 {
		return errChanges
	}
	return nil
}
