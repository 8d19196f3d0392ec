package export

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/cognito-export/cognito-export/checkpoint"
	"github.com/cognito-export/cognito-export/cognito"
	"github.com/cognito-export/cognito-export/fault"
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
	// Phases are what each phase of this run cost, in order.
	Phases []PhaseStats `json:"phases,omitempty"`
}

// TotalCalls adds up the calls of every operation.
func (s Summary) TotalCalls() int64 {
	var n int64
	for _, c := range s.Calls {
		n += c
	}
	return n
}

// Run exports the pool, resuming from its checkpoint when there is one, in
// four steps: resume (what is already done), plan (which strategy),
// execute, finish (the manifest). It returns a Summary even on failure,
// with what was committed until then; the manifest is written only when
// every user was exported.
func (e *Env) Run(ctx context.Context) (Summary, error) {
	r := &run{Env: e, start: time.Now(), sum: Summary{Output: e.cfg.Output}}
	err := r.steps(ctx)
	return r.summary(), err
}

// run is one Env.Run: its state as it goes through the steps.
type run struct {
	*Env
	start time.Time
	sum   Summary
	meter phaseMeter
	state *checkpoint.State // nil until resume knows it
}

func (r *run) steps(ctx context.Context) error {
	plan, err := r.identify(ctx)
	if err != nil {
		return err
	}
	r.cfg.attrs = plan
	done, err := r.resume(ctx)
	if err != nil || done {
		return err
	}
	if err := r.plan(ctx); err != nil {
		return err
	}
	err = r.execute(ctx)
	r.collectCalls()
	if err != nil {
		return err
	}
	if err := r.finish(ctx); err != nil {
		return err
	}
	r.sum.Complete = true
	return nil
}

// resume finds what earlier runs did: a complete export (done), or a
// checkpoint whose parameters must match this run's. A resume keeps the
// checkpoint's strategy.
func (r *run) resume(ctx context.Context) (done bool, err error) {
	log := r.log.With("phase", "plan")
	if manifest, err := r.out.Get(ctx, ManifestName); err != nil {
		return false, fmt.Errorf("check output for a complete export: %w", err)
	} else if manifest != nil && !r.cfg.Fresh {
		log.Info("export already complete; nothing to do (pass --fresh to export again)", "output", r.cfg.Output)
		r.warnSignedBy(log, manifest)
		r.sum.Complete, r.sum.AlreadyComplete = true, true
		return true, nil
	}
	state, err := r.store.Load(ctx)
	if err != nil {
		return false, fault.New(fault.Fatal, "", err)
	}
	if r.cfg.Fresh && state != nil {
		log.Info("discarding the checkpoint of an earlier run (--fresh)", "checkpoint", r.store.String())
		if err := r.store.Delete(ctx); err != nil {
			return false, err
		}
		state = nil
	}
	if state == nil {
		return false, nil
	}
	if r.cfg.Strategy == StrategyAuto {
		// A resume finishes the export the way it began.
		r.cfg.Strategy = cmp.Or(state.Params["strategy"], StrategyPerUser)
	}
	if saved, now := state.Params[signingKeyParam], r.cfg.params()[signingKeyParam]; saved != now {
		return false, fault.Usagef(fmt.Sprintf("checkpoint %s was begun %s, and this run %s: one export has one signer; resume with the same --signing-key, or pass --fresh to start over",
			r.store, signedBy(saved), signedBy(now)))
	}
	if diff := checkpoint.Mismatch(state.Params, r.cfg.params()); diff != "" {
		return false, fault.Usagef(fmt.Sprintf(
			"checkpoint %s was made with other parameters (%s): rerun with the same ones, or pass --fresh to start over", r.store, diff))
	}
	r.state, r.sum.Resumed = state, true
	log.Info("resuming from checkpoint", "checkpoint", r.store.String(), "strategy", r.cfg.Strategy, "committed_pages", state.Pages,
		"committed_users", state.Users, "committed_rows", state.Rows, "parts", len(state.Parts))
	return false, nil
}

