package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/cognito-export/cognito-export/export"
	"github.com/cognito-export/cognito-export/ratelimit"
)

// exportFlags binds the flags of export (and demo) to a Config.
type exportFlags struct {
	cfg       export.Config
	pageSize  int
	rates     rateFlags
	rateShare float64
	logFormat string
	runID     string
}

func bindExportFlags(fs *flag.FlagSet, f *exportFlags) {
	fs.StringVar(&f.cfg.UserPoolID, "user-pool-id", "", "the Cognito user pool to export (required)")
	fs.StringVar(&f.cfg.Output, "output", "", "directory or s3://bucket/prefix/ for the parts and manifest.json (required); may hold {date}, {run_id} and {pool}")
	fs.StringVar(&f.cfg.Strategy, "strategy", export.StrategyAuto, "auto (the cheaper in time, estimated before the start), per-user (AdminListGroupsForUser per user) or by-group (ListUsersInGroup per group, then one ListUsers pass)")
	fs.StringVar(&f.cfg.Format, "format", "parquet", "output format: parquet or csv")
	fs.StringVar(&f.cfg.Compression, "compression", "snappy", "Parquet compression: snappy, zstd, gzip or none")
	fs.StringVar(&f.cfg.S3.SSE, "sse", "", "S3 server-side encryption: AES256 or aws:kms")
	fs.StringVar(&f.cfg.S3.KMSKeyID, "sse-kms-key-id", "", "KMS key for --sse aws:kms")
	fs.StringVar(&f.cfg.Checkpoint, "checkpoint", "", "resume state file or s3:// object (default: _checkpoint.json under --output)")
	fs.DurationVar(&f.cfg.CheckpointInterval, "checkpoint-interval", export.DefaultCheckpointInterval, "take a checkpoint at least this often, closing the current part early")
	fs.DurationVar(&f.cfg.StopTimeout, "stop-timeout", export.DefaultStopTimeout, "time allowed for the final checkpoint after SIGINT/SIGTERM")
	fs.StringVar(&f.runID, "run-id", "", "value of {run_id} in --output (default: a new id per run; pass the old one to resume such a run)")
	fs.IntVar(&f.cfg.Concurrency, "concurrency", export.DefaultConcurrency, "users whose groups are fetched at once")
	fs.IntVar(&f.pageSize, "page-size", export.MaxPageSize, "Limit of each ListUsers and AdminListGroupsForUser request (1..60)")
	fs.Int64Var(&f.cfg.PartRows, "part-rows", 0, "start a new part after this many rows (0: no row limit)")
	fs.Int64Var(&f.cfg.PartBytes, "part-size", export.DefaultPartBytes, "start a new part once a part reaches this many bytes")
	fs.BoolVar(&f.cfg.UsersWithoutGroups, "users-without-groups", true, "emit one row with empty group columns for a user without groups")
	fs.BoolVar(&f.cfg.Fresh, "fresh", false, "discard the checkpoint or complete export in --output and start over")
	fs.StringVar(&f.cfg.Client.Region, "region", "", "AWS region (default: the SDK's chain, e.g. AWS_REGION)")
	fs.StringVar(&f.cfg.Client.EndpointURL, "endpoint-url", "", "Cognito endpoint (default: the SDK's chain, e.g. AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER)")
	fs.IntVar(&f.cfg.Client.MaxAttempts, "max-attempts", 10, "attempts per Cognito call, retries included")
	fs.DurationVar(&f.cfg.Client.CallTimeout, "call-timeout", 30*time.Second, "time limit of one attempt")
	fs.Var(&f.rates, "rate", "requests/second of a quota category, e.g. UserResourceRead=100 (repeatable; 0 = unlimited)")
	fs.Float64Var(&f.rateShare, "rate-share", 1, "share of Cognito's default quotas to use, e.g. 0.8 to leave head-room")
	fs.StringVar(&f.logFormat, "log-format", "", "json or text (default: text on a terminal, json otherwise)")
}

// finish turns the parsed flags into a Config.
func (f *exportFlags) finish(stderr io.Writer) (export.Config, error) {
	cfg := f.cfg
	if f.pageSize < 1 || f.pageSize > export.MaxPageSize {
		return cfg, usageError{fmt.Sprintf("--page-size %d: Cognito accepts 1..%d", f.pageSize, export.MaxPageSize)}
	}
	cfg.PageSize = int32(f.pageSize)
	if f.rateShare <= 0 || f.rateShare > 1 {
		return cfg, usageError{fmt.Sprintf("--rate-share %g: must be in (0, 1]", f.rateShare)}
	}
	rates := map[ratelimit.Category]float64{}
	for _, r := range f.rates {
		name, value, ok := strings.Cut(r, "=")
		rps, err := strconv.ParseFloat(value, 64)
		if !ok || err != nil || rps < 0 {
			return cfg, usageError{fmt.Sprintf("--rate %q: want CATEGORY=RPS, e.g. UserResourceRead=100", r)}
		}
		c, err := ratelimit.ParseCategory(name)
		if err != nil {
			return cfg, usageError{"--rate: " + err.Error()}
		}
		rates[c] = rps
	}
	cfg.Limits = ratelimit.NewSet(rates, f.rateShare)
	now := time.Now()
	if f.runID == "" {
		f.runID = export.NewRunID(now)
	}
	out, err := export.ExpandPlaceholders(cfg.Output, f.runID, cfg.UserPoolID, now)
	if err != nil {
		return cfg, err
	}
	cfg.Output = out
	log, err := newLogger(stderr, f.logFormat)
	if err != nil {
		return cfg, err
	}
	cfg.Logger = log
	return cfg, nil
}

func runExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("export", "export --user-pool-id ID --output DIR [flags]", stdout)
	var f exportFlags
	bindExportFlags(fs, &f)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := f.finish(stderr)
	if err != nil {
		return err
	}
	return exportAndReport(ctx, cfg, stdout)
}

// exportAndReport runs the export and prints the one-line summary.
func exportAndReport(ctx context.Context, cfg export.Config, stdout io.Writer) error {
	cfg.Logger.Info("export starting", "user_pool_id", cfg.UserPoolID, "output", cfg.Output, "format", cfg.Format, "strategy", cfg.Strategy, "concurrency", cfg.Concurrency)
	sum, err := export.Run(ctx, cfg)
	if sum.AlreadyComplete {
		fmt.Fprintf(stdout, "export in %s is already complete (manifest.json); pass --fresh to export again\n", sum.Output)
		return nil
	}
	cfg.Logger.Info("export finished", "complete", sum.Complete, "users", sum.Users, "rows", sum.Rows,
		"skipped", sum.Skipped, "calls", sum.TotalCalls(), "throttles", sum.Throttles, "retries", sum.Retries,
		"strategy", sum.Strategy, "parts", sum.Parts, "bytes", sum.Bytes, "elapsed", sum.Elapsed.Round(time.Millisecond).String(),
		slog.Any("calls_by_operation", sum.Calls), slog.Any("rates", sum.Rates))
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "exported %d users, %d rows, %d skipped, %d API calls in %s to %s\n",
		sum.Users, sum.Rows, sum.Skipped, sum.TotalCalls(), sum.Elapsed.Round(time.Millisecond), sum.Output)
	return nil
}
