package export

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"time"

	"github.com/cognito-export/cognito-export/checkpoint"
	"github.com/cognito-export/cognito-export/ratelimit"
	"github.com/cognito-export/cognito-export/sink"
)

// Summary is what a run did. Users, rows and parts count the whole export,
// earlier runs that this one resumed included; calls count this run only.
type Summary struct {
	Users           int64            `json:"users"`
	Rows            int64            `json:"rows"`
	Skipped         int64            `json:"skipped"`
	Calls           map[string]int64 `json:"calls"`
	Throttles       int64            `json:"throttles"`
	Retries         int64            `json:"retries"`
	Parts           int              `json:"parts"`
	Bytes           int64            `json:"bytes"`
	Elapsed         time.Duration    `json:"elapsed_ns"`
	Output          string           `json:"output"`
	Complete        bool             `json:"complete"`
	AlreadyComplete bool             `json:"already_complete,omitempty"`
	Resumed         bool             `json:"resumed,omitempty"`
	RestartedList   bool             `json:"restarted_listing,omitempty"`
	Strategy        string           `json:"strategy,omitempty"`
	// Estimate is what auto based its choice on; nil when the strategy was
	// given or resumed.
	Estimate *Estimate `json:"estimate,omitempty"`
	// Rates are each quota category's limiter rate at the end, after
	// adaptive slow-down (requests/second; +Inf when unlimited).
	Rates map[string]float64 `json:"rates"`
}

// TotalCalls adds up the calls of every operation.
func (s Summary) TotalCalls() int64 {
	var n int64
	for _, c := range s.Calls {
		n += c
	}
	return n
}

