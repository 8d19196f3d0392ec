package review

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/cognito-export/cognito-export/decisions"
	"github.com/cognito-export/cognito-export/fault"
	"github.com/cognito-export/cognito-export/reader"
	"github.com/cognito-export/cognito-export/report"
	"github.com/cognito-export/cognito-export/sink/s3dest"
)

// TemplateName is the decisions template written beside the page: the
// rows the page offers for a decision, undecided, for a spreadsheet.
const TemplateName = "decisions-template.csv"

// decided reads the decisions file at file for the report of cur and finds
// the previous export they are checked against (prev's, when there is
// one). A file that cannot be read, has a bad row or is another pool's is
// a usage error (exit 2), before anything is written; one made on another
// export than the previous one is a warning.
func decided(ctx context.Context, file string, cur report.Side, prev *report.Comparison, s3opts s3dest.Options, log *slog.Logger) (*report.Decided, error) {
	d := &report.Decided{File: file}
	oldSHA := ""
	if prev != nil {
		src, err := reader.Open(ctx, prev.Old.Location, s3opts)
		if err != nil {
			return nil, fmt.Errorf("report: open the previous export for the decisions: %w", err)
		}
		m, err := reader.ReadManifest(ctx, src)
		if err != nil {
			return nil, fmt.Errorf("report: read the previous export for the decisions: %w", err)
		}
		d.Old = &report.Side{Source: src, Manifest: m, Location: src.String()}
		oldSHA = m.SHA256
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, fault.Usagef(fmt.Sprintf("report: --decisions: %v", err))
	}
	defer f.Close()
	pool := cur.Manifest.Parameters["user_pool_id"]
	var otherPool, otherExport *decisions.Decision
	// Streamed, not read whole: the report keeps only what it checks of
	// each decision (report.Decided), and a review may decide a pool's
	// every membership.
	err = decisions.Scan(f, func(r decisions.Decision) error {
		if r.PoolID != pool {
			otherPool = &r
			return errOtherPool
		}
		if otherExport == nil && oldSHA != "" && r.ManifestSHA256 != oldSHA {
			otherExport = &r
		}
		d.Add(r)
		return nil
	})
	if le := (*decisions.LineError)(nil); errors.As(err, &le) {
		return nil, fault.Usagef(fmt.Sprintf("report: --decisions %s: %v; nothing written", file, err))
	} else if errors.Is(err, errOtherPool) {
		return nil, fault.Usagef(fmt.Sprintf("report: --decisions %s is about pool %s, the export %s is of pool %s: pass the decisions of this pool's previous review",
			file, otherPool.PoolID, cur.Location, pool))
	} else if err != nil {
		return nil, fmt.Errorf("report: --decisions %s: %w", file, err)
	}
	if prev == nil {
		log.Warn("no previous export: the decisions are checked against this export only, and PRIVILEGED_NOT_REVIEWED is not evaluated", "decisions", file)
	}
	if otherExport != nil {
		log.Warn("decisions made on another export than the previous one: rows are matched by username, sub and group",
			"decisions", file, "line", otherExport.Line, "decided_on_manifest_sha256", otherExport.ManifestSHA256, "previous_manifest_sha256", oldSHA)
	}
	return d, nil
}

// errOtherPool stops reading a decisions file at its first row of another
// pool than the export's.
var errOtherPool = errors.New("decisions of another pool")

// template is decisions-template.csv for r.
func template(r *report.Report) ([]byte, error) {
	var buf bytes.Buffer
	if err := decisions.Write(&buf, r.Decidable()); err != nil {
		return nil, fmt.Errorf("report: %s: %w", TemplateName, err)
	}
	return buf.Bytes(), nil
}
