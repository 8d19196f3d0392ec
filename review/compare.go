package review

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/cognito-export/cognito-export/diff"
	"github.com/cognito-export/cognito-export/fault"
	"github.com/cognito-export/cognito-export/reader"
	"github.com/cognito-export/cognito-export/report"
	"github.com/cognito-export/cognito-export/rowscan"
	"github.com/cognito-export/cognito-export/sink/localdest"
	"github.com/cognito-export/cognito-export/sink/s3dest"
)

// compare is the seam between the report and the diff: it verifies the
// export against names (or the latest before cur), diffs it with cur into
// a temporary directory (the report needs the diff's summary, not its
// change rows, which `diff` is for), listing the changes of the
// privileged groups, and hands the report the summary as a
// report.Comparison.
func compare(ctx context.Context, cur report.Side, against string, privileged []string, s3opts s3dest.Options, log *slog.Logger) (*report.Comparison, error) {
	prevLoc := against
	if prevLoc == "latest" {
		prev, err := latestBefore(ctx, cur, s3opts, log)
		if err != nil {
			return nil, err
		}
		prevLoc = prev
	}
	src, err := reader.Open(ctx, prevLoc, s3opts)
	if err != nil {
		return nil, inputError(prevLoc, err)
	}
	old, err := diff.Open(ctx, src.String(), src)
	if err != nil {
		return nil, fmt.Errorf("report: --previous: %w", err)
	}
	tmp, err := os.MkdirTemp("", "cognito-export-report-diff-")
	if err != nil {
		return nil, fmt.Errorf("report: temporary directory for the diff: %w", err)
	}
	defer os.RemoveAll(tmp)
	out, err := localdest.Open(tmp)
	if err != nil {
		return nil, fmt.Errorf("report: temporary directory for the diff: %w", err)
	}
	sum, err := diff.Run(ctx, old, diff.Side{Location: cur.Location, Source: cur.Source, Manifest: cur.Manifest}, out,
		diff.Options{Format: "parquet", Compression: "snappy", Privileged: privileged, TempDir: tmp})
	if err != nil {
		return nil, fmt.Errorf("report: compare with %s: %w", prevLoc, err)
	}
	return Comparison(sum, old.Manifest), nil
}

// latestBefore is --previous latest: the newest complete export of the
// same pool beside cur that started before it and can be compared with it,
// as export --diff-against latest finds it; the newer ones passed over are
// logged with why. Asking for a comparison that cannot be made is an error
// (exit 2); export --report, which only asks for a report, looks for
// itself and goes on without one.
func latestBefore(ctx context.Context, cur report.Side, s3opts s3dest.Options, log *slog.Logger) (string, error) {
	pool := cur.Manifest.Parameters["user_pool_id"]
	prev, passed, ok, err := LatestComparable(ctx, cur.Location, cur.Manifest, s3opts, log)
	if err != nil {
		return "", fmt.Errorf("report: --previous latest: %w", err)
	}
	if !ok {
		also := ""
		if len(passed) > 0 {
			also = fmt.Sprintf(" that can be compared with it (%s passed over: %v)", Plural(len(passed), "export"), passed[0].Reason)
		}
		return "", fault.Usagef(fmt.Sprintf("report: --previous latest: no earlier complete export of pool %s beside %s%s", pool, cur.Location, also))
	}
	return prev.Location, nil
}

// LatestComparable is the newest earlier export of self's pool beside
// where that a diff can compare with self (diff.Incomparable): "latest" of
// --previous, --diff-against and --report. Each newer one passed over is
// logged as a warning with why; ok is false when none is left.
func LatestComparable(ctx context.Context, where string, self reader.Manifest, s3opts s3dest.Options, log *slog.Logger) (reader.Previous, []reader.Passed, bool, error) {
	pool := self.Parameters["user_pool_id"]
	prev, passed, ok, err := reader.LatestComparable(ctx, where, pool, self.StartedAt, s3opts,
		func(old reader.Manifest) error { return diff.Incomparable(old, self) })
	if err != nil {
		return prev, passed, ok, err
	}
	if log != nil {
		for _, p := range passed {
			log.Warn("passing over an earlier export that cannot be compared with this one", "export", p.Location, "reason", p.Reason.Error())
		}
	}
	return prev, passed, ok, nil
}

// Comparison turns a diff's summary, and the old export's manifest, into
// what the report reads.
func Comparison(s diff.Summary, old reader.Manifest) *report.Comparison {
	c := &report.Comparison{
		Old: report.ExportRef{Location: s.Old.Location, PoolID: s.Old.UserPoolID, PoolName: old.PoolName,
			Region: report.Region(s.Old.UserPoolID), ManifestSHA256: s.Old.ManifestSHA256, Format: old.Format,
			Users: s.Old.Users, Rows: s.Old.Rows, Groups: len(old.Groups), Memberships: -1},
		ByChange: s.ByChange, Truncated: s.PrivilegedTruncated,
	}
	if !s.Old.ExportedAt.IsZero() {
		c.Old.ExportedAt = rowscan.TimeText(s.Old.ExportedAt)
	}
	for _, g := range s.ByGroup {
		c.ByGroup = append(c.ByGroup, report.GroupDelta{Group: g.Group, RoleArn: g.RoleArn, MembershipsAdded: g.Added, MembershipsRemoved: g.Removed})
	}
	conv := func(rows []diff.ChangeRow) []report.Change {
		out := make([]report.Change, 0, len(rows))
		for _, r := range rows {
			out = append(out, report.Change{Change: r.Change, Username: r.Username, UserSub: r.UserSub, GroupName: r.Group,
				GroupRoleArn: r.RoleArn, Field: r.Field, OldValue: r.OldValue, NewValue: r.NewValue, Attributes: r.Attributes})
		}
		return out
	}
	c.RoleChanges, c.Privileged = conv(s.RoleChanges), conv(s.Privileged)
	return c
}

// ReadManifest reads the manifest of the export at where.
func ReadManifest(ctx context.Context, where string, s3opts s3dest.Options) (reader.Manifest, error) {
	src, err := reader.Open(ctx, where, s3opts)
	if err != nil {
		return reader.Manifest{}, err
	}
	return reader.ReadManifest(ctx, src)
}