// Run exports one pool, resuming from its checkpoint when there is one. It
// returns a Summary even on failure, with what was committed until then; the
// manifest is written only when every user was exported.
func Run(ctx context.Context, cfg Config) (Summary, error) {
	start := time.Now()
	if err := cfg.Validate(); err != nil {
		return Summary{}, err
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Limits == nil {
		cfg.Limits = ratelimit.NewSet(nil, 1)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.StopTimeout == 0 {
		cfg.StopTimeout = DefaultStopTimeout
	}
	if cfg.Format != "parquet" {
		cfg.Compression = ""
	}
	log := cfg.Logger.With("phase", "plan")
	s3opts := cfg.s3Options()
	out, err := openOutput(ctx, cfg.Output, s3opts)
	if err != nil {
		return Summary{}, err
	}
	store, err := openCheckpoint(ctx, cfg.Checkpoint, out, s3opts)
	if err != nil {
		return Summary{}, err
	}
	sum := Summary{Output: cfg.Output}

	if manifest, err := out.Get(ctx, ManifestName); err != nil {
		return sum, fmt.Errorf("check output for a complete export: %w", err)
	} else if manifest != nil && !cfg.Fresh {
		log.Info("export already complete; nothing to do (pass --fresh to export again)", "output", cfg.Output)
		sum.Complete, sum.AlreadyComplete = true, true
		return sum, nil
	}
	state, err := store.Load(ctx)
	if err != nil {
		return sum, &Problem{Kind: KindFatal, Err: err}
	}
	if cfg.Fresh && state != nil {
		log.Info("discarding the checkpoint of an earlier run (--fresh)", "checkpoint", store.String())
		if err := store.Delete(ctx); err != nil {
			return sum, err
		}
		state = nil
	}
	calls := cfg.Progress.callCounter()
	client, err := NewCognitoClient(ctx, cfg.Client, cfg.Limits, calls)
	if err != nil {
		return sum, err
	}
	if cfg.Strategy == "" {
		cfg.Strategy = StrategyAuto
	}
	if cfg.Strategy == StrategyAuto && state != nil {
		// A resume finishes the export the way it began.
		cfg.Strategy = cmp.Or(state.Params["strategy"], StrategyPerUser)
	}
	if state != nil {
		if diff := checkpoint.Mismatch(state.Params, cfg.params()); diff != "" {
			return sum, &Problem{Kind: KindUsage, Msg: fmt.Sprintf(
				"checkpoint %s was made with other parameters (%s): rerun with the same ones, or pass --fresh to start over", store, diff)}
		}
		sum.Resumed = true
		log.Info("resuming from checkpoint", "checkpoint", store.String(), "strategy", cfg.Strategy, "committed_pages", state.Pages,
			"committed_users", state.Users, "committed_rows", state.Rows, "parts", len(state.Parts))
	}
	if cfg.Strategy == StrategyAuto {
		est, err := estimate(ctx, client, cfg)
		switch {
		case err != nil && ctx.Err() != nil:
			return sum, context.Cause(ctx)
		case err != nil && denied(err):
			// A policy written for per-user (ListUsers and
			// AdminListGroupsForUser only) still exports.
			log.Warn("cannot estimate the strategies; exporting per-user, which needs only ListUsers and AdminListGroupsForUser (grant DescribeUserPool and ListGroups for auto, or pass --strategy)",
				"error", err.Error())
			cfg.Strategy = StrategyPerUser
		case err != nil:
			return sum, fmt.Errorf("estimate the cost of each strategy: %w", err)
		default:
			cfg.Strategy = est.Chosen
			sum.Estimate = &est
			cfg.Progress.estimated(est)
			logEstimate(log, est)
		}
	}
	sum.Strategy = cfg.Strategy
	cfg.Progress.decided(cfg.Strategy)
	if state == nil {
		state = &checkpoint.State{Params: cfg.params(), Started: cfg.Now().UTC()}
	}
	// Whatever the checkpoint does not name is an orphan of a killed run.
	if err := out.Prune(ctx, orphans(keepSet(state, cfg.Checkpoint))); err != nil {
		return sum, fmt.Errorf("remove files left by an interrupted run: %w", err)
	}

	cfg.Progress.written(state.Users, state.Rows, state.Skipped)
	if cfg.Strategy == StrategyByGroup {
		j := newByGroupJob(cfg, client, out, store, state) // logs its own phases: groups, users
		err = j.run(ctx)
		sum.RestartedList = j.restarted.Load()
	} else {
		perUser := cfg
		perUser.Logger = cfg.Logger.With("phase", "export")
		j := newPerUserJob(perUser, client, out, store, state)
		err = j.run(ctx)
		sum.RestartedList = j.restarted
	}
	sum.Calls, sum.Throttles, sum.Retries = calls.ByOperation(), calls.Throttles(), calls.Retries()
	sum.Rates = map[string]float64{}
	for c, r := range cfg.Limits.Rates() {
		if !math.IsInf(r, 1) {
			sum.Rates[string(c)] = math.Round(r*10) / 10
		}
	}
	fill := func() Summary {
		sum.Users, sum.Rows, sum.Skipped, sum.Parts = state.Users, state.Rows, state.Skipped, len(state.Parts)
		sum.Bytes = 0
		for _, p := range state.Parts {
			sum.Bytes += p.Bytes
		}
		sum.Elapsed = time.Since(start)
		return sum
	}
	if err != nil {
		return fill(), err
	}
	finishCfg := cfg
	finishCfg.Logger = cfg.Logger.With("phase", "finish")
	if err := finish(ctx, finishCfg, out, store, state); err != nil {
		return fill(), err
	}
	sum.Complete = true
	return fill(), nil
}

// keepSet names what a resume keeps: the committed parts, their done files
// and the checkpoint itself.
func keepSet(st *checkpoint.State, checkpointOverride string) map[string]bool {
	keep := map[string]bool{}
	if checkpointOverride == "" {
		keep[CheckpointName] = true
	}
	for _, p := range st.Parts {
		keep[p.Name] = true
	}
	for _, d := range slices.Concat(st.DoneFiles, st.MemberFiles) {
		keep[d] = true
	}
	return keep
}

// finish writes the manifest, which makes the export complete, and then
// removes the resume state it no longer needs.
func finish(ctx context.Context, cfg Config, out output, store *checkpoint.Store, st *checkpoint.State) error {
	m := sink.Manifest{
		Format: cfg.Format, StartedAt: st.Started, FinishedAt: cfg.Now().UTC(),
		Totals:     sink.Totals{Users: st.Users, Rows: st.Rows, Skipped: st.Skipped, Parts: len(st.Parts)},
		Parameters: cfg.params(),
	}
	for _, p := range st.Parts {
		m.Parts = append(m.Parts, sink.PartInfo(p))
		m.Totals.Bytes += p.Bytes
	}
	if m.Parts == nil {
		m.Parts = []sink.PartInfo{}
	}
	if err := sink.WriteManifest(ctx, out, ManifestName, m); err != nil {
		return err
	}
	// The export is complete from here on; leftovers are only clutter.
	var errs []error
	for _, d := range slices.Concat(st.DoneFiles, st.MemberFiles) {
		errs = append(errs, out.Delete(ctx, d))
	}
	errs = append(errs, store.Delete(ctx))
	if err := errors.Join(errs...); err != nil {
		cfg.Logger.Warn("export complete, but resume state could not be removed", "error", err)
	}
	return nil
}

// logEstimate says which strategy auto chose and what both would cost.
func logEstimate(log *slog.Logger, est Estimate) {
	attrs := []any{"chosen", est.Chosen, "users", est.Users, "groups", est.Groups,
		"sampled_users", est.SampledUsers, "memberships_per_user", math.Round(est.MembershipsPerUser*100) / 100}
	for _, name := range []string{StrategyPerUser, StrategyByGroup} {
		c := est.Strategies[name]
		attrs = append(attrs, slog.Group(name, "calls", c.TotalCalls(), "seconds", math.Round(c.Seconds), slog.Any("calls_by_operation", c.Calls)))
	}
	log.Info("strategy chosen from the estimate", attrs...)
}
