package main

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/cognito-export/cognito-export/batch"
	"github.com/cognito-export/cognito-export/export"
)

// barInterval is how often the bar is redrawn: often enough to look alive,
// seldom enough to cost nothing.
const barInterval = 250 * time.Millisecond

// status is one look at a pool's progress, with its pace since the watch
// began.
type status struct {
	export.ProgressSnapshot
	export.Pace
}

func (s status) eta() string {
	if s.ETA < 0 {
		return "unknown"
	}
	return s.ETA.String()
}

// watch reports a pool's progress until ctx is done: a bar when the console
// is a terminal, otherwise a log line every interval (none when 0).
func watch(ctx context.Context, con *console, log *slog.Logger, pr *batch.PoolRun, interval time.Duration, useBar bool) (finish func(complete bool)) {
	start, first := time.Now(), pr.Progress.Snapshot()
	var mu sync.Mutex // look is called by the ticker and by finish
	look := func() status {
		mu.Lock()
		defer mu.Unlock()
		now := pr.Progress.Snapshot()
		if now.Phase != first.Phase {
			// Each phase has its own unit and pace: measure it from its start.
			start, first = time.Now(), now
		}
		return status{now, now.PaceSince(first, time.Since(start))}
	}
	tick := interval
	var bar *progressbar.ProgressBar
	if useBar {
		tick = barInterval
		bar = newBar(con, pr)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		// The estimate (for by-group, a sample of a few hundred users'
		// groups) takes seconds at Cognito's quotas: the display goes on
		// meanwhile.
		var est sync.WaitGroup
		defer est.Wait()
		est.Go(func() { estimateUsers(ctx, pr, log) })
		if tick <= 0 {
			<-ctx.Done()
			return
		}
		t := time.NewTicker(tick)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if bar != nil {
					drawBar(con, bar, pr.Config.UserPoolID, look())
					continue
				}
				log.Info("progress", look().attrs()...)
			}
		}
	}()
	return func(complete bool) {
		<-done
		if bar == nil {
			return
		}
		drawBar(con, bar, pr.Config.UserPoolID, look())
		con.draw(nil, func() {
			if complete {
				bar.Finish()
			} else {
				bar.Exit()
			}
			fmt.Fprintln(con.stderr)
		})
	}
}

// estimateUsers asks Cognito how many users the pool has, for the ETA and
// the metrics, when the export will not estimate it anyway (--strategy
// auto does). Without the answer the export goes on, with no ETA.
func estimateUsers(ctx context.Context, pr *batch.PoolRun, log *slog.Logger) {
	if pr.Config.Strategy == export.StrategyAuto || pr.Config.Strategy == "" {
		return
	}
	if err := pr.EstimateUsers(ctx); err != nil && ctx.Err() == nil {
		log.Warn("no ETA: the pool's size is unknown", "error", err.Error())
	}
}

func newBar(con *console, pr *batch.PoolRun) *progressbar.ProgressBar {
	max := pr.Progress.Snapshot().EstimatedUsers
	if max <= 0 {
		max = -1 // a spinner until the estimate is known
	}
	return progressbar.NewOptions64(max,
		progressbar.OptionSetWriter(con.stderr),
		progressbar.OptionSetDescription(pr.Config.UserPoolID),
		progressbar.OptionSetWidth(30),
		progressbar.OptionSetPredictTime(false),
		progressbar.OptionSetRenderBlankState(false),
		// No spinner goroutine of its own: watch draws it.
		progressbar.OptionSetSpinnerChangeInterval(0),
		progressbar.OptionSetTheme(progressbar.ThemeASCII),
	)
}

func drawBar(con *console, bar *progressbar.ProgressBar, pool string, s status) {
	con.draw(bar, func() {
		_, done, total := s.PhaseProgress()
		if total > 0 && bar.GetMax64() != total && total > done {
			bar.ChangeMax64(total)
		} else if bar.GetMax64() > 0 && done >= bar.GetMax64() {
			bar.ChangeMax64(done + 1) // the estimate was low: keep the bar short of full until the end
		}
		// Set64 draws only when the percentage moves; Describe always
		// draws, so it comes last and shows the fresh counts.
		bar.Set64(done)
		bar.Describe(pool + " " + s.barText())
	})
}

// phaseText is the phase's progress as the bar and the log line both say
// it, and as the metrics count it (export.ProgressSnapshot.PhaseProgress):
// "groups: memberships 300 of ~1,500".
func (s status) phaseText() string {
	unit, done, total := s.PhaseProgress()
	phase := cmp.Or(s.Phase, "plan")
	if total <= 0 {
		return fmt.Sprintf("%s: %s %d of ?", phase, unit, done)
	}
	return fmt.Sprintf("%s: %s %d of ~%d", phase, unit, done, total)
}

func (s status) barText() string {
	return fmt.Sprintf("%s | users %d | rows %d | %.0f calls/s | throttles %d | ETA %s",
		s.phaseText(), s.Users, s.Rows, s.CallsPerSec, s.Throttles, s.eta())
}

// attrs are the log line's.
func (s status) attrs() []any {
	_, done, total := s.PhaseProgress()
	return []any{"progress", s.phaseText(), "done", done, "total", total, "users", s.Users, "estimated_users", s.EstimatedUsers,
		"rows", s.Rows, "skipped", s.Skipped, "calls", s.TotalCalls(), "calls_per_second", round1(s.CallsPerSec),
		"throttles", s.Throttles, "eta", s.eta()}
}

func round1(f float64) float64 { return float64(int64(f*10+0.5)) / 10 }
