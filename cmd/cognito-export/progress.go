package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/cognito-export/cognito-export/export"
)

// barInterval is how often the bar is redrawn: often enough to look alive,
// seldom enough to cost nothing.
const barInterval = 250 * time.Millisecond

// status is one look at a pool's progress, with rates since the watch began.
type status struct {
	export.ProgressSnapshot
	Estimated   int64 // users by DescribeUserPool; 0 when unknown
	CallsPerSec float64
	ETA         time.Duration // -1 when unknown
}

// measure compares now with the first snapshot of the run.
func measure(first, now export.ProgressSnapshot, elapsed time.Duration, estimated int64) status {
	s := status{ProgressSnapshot: now, Estimated: estimated, ETA: -1}
	secs := elapsed.Seconds()
	if secs <= 0 {
		return s
	}
	s.CallsPerSec = float64(now.TotalCalls()-first.TotalCalls()) / secs
	done, before := now.Users+now.Skipped, first.Users+first.Skipped
	if estimated > done && done > before {
		perSec := float64(done-before) / secs
		s.ETA = time.Duration(float64(estimated-done) / perSec * float64(time.Second)).Round(time.Second)
	}
	return s
}

func (s status) eta() string {
	if s.ETA < 0 {
		return "unknown"
	}
	return s.ETA.String()
}

// watch reports a pool's progress until ctx is done: a bar when the console
// is a terminal, otherwise a log line every interval (none when 0).
func watch(ctx context.Context, con *console, log *slog.Logger, pr *poolRun, interval time.Duration, useBar bool) (finish func(complete bool)) {
	start, first := time.Now(), pr.prog.Snapshot()
	look := func() status { return measure(first, pr.prog.Snapshot(), time.Since(start), pr.estimated.Load()) }
	tick := interval
	var bar *progressbar.ProgressBar
	if useBar {
		tick = barInterval
		bar = newBar(con, pr)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		estimateUsers(ctx, pr, log)
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
					drawBar(con, bar, pr.cfg.UserPoolID, look())
					continue
				}
				s := look()
				log.Info("progress", "users", s.Users, "estimated_users", s.Estimated, "rows", s.Rows, "skipped", s.Skipped,
					"calls", s.TotalCalls(), "calls_per_second", round1(s.CallsPerSec), "throttles", s.Throttles, "eta", s.eta())
			}
		}
	}()
	return func(complete bool) {
		<-done
		if bar == nil {
			return
		}
		drawBar(con, bar, pr.cfg.UserPoolID, look())
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
// the metrics. Without the answer the export goes on, with no ETA.
func estimateUsers(ctx context.Context, pr *poolRun, log *slog.Logger) {
	est, err := export.EstimateCost(ctx, pr.cfg)
	if err != nil {
		if ctx.Err() == nil {
			log.Warn("no ETA: the pool's size is unknown", "error", err.Error())
		}
		return
	}
	pr.estimated.Store(est.Users)
}

func newBar(con *console, pr *poolRun) *progressbar.ProgressBar {
	max := pr.estimated.Load()
	if max <= 0 {
		max = -1 // a spinner until the estimate is known
	}
	return progressbar.NewOptions64(max,
		progressbar.OptionSetWriter(con.stderr),
		progressbar.OptionSetDescription(pr.cfg.UserPoolID),
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
		done := s.Users + s.Skipped
		if s.Estimated > 0 && bar.GetMax64() != s.Estimated && s.Estimated > done {
			bar.ChangeMax64(s.Estimated)
		} else if bar.GetMax64() > 0 && done >= bar.GetMax64() {
			bar.ChangeMax64(done + 1) // the estimate was low: keep the bar short of full until the end
		}
		// Set64 draws only when the percentage moves; Describe always
		// draws, so it comes last and shows the fresh counts.
		bar.Set64(done)
		bar.Describe(fmt.Sprintf("%s users %d of ~%d | rows %d | %.0f calls/s | throttles %d | ETA %s",
			pool, s.Users, s.Estimated, s.Rows, s.CallsPerSec, s.Throttles, s.eta()))
	})
}

func round1(f float64) float64 { return float64(int64(f*10+0.5)) / 10 }