// plan settles the strategy (auto estimates both) and starts the state of
// a run that resumes nothing.
func (r *run) plan(ctx context.Context) error {
	if r.cfg.Strategy == StrategyAuto && r.cfg.Filter != "" {
		// Only ListUsers takes a filter.
		r.cfg.Strategy = StrategyPerUser
	}
	if r.cfg.Strategy == StrategyAuto {
		if err := r.chooseStrategy(ctx); err != nil {
			return err
		}
	}
	r.sum.Strategy = r.cfg.Strategy
	r.cfg.Progress.decided(r.cfg.Strategy)
	if r.state == nil {
		r.state = &checkpoint.State{Params: r.cfg.params(), Started: r.cfg.Now().UTC()}
	}
	return nil
}

// chooseStrategy estimates both strategies and takes the quicker. Without
// the permissions the estimate needs, it exports per-user.
func (r *run) chooseStrategy(ctx context.Context) error {
	log := r.log.With("phase", "plan")
	est, err := estimate(ctx, r.client, r.cfg, r.describePool)
	switch {
	case err != nil && ctx.Err() != nil:
		return context.Cause(ctx)
	case err != nil && fault.Denied(err):
		// A policy written for per-user (ListUsers and
		// AdminListGroupsForUser only) still exports.
		log.Warn("cannot estimate the strategies; exporting per-user, which needs only ListUsers and AdminListGroupsForUser (grant DescribeUserPool and ListGroups for auto, or pass --strategy)",
			"error", err.Error())
		r.cfg.Strategy = StrategyPerUser
	case err != nil:
		return fmt.Errorf("estimate the cost of each strategy: %w", err)
	default:
		r.cfg.Strategy = est.Chosen
		r.sum.Estimate = &est
		r.cfg.Progress.estimated(est)
		logEstimate(log, est)
	}
	return nil
}

// execute removes the orphans of a killed run and runs the strategy.
func (r *run) execute(ctx context.Context) error {
	// Whatever the checkpoint does not name is an orphan of a killed run.
	if err := r.out.Prune(ctx, orphans(keepSet(r.state, r.cfg.Checkpoint))); err != nil {
		return fmt.Errorf("remove files left by an interrupted run: %w", err)
	}
	r.cfg.Progress.written(r.state.Users, r.state.Rows, r.state.Skipped)
	r.meter.progress = r.cfg.Progress
	defer r.meter.end()
	if r.cfg.Strategy == StrategyByGroup {
		j := newByGroupJob(r.cfg, r.client, r.out, r.store, r.state) // logs its own phases: groups, users
		j.phase = r.meter.begin
		err := j.run(ctx)
		r.sum.RestartedList = j.restarted.Load()
		return err
	}
	r.cfg.Progress.setListed(r.state.Users + r.state.Skipped)
	r.meter.begin(PhaseUsers)
	perUser := r.cfg
	perUser.Logger = r.log.With("phase", "export")
	j, err := newPerUserJob(perUser, r.client, r.out, r.store, r.state)
	if err != nil {
		return err
	}
	err = j.run(ctx)
	r.sum.RestartedList = j.restarted
	return err
}

// collectCalls records what this run asked of Cognito, and the limiters'
// rates after any slow-down.
func (r *run) collectCalls() {
	r.sum.Calls, r.sum.Throttles, r.sum.Retries = r.calls.ByOperation(), r.calls.Throttles(), r.calls.Retries()
	r.sum.Rates = map[string]float64{}
	for c, rate := range r.cfg.Limits.Rates() {
		if !math.IsInf(rate, 1) {
			r.sum.Rates[string(c)] = math.Round(rate*10) / 10
		}
	}
}

