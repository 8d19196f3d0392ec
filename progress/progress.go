// Package progress shows a pool's progress while it runs: a bar on a
// terminal, otherwise a log line every interval. Both say what the metrics
// count (export.ProgressSnapshot.PhaseProgress), from one status.
package progress

import (
	"cmp"
	"context"
	"fmt"
	"io"
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

// Screen is the terminal the bar is drawn on, which the log shares: Draw
// runs fn with the terminal's writer while no log line is written, and
// remembers bar (nil: none) to clear it before the next log line.
type Screen interface {
	Draw(bar interface{ Clear() error }, fn func(w io.Writer))
}

// Options say how a pool's progress is shown.
type Options struct {
	// Log gets a progress line every Interval when there is no Screen,
	// and says when the pool's size, and so the ETA, is unknown.
	Log *slog.Logger
	// Interval is how often a line is logged; 0: never.
	Interval time.Duration
	// Screen, when set, shows a bar instead of the lines.
	Screen Screen
}

// Watch reports a pool's progress until ctx is done; finish waits for it
// to stop and, on a screen, draws the bar a last time, full when the
// pool's export is complete.
func Watch(ctx context.Context, pr *batch.PoolRun, o Options) (finish func(complete bool)) {
	w := &watcher{pr: pr, o: o, start: time.Now(), first: pr.Progress.Snapshot()}
	tick := o.Interval
	if o.Screen != nil {
		tick = barInterval
		w.bar = newBar(o.Screen, pr)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		// The estimate (for by-group, a sample of a few hundred users'
		// groups) takes seconds at Cognito's quotas: the display goes on
		// meanwhile.
		var est sync.WaitGroup
		defer est.Wait()
		est.Go(func() { estimateUsers(ctx, pr, o.Log) })
		w.loop(ctx, tick)
	}()
	return func(complete bool) {
		<-done
		if w.bar == nil {
			return
		}
		w.draw()
		o.Screen.Draw(nil, func(out io.Writer) {
			if complete {
				w.bar.Finish()
			} else {
				w.bar.Exit()
			}
			fmt.Fprintln(out)
		})
	}
}

// watcher is one pool's display.
type watcher struct {
	pr  *batch.PoolRun
	o   Options
	bar *progressbar.ProgressBar // nil off a screen

	mu    sync.Mutex // look is called by the ticker and by finish
	start time.Time
	first export.ProgressSnapshot
}

// look is the pool's status now, its pace measured since its phase began.
func (w *watcher) look() status {
	w.mu.Lock()
	defer w.mu.Unlock()
	now := w.pr.Progress.Snapshot()
	if now.Phase != w.first.Phase {
		// Each phase has its own unit and pace: measure it from its start.
		w.start, w.first = time.Now(), now
	}
	return status{now, now.PaceSince(w.first, time.Since(w.start))}
}

// loop draws the bar or logs a line every tick until ctx is done.
func (w *watcher) loop(ctx context.Context, tick time.Duration) {
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
			if w.bar != nil {
				w.draw()
				continue
			}
			w.o.Log.Info("progress", w.look().attrs()...)
		}
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

// newBar makes the bar on screen, with the screen's writer: it writes
// only when told to, inside Draw.
func newBar(screen Screen, pr *batch.PoolRun) (bar *progressbar.ProgressBar) {
	max := pr.Progress.Snapshot().EstimatedUsers
	if max <= 0 {
		max = -1 // a spinner until the estimate is known
	}
	screen.Draw(nil, func(w io.Writer) {
		bar = progressbar.NewOptions64(max,
			progressbar.OptionSetWriter(w),
			progressbar.OptionSetDescription(pr.Config.UserPoolID),
			progressbar.OptionSetWidth(30),
			progressbar.OptionSetPredictTime(false),
			progressbar.OptionSetRenderBlankState(false),
			// No spinner goroutine of its own: the watcher draws it.
			progressbar.OptionSetSpinnerChangeInterval(0),
			progressbar.OptionSetTheme(progressbar.ThemeASCII),
		)
	})
	return bar
}

// draw shows the status on the bar.
func (w *watcher) draw() {
	s, bar, pool := w.look(), w.bar, w.pr.Config.UserPoolID
	w.o.Screen.Draw(bar, func(io.Writer) {
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
