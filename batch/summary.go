package batch

import (
	"context"
	"encoding/json"
	"math"
	"time"

	"github.com/cognito-export/cognito-export/export"
	"github.com/cognito-export/cognito-export/fault"
	"github.com/cognito-export/cognito-export/internal/buildinfo"
)

// RunSummary is summary.json: what one run of one pool did. It is written at
// the end of every run that got as far as its output, failed and interrupted
// ones too, because an operator looks for the result of every run; status
// and complete say plainly whether the export is finished, and only
// manifest.json makes it so.
type RunSummary struct {
	Generator  string    `json:"generator"`
	RunID      string    `json:"run_id"`
	UserPoolID string    `json:"user_pool_id"`
	Status     string    `json:"status"` // complete, failed or interrupted
	Error      string    `json:"error,omitempty"`
	Note       string    `json:"note"`
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at"`
	ElapsedSec float64   `json:"elapsed_seconds"`
	export.Summary
}

// summaryWriteTimeout bounds writing summary.json, which may follow a
// stop signal: the scheduler's kill is not far behind.
const summaryWriteTimeout = 5 * time.Second

// writeSummary writes summary.json beside the manifest. A run stopped by a
// bad setting (exit 2) never reached its output and writes none.
func writeSummary(ctx context.Context, env *export.Env, runID string, started time.Time, sum export.Summary, runErr error) error {
	if runErr != nil && fault.KindOf(runErr) == fault.Usage {
		return nil
	}
	s := RunSummary{
		Generator: buildinfo.Generator(), RunID: runID, UserPoolID: env.Config().UserPoolID, Status: "complete",
		Note:      "manifest.json was written: the export is complete",
		StartedAt: started.UTC(), FinishedAt: time.Now().UTC(), Summary: sum,
	}
	s.ElapsedSec = math.Round(s.FinishedAt.Sub(s.StartedAt).Seconds()*10) / 10
	if runErr != nil {
		s.Status, s.Error = "failed", runErr.Error()
		if _, ok := fault.InterruptedBy(ctx); ok {
			s.Status = "interrupted"
		}
		s.Complete = false
		s.Note = "no manifest.json: this export is NOT complete; run the same command again to resume it"
	}
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), summaryWriteTimeout)
	defer cancel()
	return env.WriteFile(wctx, export.SummaryName, append(data, '\n'))
}