// summary is the Summary with the export's totals as committed.
func (r *run) summary() Summary {
	sum := r.sum
	if st := r.state; st != nil {
		sum.Users, sum.Rows, sum.Skipped, sum.Parts = st.Users, st.Rows, st.Skipped, len(st.Parts)
		for _, p := range st.Parts {
			sum.Bytes += p.Bytes
		}
	}
	sum.Elapsed = time.Since(r.start)
	sum.Phases = r.meter.done
	return sum
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
func (r *run) finish(ctx context.Context) error {
	cfg, out, store, st := r.cfg, r.out, r.store, r.state
	m := sink.Manifest{
		Format: cfg.Format, StartedAt: st.Started, FinishedAt: cfg.Now().UTC(),
		Totals:     sink.Totals{Users: st.Users, Rows: st.Rows, Skipped: st.Skipped, Parts: len(st.Parts)},
		Parameters: cfg.params(),
		Columns:    sink.ColumnsWith(cfg.attrs.extract.Columns()),
		Attributes: cfg.attrs.manifestAttributes(),
		KeyID:      cfg.attrs.keyID(&cfg),
		Filter:     cfg.Filter,
	}
	m.Groups = r.listGroups(ctx)
	m.PoolName = r.poolName()
	for _, p := range st.Parts {
		m.Parts = append(m.Parts, sink.PartInfo(p))
		m.Totals.Bytes += p.Bytes
	}
	if m.Parts == nil {
		m.Parts = []sink.PartInfo{}
	}
	if err := sink.WriteSignedManifest(ctx, out, ManifestName, m, cfg.Signer); err != nil {
		return err
	}
	if cfg.Signer != nil {
		r.log.Info("manifest signed", "phase", "finish", "signature", SignatureName, "signing_key", cfg.Signer.Fingerprint())
	}
	// The export is complete from here on; leftovers are only clutter.
	var errs []error
	for _, d := range slices.Concat(st.DoneFiles, st.MemberFiles) {
		errs = append(errs, out.Delete(ctx, d))
	}
	errs = append(errs, store.Delete(ctx))
	if err := errors.Join(errs...); err != nil {
		r.log.Warn("export complete, but resume state could not be removed", "phase", "finish", "error", err)
	}
	return nil
}

// listGroups lists the pool's groups for the manifest: a review must see
// the groups without members too, which no row shows. A policy without
// ListGroups (per-user needs only ListUsers and AdminListGroupsForUser)
// still exports, without them.
func (r *run) listGroups(ctx context.Context) []sink.ManifestGroup {
	groups, err := cognito.ListGroups(ctx, r.client, r.cfg.UserPoolID)
	if err != nil {
		r.log.Warn("cannot list the pool's groups for the manifest; diff and report will see only groups with members (grant cognito-idp:ListGroups)",
			"phase", "finish", "error", err.Error())
		return nil
	}
	out := make([]sink.ManifestGroup, 0, len(groups))
	for _, g := range groups {
		out = append(out, sink.ManifestGroup{
			Name: aws.ToString(g.GroupName), Description: g.Description, RoleArn: g.RoleArn, Precedence: g.Precedence,
			CreationDate: utc(g.CreationDate), LastModifiedDate: utc(g.LastModifiedDate),
		})
	}
	return out
}

// poolName is the pool's name if this run has described the pool (for its
// attributes or its estimate); it asks for no more than that, so a policy
// without DescribeUserPool costs only the name in the report.
func (r *run) poolName() string {
	r.poolMu.Lock()
	defer r.poolMu.Unlock()
	if r.pool == nil {
		return ""
	}
	return aws.ToString(r.pool.Name)
}

// warnSignedBy warns when a complete export found in the output is not
// signed by this run's key: the run signs nothing, and the operator who
// added --signing-key would otherwise believe it signed.
func (r *run) warnSignedBy(log *slog.Logger, manifest []byte) {
	if r.cfg.Signer == nil {
		return
	}
	var m struct {
		Parameters map[string]string `json:"parameters"`
	}
	if json.Unmarshal(manifest, &m) != nil {
		return
	}
	if was, now := m.Parameters[signingKeyParam], r.cfg.Signer.Fingerprint(); was != now {
		log.Warn("the complete export in the output is "+signedBy(was)+", not by this run's key, which signs nothing here (pass --fresh to export again, signed)",
			"signing_key", now)
	}
}

// signedBy says how a run signs, for a refused resume.
func signedBy(fingerprint string) string {
	if fingerprint == "" {
		return "unsigned"
	}
	return "signed by key " + fingerprint
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
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
