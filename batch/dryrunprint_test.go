package batch

import (
	"bytes"
	"testing"
	"time"

	"github.com/cognito-export/cognito-export/export"
	"github.com/cognito-export/cognito-export/lease"
	"github.com/cognito-export/cognito-export/sink/s3dest"
)

// TestPrintDryRun holds what a dry run says of a pool: each check that
// passed, what a run now would meet, and each strategy's calls and time,
// the chosen one marked; with an operation denied, no estimate.
func TestPrintDryRun(t *testing.T) {
	est := export.Estimate{Users: 2000, Chosen: export.StrategyByGroup, Strategies: map[string]export.StrategyCost{
		export.StrategyPerUser: {Calls: map[string]int64{"ListUsers": 34, "AdminListGroupsForUser": 2000}, Seconds: 40.4},
		export.StrategyByGroup: {Calls: map[string]int64{"ListUsers": 34, "ListGroups": 1, "ListUsersInGroup": 40}},
	}}
	started := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name string
		cfg  export.Config
		rep  export.DryRunReport
		want string
	}{
		{"an estimate", export.Config{UserPoolID: "us-east-1_P"},
			export.DryRunReport{Output: "out", Operations: []string{"ListUsers", "DescribeUserPool"}, Estimate: est}, `dry run of pool us-east-1_P: nothing exported
  output out: writable (a probe object was written and deleted)
  cognito-idp:ListUsers: allowed
  cognito-idp:DescribeUserPool: allowed
  estimated users: 2000
  strategy by-group (the run would use this): 75 calls (ListGroups 1, ListUsers 34, ListUsersInGroup 40), no rate limit set
  strategy per-user: 2034 calls (AdminListGroupsForUser 2000, ListUsers 34), about 40s at the configured rates
`},
		{"denied, complete, leased and retained", export.Config{UserPoolID: "us-east-1_P", S3: s3dest.Options{Retention: s3dest.Retention{Mode: "GOVERNANCE", Days: 30}}},
			export.DryRunReport{Output: "s3://b/p/", AlreadyComplete: true, Operations: []string{"ListUsers"}, Denied: []string{"ListGroups"}, Estimate: est,
				Lease: &lease.Holder{RunID: "r1", Host: "h", PID: 7, Started: started, Expires: started.Add(time.Minute)}}, `dry run of pool us-east-1_P: nothing exported
  output s3://b/p/: writable (a probe object was written and deleted)
  bucket has Object Lock: every file of the export would be retained (governance 30d)
  output holds a complete export: a run without --fresh would do nothing
  output is being written by run "r1" (host "h", pid 7) since 2026-01-02T03:04:05Z; its lease expires at 2026-01-02T03:05:05Z: a run now would exit 1
  cognito-idp:ListUsers: allowed
  cognito-idp:ListGroups: denied: auto would export per-user, without an estimate (grant it for auto, or pass --strategy per-user)
`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var w bytes.Buffer
			PrintDryRun(&w, tt.cfg, tt.rep)
			if got := w.String(); got != tt.want {
				t.Fatalf("printed:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}
