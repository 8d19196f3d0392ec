package batch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/cognito-export/cognito-export/diff"
	"github.com/cognito-export/cognito-export/export"
	"github.com/cognito-export/cognito-export/location"
	"github.com/cognito-export/cognito-export/reader"
	"github.com/cognito-export/cognito-export/report"
	"github.com/cognito-export/cognito-export/review"
	"github.com/cognito-export/cognito-export/sink/s3dest"
)

// afterExport does what a complete export was asked to do next: the diff,
// then the report, which reuses the diff's summary rather than diffing the
// same two exports again.
func (r *Run) afterExport(ctx context.Context, pr *PoolRun) error {
	cfg := pr.Config
	if r.opts.DiffAgainst == "" && r.opts.Report == nil {
		return nil
	}
	if r.opts.BeforeFollowUp != nil {
		r.opts.BeforeFollowUp()
	}
	var sum *diff.Summary
	if r.opts.DiffAgainst != "" {
		opts := diff.Options{Format: cfg.Format, Compression: cfg.Compression, CSVRaw: cfg.CSVRaw, Logger: cfg.Logger.With("phase", "diff"),
			Signer: cfg.Signer, Lease: diff.Lease{Off: cfg.LeaseOff, TTL: cfg.LeaseTTL, RunID: r.plan.RunID}}
		if r.opts.Report != nil {
			// The report lists the changes of its privileged groups: the
			// diff must list them too for its summary to serve.
			opts.Privileged = r.opts.Report.Privileged
		}
		var err error
		if sum, err = r.diffAfterExport(ctx, cfg, opts); err != nil {
			return err
		}
	}
	if r.opts.Report == nil {
		return nil
	}
	return r.reportAfterExport(ctx, pr, sum, cfg.Logger.With("phase", "report"))
}

// diffAfterExport diffs a complete export against DiffAgainst: a location,
// or "latest", the newest earlier export of the pool beside it. The diff
// goes under the export (diff/). No earlier export is not an error: a first
// scheduled run has nothing to compare with. The summary is nil when no
// diff was made now (none to make, or one already there).
func (r *Run) diffAfterExport(ctx context.Context, cfg export.Config, opts diff.Options) (*diff.Summary, error) {
	log, s3opts := opts.Logger, cfg.S3Options()
	loc, err := location.Parse(cfg.Output)
	if err != nil {
		return nil, err
	}
	out := loc.Join("diff")
	m, err := review.ReadManifest(ctx, cfg.Output, s3opts)
	if err != nil {
		return nil, err
	}
	done, err := diffDone(ctx, out, m, s3opts, log)
	if done || err != nil {
		return nil, err
	}
	against := r.opts.DiffAgainst
	if against == "latest" {
		prev, _, ok, err := review.LatestComparable(ctx, cfg.Output, m, s3opts, log)
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
	sum, err := review.Diff(ctx, against, cfg.Output, out.String(), opts, s3opts)
	if err != nil {
		return nil, fmt.Errorf("export complete, but its diff against %s failed: %w", against, err)
	}
	review.PrintDiff(r.opts.Stdout, sum, out.String())
	return &sum, nil
}

// diffDone reports whether out already holds the diff of the export whose
// manifest is m. The diff of an earlier export there (the export was made
// again, with --fresh) is evidence of nothing: its manifest is removed so
// that a new diff can be written.
func diffDone(ctx context.Context, out location.Location, m reader.Manifest, s3opts s3dest.Options, log *slog.Logger) (bool, error) {
	dm, err := review.ReadManifest(ctx, out.String(), s3opts)
	if err != nil {
		return false, nil // no diff there, or none complete: one is made
	}
	if dm.Parameters["new_manifest_sha256"] == m.SHA256 {
		log.Info("the diff of this export is already complete", "diff", out.String())
		return true, nil
	}
	log.Info("replacing the diff of an earlier export in this output", "diff", out.String())
	o, err := out.OpenWrite(ctx, s3opts)
	if err == nil {
		err = o.Delete(ctx, reader.ManifestName)
	}
	if err != nil {
		return false, fmt.Errorf("replace the stale diff in %s: %w", out, err)
	}
	return false, nil
}

// reportAfterExport is export --report: the access review of a complete
// export, written beside its manifest (report.html, report.json), which
// verify and reader.Latest pass over as they only read part-* files and
// manifests. It is compared with the export DiffAgainst named (reusing
// sum, the diff just made, when there is one), else with the latest
// earlier export of the pool beside this one; a first run, with none,
// gets a report without a comparison.
func (r *Run) reportAfterExport(ctx context.Context, pr *PoolRun, sum *diff.Summary, log *slog.Logger) error {
	cfg := pr.Config
	ro, s3opts := *r.opts.Report, cfg.S3Options()
	ro.Log = log
	// The metrics count the report's findings, whatever --fail-on says.
	ro.Built = func(rep *report.Report) {
		counts := map[string]int64{}
		for _, fd := range rep.Findings {
			if fd.Evaluated {
				counts[fd.ID] = fd.Count
			}
		}
		pr.findings.Store(&counts)
	}
	loc, err := location.Parse(cfg.Output)
	if err != nil {
		return err
	}
	ro.Output = loc.File("report.html") // beside the manifest
	switch against := r.opts.DiffAgainst; {
	case sum != nil:
		old, err := review.ReadManifest(ctx, sum.Old.Location, s3opts)
		if err != nil {
			return fmt.Errorf("export complete, but its report cannot read the previous export: %w", err)
		}
		ro.Previous = review.Comparison(*sum, old)
	case against != "" && against != "latest":
		ro.Against = against
	default:
		if ro.Against, err = latestBeside(ctx, cfg, s3opts, log); err != nil {
			return err
		}
	}
	if err := review.Report(ctx, cfg.Output, ro, s3opts, r.opts.Stdout); err != nil {
		var gate review.FindingsError
		if errors.As(err, &gate) {
			return err
		}
		return fmt.Errorf("export complete, but its report failed: %w", err)
	}
	return nil
}

// latestBeside is the newest earlier export of the pool beside cfg's, for
// its report to compare with; "" when there is none.
func latestBeside(ctx context.Context, cfg export.Config, s3opts s3dest.Options, log *slog.Logger) (string, error) {
	self, err := review.ReadManifest(ctx, cfg.Output, s3opts)
	if err != nil {
		return "", fmt.Errorf("export complete, but its report cannot read it: %w", err)
	}
	prev, _, ok, err := review.LatestComparable(ctx, cfg.Output, self, s3opts, log)
	if err != nil {
		return "", fmt.Errorf("export complete, but its report: %w", err)
	}
	if !ok {
		log.Info("no earlier complete export of this pool beside this one: the report has no comparison", "output", cfg.Output)
		return "", nil
	}
	log.Info("reporting against the latest earlier export", "previous", prev.Location)
	return prev.Location, nil
}
