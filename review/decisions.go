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
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fault.Usagef(fmt.Sprintf("report: --decisions: %v", err))
	}
	rows, err := decisions.Read(bytes.NewReader(data))
	if le := (*decisions.LineError)(nil); errors.As(err, &le) {
		return nil, fault.Usagef(fmt.Sprintf("report: --decisions %s: %v; nothing written", file, err))
	} else if err != nil {
		return nil, fmt.Errorf("report: --decisions %s: %w", file, err)
	}
	pool := cur.Manifest.Parameters["user_pool_id"]
	if len(rows) > 0 && rows[0].PoolID != pool {
		return nil, fault.Usagef(fmt.Sprintf("report: --decisions %s is about pool %s, the export %s is of pool %s: pass the decisions of this pool's previous review",
			file, rows[0].PoolID, cur.Location, pool))
	}
	d := &report.Decided{File: file, Rows: rows}
	if prev == nil {
		log.Warn("no previous export: the decisions are checked against this export only, and PRIVILEGED_NOT_REVIEWED is not evaluated", "decisions", file)
		return d, nil
	}
	src, err := reader.Open(ctx, prev.Old.Location, s3opts)
	if err != nil {
		return nil, fmt.Errorf("report: open the previous export for the decisions: %w", err)
	}
	m, err := reader.ReadManifest(ctx, src)
	if err != nil {
		return nil, fmt.Errorf("report: read the previous export for the decisions: %w", err)
	}
	d.Old = &report.Side{Source: src, Manifest: m, Location: src.String()}
	for _, r := range rows {
		if r.ManifestSHA256 != m.SHA256 {
			log.Warn("decisions made on another export than the previous one: rows are matched by username, sub and group",
				"decisions", file, "line", r.Line, "decided_on_manifest_sha256", r.ManifestSHA256, "previous_manifest_sha256", m.SHA256)
			break
		}
	}
	return d, nil
}

// template is decisions-template.csv for r.
func template(r *report.Report) ([]byte, error) {
	var buf bytes.Buffer
	if err := decisions.Write(&buf, r.Decidable()); err != nil {
		return nil, fmt.Errorf("report: %s: %w", TemplateName, err)
	}
	return buf.Bytes(), nil
}
