package export_test

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/cognito-export/cognito-export/checkpoint"
	"github.com/cognito-export/cognito-export/export"
	"github.com/cognito-export/cognito-export/fault"
	"github.com/cognito-export/cognito-export/internal/cognitoemu"
	"github.com/cognito-export/cognito-export/internal/duckdb"
	"github.com/cognito-export/cognito-export/internal/exportcheck"
	"github.com/cognito-export/cognito-export/ratelimit"
	"github.com/cognito-export/cognito-export/sink/localdest"
)

var emulatedOperations = []string{"ListUsers", "AdminListGroupsForUser", "ListGroups", "ListUsersInGroup", "DescribeUserPool"}

// emuCalls is the emulator's count of requests per operation.
func emuCalls(srv *cognitoemu.Server) map[string]int64 {
	out := map[string]int64{}
	for _, op := range emulatedOperations {
		out[op] = srv.Calls(op)
	}
	return out
}

func callsSince(srv *cognitoemu.Server, before map[string]int64) (map[string]int64, int64) {
	delta, total := map[string]int64{}, int64(0)
	for op, n := range emuCalls(srv) {
		if d := n - before[op]; d > 0 {
			delta[op], total = d, total+d
		}
	}
	return delta, total
}

func parquetTable(dir string) string {
	return fmt.Sprintf("read_parquet(%s, hive_partitioning=false)", duckdb.Quote(dir+"/part-*.parquet"))
}

// TestStrategiesProduceTheSameRows exports pools of several shapes with
// both strategies: DuckDB must read the same rows, every column, from both,
// and the calls each made must be what the estimate predicted.
func TestStrategiesProduceTheSameRows(t *testing.T) {
	big := 50000
	if testing.Short() {
		big = 5000
	}
	shapes := []struct {
		name string
		spec cognitoemu.PoolSpec
		opts cognitoemu.Options
	}{
		{"no groups", cognitoemu.PoolSpec{Users: 3000, Groups: 0, Seed: 31}, cognitoemu.Options{}},
		{fmt.Sprintf("3 groups and %d users", big), cognitoemu.PoolSpec{Users: big, Groups: 3, Seed: 32}, cognitoemu.Options{}},
		{"500 groups and 2000 users", cognitoemu.PoolSpec{Users: 2000, Groups: 500, Seed: 33}, cognitoemu.Options{}},
		{"users in more than 60 groups", cognitoemu.PoolSpec{Users: 3000, Groups: 150, WideUsers: 300, Seed: 34}, cognitoemu.Options{}},
		{"deleted users", cognitoemu.PoolSpec{Users: 5000, Groups: 20, Seed: 35}, cognitoemu.Options{RemovedShare: 0.05}},
	}
	for _, shape := range shapes {
		t.Run(shape.name, func(t *testing.T) {
			duckdb.Require(t)
			env := startEmulator(t, shape.spec, shape.opts)
			base := exportConfig(env, t.TempDir())
			base.Format = "parquet"
			est, err := export.EstimateCost(context.Background(), base)
			if err != nil {
				t.Fatal(err)
			}
			dirs := map[string]string{}
			for _, strategy := range []string{export.StrategyPerUser, export.StrategyByGroup} {
				cfg := base
				cfg.Strategy = strategy
				cfg.Output = t.TempDir()
				cfg.PartRows = 4000 // several parts
				before := emuCalls(env.srv)
				sum, err := export.Run(context.Background(), cfg)
				if err != nil {
					t.Fatalf("%s: %v", strategy, err)
				}
				calls, total := callsSince(env.srv, before)
				// The estimate predicts the calls the strategy needs; a
				// retry on a loaded machine is one more the emulator sees.
				total -= sum.Retries
				predicted := est.Strategies[strategy]
				t.Logf("%s: %d calls %v with %d retries; estimated %d %v; %d users, %d rows",
					strategy, total, calls, sum.Retries, predicted.TotalCalls(), predicted.Calls, sum.Users, sum.Rows)
				if sum.Strategy != strategy {
					t.Fatalf("ran %q, want %q", sum.Strategy, strategy)
				}
				if off := math.Abs(float64(predicted.TotalCalls()-total)) / float64(total); off > 0.05 {
					t.Errorf("%s made %d calls, the estimate said %d (%.1f%% off, want within 5%%)", strategy, total, predicted.TotalCalls(), 100*off)
				}
				dirs[strategy] = cfg.Output
			}
			rows := exportcheck.Same(t, parquetTable(dirs[export.StrategyPerUser]), parquetTable(dirs[export.StrategyByGroup]))
			exportcheck.Compare(t, parquetTable(dirs[export.StrategyByGroup]), exportcheck.WriteTruth(t, env.pool, env.srv, true))
			t.Logf("both strategies exported the same %d rows", rows)
		})
	}
}

