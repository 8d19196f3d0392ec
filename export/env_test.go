package export_test

import (
	"context"
	"testing"

	"github.com/cognito-export/cognito-export/export"
	"github.com/cognito-export/cognito-export/internal/cognitoemu"
)

// Defect 3 of issue 13: EstimateUsers built a second client of its own,
// from cfg.Limits, and panicked when they were nil (which means Cognito's
// default quotas); its call was counted nowhere. Now the run's one client
// makes it, paced by the defaults and counted with the run's calls.
func TestEstimateUsersUsesTheRunsClientAndDefaultQuotas(t *testing.T) {
	env := startEmulator(t, cognitoemu.PoolSpec{Users: 40, Groups: 5, Seed: 3}, cognitoemu.Options{})
	cfg := exportConfig(env, t.TempDir())
	cfg.Limits = nil // Cognito's default quotas
	cfg.Progress = &export.Progress{}
	e, err := export.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.EstimateUsers(context.Background()); err != nil {
		t.Fatal(err)
	}
	snap := cfg.Progress.Snapshot()
	if snap.EstimatedUsers != 40 {
		t.Fatalf("estimated users = %d, want 40", snap.EstimatedUsers)
	}
	if snap.Calls["DescribeUserPool"] != 1 {
		t.Fatalf("progress counted DescribeUserPool %d times, want 1: %v", snap.Calls["DescribeUserPool"], snap.Calls)
	}
	sum, err := e.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if sum.Calls["DescribeUserPool"] != 1 || sum.Calls["ListUsers"] == 0 {
		t.Fatalf("summary calls %v: want the ETA's DescribeUserPool counted with the export's calls", sum.Calls)
	}
}

// The pool's description is asked of Cognito once per run, though the ETA,
// the attribute schema and auto's estimate all read it.
func TestThePoolIsDescribedOncePerRun(t *testing.T) {
	env := startEmulator(t, cognitoemu.PoolSpec{Users: 200, Groups: 5, Seed: 4}, cognitoemu.Options{})
	cfg := exportConfig(env, t.TempDir())
	cfg.Strategy, cfg.Attributes, cfg.Progress = export.StrategyAuto, []string{"email"}, &export.Progress{}
	e, err := export.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.EstimateUsers(context.Background()); err != nil {
		t.Fatal(err)
	}
	sum, err := e.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if sum.Estimate == nil || sum.Calls["DescribeUserPool"] != 1 {
		t.Fatalf("estimate %v, DescribeUserPool called %d times", sum.Estimate, sum.Calls["DescribeUserPool"])
	}
}
