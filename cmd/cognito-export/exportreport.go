package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/cognito-export/cognito-export/diff"
	"github.com/cognito-export/cognito-export/export"
	"github.com/cognito-export/cognito-export/location"
	"github.com/cognito-export/cognito-export/reader"
	"github.com/cognito-export/cognito-export/report"
)

// reportAfterExport is export --report: the access review of a complete
// export, written beside its manifest (report.html, report.json), which
// verify and reader.Latest pass over as they only read part-* files and
// manifests. It is compared with the export --diff-against named (reusing
// sum, the diff just made, when there is one), else with the latest
// earlier export of the pool beside this one; a first run, with none,
// gets a report without a comparison.
func reportAfterExport(ctx context.Context, cfg export.Config, run runOptions, sum *diff.Summary, log *slog.Logger, stdout io.Writer) error {
	rf := run.reportOpts
	rf.s3 = cfg.S3Options()
	loc, err := location.Parse(cfg.Output)
	if err != nil {
		return err
	}
	rf.output = loc.File("report.html") // beside the manifest
	var given *report.Comparison
	switch {
	case sum != nil:
		old, err := readManifestAt(ctx, sum.Old.Location, rf)
		if err != nil {
			return fmt.Errorf("export complete, but its report cannot read the previous export: %w", err)
		}
		given = comparison(*sum, old)
	case run.diffAgainst != "" && run.diffAgainst != "latest":
		rf.previous = run.diffAgainst
	default:
		self, err := readManifestAt(ctx, cfg.Output, rf)
		if err != nil {
			return fmt.Errorf("export complete, but its report cannot read it: %w", err)
		}
		prev, ok, err := reader.Latest(ctx, cfg.Output, cfg.UserPoolID, self.StartedAt, rf.s3)
		if err != nil {
			return fmt.Errorf("export complete, but its report: %w", err)
		}
		if !ok {
			log.Info("no earlier complete export of this pool beside this one: the report has no comparison", "output", cfg.Output)
		} else {
			rf.previous = prev.Location
			log.Info("reporting against the latest earlier export", "previous", prev.Location)
		}
	}
	if err := makeReport(ctx, cfg.Output, rf, given, stdout); err != nil {
		var gate errFindings
		if errors.As(err, &gate) {
			return err
		}
		return fmt.Errorf("export complete, but its report failed: %w", err)
	}
	return nil
}

func readManifestAt(ctx context.Context, location string, rf reportFlags) (reader.Manifest, error) {
	src, err := reader.Open(ctx, location, rf.s3)
	if err != nil {
		return reader.Manifest{}, err
	}
	return reader.ReadManifest(ctx, src)
}