func TestByGroupWithoutEmptyUsersSkipsTheListUsersPass(t *testing.T) {
	env := startEmulator(t, cognitoemu.PoolSpec{Users: 2000, Groups: 30, Seed: 36}, cognitoemu.Options{})
	out := t.TempDir()
	cfg := exportConfig(env, out)
	cfg.Strategy = export.StrategyByGroup
	cfg.UsersWithoutGroups = false
	sum, err := export.Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if env.srv.Calls("ListUsers") != 0 {
		t.Fatalf("%d ListUsers calls: the pass for users without groups ran though they are not wanted", env.srv.Calls("ListUsers"))
	}
	_, got, _ := readExport(t, out)
	compareRows(t, got, groundTruth(env, false))
	withGroups := 0
	var idx []int
	for i := range env.pool.NumUsers() {
		if len(env.pool.UserGroups(i, idx[:0])) > 0 {
			withGroups++
		}
	}
	if sum.Users != int64(withGroups) {
		t.Fatalf("summary counts %d users, %d have groups", sum.Users, withGroups)
	}
}

func TestAutoPicksTheCheaperStrategyAndResumesWithIt(t *testing.T) {
	// Few groups: by-group needs a fraction of per-user's calls.
	env := startEmulator(t, cognitoemu.PoolSpec{Users: 3000, Groups: 5, Seed: 37}, cognitoemu.Options{})
	cfg := exportConfig(env, t.TempDir())
	cfg.Strategy = export.StrategyAuto
	cfg.Limits = ratelimit.NewSet(map[ratelimit.Category]float64{ratelimit.UserList: 300, ratelimit.UserResourceRead: 500}, 1) // 10x the defaults
	est, err := export.EstimateCost(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	pu, bg := est.Strategies[export.StrategyPerUser], est.Strategies[export.StrategyByGroup]
	if est.Chosen != export.StrategyByGroup || bg.Seconds >= pu.Seconds || est.Users != 3000 || est.Groups != 5 {
		t.Fatalf("estimate %+v: want by-group, quicker than per-user", est)
	}
	// The per-user time is its AdminListGroupsForUser calls at 500/s.
	if want := float64(pu.Calls["AdminListGroupsForUser"]) / 500; math.Abs(pu.Seconds-want) > 0.01 {
		t.Fatalf("per-user estimated at %.1fs, want %.1fs", pu.Seconds, want)
	}

	// Many groups of a few users each: a member list per group costs more
	// than a call per user.
	wide := startEmulator(t, cognitoemu.PoolSpec{Users: 200, Groups: 400, MeanGroupsPerUser: 1.2, Seed: 38}, cognitoemu.Options{})
	est, err = export.EstimateCost(context.Background(), exportConfig(wide, t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	if est.Chosen != export.StrategyPerUser {
		t.Fatalf("estimate %+v: want per-user for 400 groups of 200 users", est)
	}

	// auto chooses once; a resume goes on with the checkpoint's strategy.
	// At four times the default rates the estimate's sample takes 1.5s and
	// the export about 6s more.
	cfg.Limits = ratelimit.NewSet(map[ratelimit.Category]float64{ratelimit.UserList: 120, ratelimit.UserResourceRead: 200}, 1)
	cfg.CheckpointInterval = time.Millisecond
	cfg.PageSize = 10
	if runUntil(t, cfg, 3*time.Second) {
		t.Fatal("finished before the stop")
	}
	if st := loadCheckpoint(t, cfg.Output); st == nil || st.Params["strategy"] != export.StrategyByGroup {
		t.Fatalf("checkpoint %+v: want one of a by-group export", st)
	}
	cfg.Limits = ratelimit.Unlimited()
	sum, err := export.Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !sum.Resumed || sum.Strategy != export.StrategyByGroup || sum.Estimate != nil {
		t.Fatalf("summary %+v: want a by-group resume without a new estimate", sum)
	}
	_, got, _ := readExport(t, cfg.Output)
	compareRows(t, got, groundTruth(env, true))
}

// stopUntil stops and resumes a paced export until its checkpoint is in the
// state reached says, and returns that state. Runs grow longer, from 150ms
// to a second, so that a slow machine (-race) still makes progress past
// each run's start-up.
func stopUntil(t *testing.T, cfg export.Config, reached func(*checkpoint.State) bool) *checkpoint.State {
	t.Helper()
	for i := range 100 {
		if runUntil(t, cfg, min(time.Second, time.Duration(150+20*i)*time.Millisecond)) {
			t.Fatal("the export completed before the checkpoint reached the wanted state")
		}
		if st := loadCheckpoint(t, cfg.Output); st != nil && reached(st) {
			return st
		}
	}
	t.Fatal("the checkpoint never reached the wanted state")
	return nil
}

func loadCheckpoint(t *testing.T, dir string) *checkpoint.State {
	t.Helper()
	d, err := localdest.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	st, err := checkpoint.NewStore(d, export.CheckpointName, dir).Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// inGroupPhase: some group's member list is committed halfway.
func inGroupPhase(st *checkpoint.State) bool {
	for _, g := range st.Groups {
		if g.Token != "" && !g.Done {
			return !st.GroupsDone
		}
	}
	return false
}

// inListUsersPass: the users without groups are committed halfway.
func inListUsersPass(st *checkpoint.State) bool {
	return st.GroupsDone && !st.Listed && st.Watermark != ""
}

func byGroupConfig(env *emuEnv, out string) export.Config {
	cfg := exportConfig(env, out)
	cfg.Strategy = export.StrategyByGroup
	cfg.PageSize = 10 // many pages, so that stops land inside member lists
	cfg.PartRows = 700
	cfg.CheckpointInterval = 20 * time.Millisecond
	cfg.Limits = ratelimit.NewSet(map[ratelimit.Category]float64{ratelimit.UserList: 150}, 1)
	return cfg
}

func TestByGroupStopAndResumeExportsEveryRowOnce(t *testing.T) {
	duckdb.Require(t)
	env := startEmulator(t, cognitoemu.PoolSpec{Users: 3000, Groups: 70, Seed: 39}, cognitoemu.Options{RemovedShare: 0.02})
	out := t.TempDir()
	cfg := byGroupConfig(env, out)
	cfg.Format = "parquet"
	// Stop inside a group's member list, then inside the ListUsers pass,
	// then until the end.
	stopUntil(t, cfg, inGroupPhase)
	stopUntil(t, cfg, inListUsersPass)
	for stops := 0; !runUntil(t, cfg, time.Duration(150+20*stops)*time.Millisecond); stops++ {
		if stops > 100 {
			t.Fatal("export never completed")
		}
	}
	exportcheck.Compare(t, parquetTable(out), exportcheck.WriteTruth(t, env.pool, env.srv, true))
	assertNoLeftovers(t, out)
}

// TestByGroupRejectedTokensRestartWithoutDuplicates: a resume whose saved
// tokens Cognito no longer accepts lists again from the start and skips
// what is committed, in the group phase and in the ListUsers pass.
func TestByGroupRejectedTokensRestartWithoutDuplicates(t *testing.T) {
	for name, reached := range map[string]func(*checkpoint.State) bool{
		"member list": inGroupPhase, "ListUsers pass": inListUsersPass,
	} {
		t.Run(name, func(t *testing.T) {
			spec := cognitoemu.PoolSpec{Users: 3000, Groups: 40, Seed: 40}
			env := startEmulator(t, spec, cognitoemu.Options{})
			cfg := byGroupConfig(env, t.TempDir())
			stopUntil(t, cfg, reached)
			resumeWithRejectedTokens(t, env, spec, cfg)
		})
	}
}

func TestResumeWithAnotherStrategyIsRefused(t *testing.T) {
	env := startEmulator(t, cognitoemu.PoolSpec{Users: 3000, Groups: 40, Seed: 41}, cognitoemu.Options{})
	cfg := byGroupConfig(env, t.TempDir())
	stopUntil(t, cfg, inGroupPhase)
	before := loadCheckpoint(t, cfg.Output)
	cfg.Strategy = export.StrategyPerUser
	_, err := export.Run(context.Background(), cfg)
	if err == nil || fault.KindOf(err) != fault.Usage || !strings.Contains(err.Error(), `strategy is "by-group" in the checkpoint but "per-user" now`) {
		t.Fatalf("err = %v, want the strategies named", err)
	}
	if after := loadCheckpoint(t, cfg.Output); after.Saved != before.Saved {
		t.Fatal("the refused resume touched the checkpoint")
	}
}

// TestAutoWithAPerUserPolicyExportsPerUser: credentials allowed only what
// per-user needs cannot estimate; auto exports per-user rather than fail.
func TestAutoWithAPerUserPolicyExportsPerUser(t *testing.T) {
	for name, deny := range map[string][]string{
		"per-user policy":          {"DescribeUserPool", "ListGroups", "ListUsersInGroup"},
		"no ListUsersInGroup only": {"ListUsersInGroup"},
	} {
		t.Run(name, func(t *testing.T) {
			opts := cognitoemu.Options{Deny: map[string]string{}}
			for _, op := range deny {
				opts.Deny[op] = "AccessDeniedException"
			}
			autoFallsBackToPerUser(t, startEmulator(t, cognitoemu.PoolSpec{Users: 600, Groups: 8, Seed: 42}, opts))
		})
	}
}

func autoFallsBackToPerUser(t *testing.T, env *emuEnv) {
	t.Helper()
	out := t.TempDir()
	cfg := exportConfig(env, out)
	cfg.Strategy = export.StrategyAuto
	sum, err := export.Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Strategy != export.StrategyPerUser || sum.Estimate != nil {
		t.Fatalf("summary %+v: want per-user without an estimate", sum)
	}
	_, got, _ := readExport(t, out)
	compareRows(t, got, groundTruth(env, true))
}
