package batch

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/cognito-export/cognito-export/cognito"
	"github.com/cognito-export/cognito-export/export"
	"github.com/cognito-export/cognito-export/internal/cognitoemu"
	"github.com/cognito-export/cognito-export/ratelimit"
)

const auditAccount = "011111111111"

// startOrg serves an organisation over real HTTP, Cognito and STS alike:
// accountA has pools in two regions and trusts the audit account with its
// role; accountB's role trusts someone else.
func startOrg(t *testing.T) string {
	t.Helper()
	pool := func(id, name string, users int) cognitoemu.PoolSpec {
		return cognitoemu.PoolSpec{ID: id, Name: name, Users: users, Groups: 3, Seed: int64(users)}
	}
	org, err := cognitoemu.NewOrg(cognitoemu.OrgSpec{Accounts: []cognitoemu.AccountSpec{
		{ID: auditAccount},
		{ID: accountA, Regions: map[string][]cognitoemu.PoolSpec{
			"eu-west-1": {pool("eu-west-1_App", "app-main", 12), pool("eu-west-1_Scratch", "scratch-sandbox", 5), pool("eu-west-1_Other", "other", 7)},
			"us-east-1": {pool("us-east-1_App", "app-us", 9)},
		}, Roles: []cognitoemu.RoleSpec{{Name: "cognito-export-reader", TrustedAccounts: []string{auditAccount}}}},
		{ID: accountB, Regions: map[string][]cognitoemu.PoolSpec{"eu-west-1": {pool("eu-west-1_B", "b", 4)}},
			Roles: []cognitoemu.RoleSpec{{Name: "cognito-export-reader", TrustedAccounts: []string{accountA}}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(org)
	t.Cleanup(hs.Close)
	t.Setenv("AWS_ENDPOINT_URL_STS", hs.URL) // the SDK's own STS client, for the roles
	return hs.URL
}

// asAudit is how the run reaches the org: the audit account's keys, one
// endpoint for Cognito.
func asAudit(url string, cfg export.Config) export.Config {
	id, secret := cognitoemu.AccountKeys(auditAccount)
	cfg.Client.EndpointURL, cfg.Client.MaxAttempts = url, 2
	cfg.Client.Credentials = credentials.NewStaticCredentialsProvider(id, secret, "")
	return cfg
}

func discover(t *testing.T, s Settings) (*Plan, Found) {
	t.Helper()
	s.NewLimits = ratelimit.Unlimited
	p := newPlan(t, s)
	found, err := Discover(context.Background(), p, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return p, found
}

// Discovery lists every target's pools under its pair's limiters. Named
// pools come first and keep their own settings when discovery finds them
// too; --exclude leaves pools out as skipped, by the pattern; a pool whose
// output another pool has is refused, alone; an account whose role cannot
// be assumed fails alone, and the others go on.
func TestDiscoverFindsPoolsAndSaysWhatItLeftOut(t *testing.T) {
	url := startOrg(t)
	namedApp := asAudit(url, withRole(named("eu-west-1_App", "/named/{pool}"), accountA, "eu-west-1"))
	namedApp.Format = "csv"
	squatter := named("eu-west-1_Squatter", "/o/"+accountA+"/eu-west-1/eu-west-1_Other")
	srcA := source("accounts[0]", accountA, "/o/{account}/{region}/{pool}", "us-east-1", "eu-west-1")
	srcA.Config, srcA.Exclude = asAudit(url, srcA.Config), []string{"scratch-*"}
	srcB := source("accounts[1]", accountB, "/o/{account}/{region}/{pool}", "eu-west-1")
	srcB.Config = asAudit(url, srcB.Config)
	p, found := discover(t, Settings{Pools: []export.Config{namedApp, squatter}, Sources: []Source{srcA, srcB}, Region: "eu-west-1"})

	var ids []string
	for _, pp := range found.Pools {
		ids = append(ids, pp.UserPoolID)
	}
	if want := []string{"eu-west-1_App", "eu-west-1_Squatter", "us-east-1_App"}; !slices.Equal(ids, want) {
		t.Fatalf("pools %v, want %v", ids, want)
	}
	if app := found.Pools[0]; app.Format != "csv" || app.Output != "/named/eu-west-1_App" {
		t.Errorf("the named pool found again lost its own settings: %q %q", app.Format, app.Output)
	}
	us := found.Pools[2]
	if us.Key != (QuotaKey{accountA, "us-east-1"}) || us.Name != "app-us" || us.Output != "/o/"+accountA+"/us-east-1/us-east-1_App" ||
		us.Limits == nil || us.Limits != p.Limits[us.Key] {
		t.Errorf("found pool %+v", us.Key)
	}
	if len(found.Skipped) != 1 || found.Skipped[0].UserPoolID != "eu-west-1_Scratch" || found.Skipped[0].Status != StatusSkipped ||
		found.Skipped[0].Error != `excluded by "scratch-*"` || found.Skipped[0].PoolName != "scratch-sandbox" {
		t.Errorf("skipped %+v", found.Skipped)
	}
	if len(found.Failed) != 2 {
		t.Fatalf("failed %+v", found.Failed)
	}
	other, listing := found.Failed[0].Entry, found.Failed[1].Entry
	if other.UserPoolID != "eu-west-1_Other" || other.Status != StatusFailed || !strings.Contains(other.Error, "eu-west-1_Squatter and eu-west-1_Other would share") {
		t.Errorf("the pool whose output is taken: %+v", other)
	}
	if listing.UserPoolID != "" || listing.Account != accountB || listing.RoleARN != roleOf(accountB) || listing.Status != StatusFailed ||
		!strings.Contains(listing.Error, "find the pools of account "+accountB+" in eu-west-1") {
		t.Errorf("the account that cannot be listed: %+v", listing)
	}
	if found.Label() != "*" {
		t.Errorf("label %q", found.Label())
	}
}

// --include keeps only the pools whose id or name matches.
func TestDiscoverIncludes(t *testing.T) {
	url := startOrg(t)
	src := source("--all-pools", accountA, "/o/{pool}", "eu-west-1")
	src.Config, src.Include = asAudit(url, src.Config), []string{"app-*", "*_Other"}
	_, found := discover(t, Settings{Sources: []Source{src}})
	var ids []string
	for _, pp := range found.Pools {
		ids = append(ids, pp.UserPoolID)
	}
	if !slices.Equal(ids, []string{"eu-west-1_App", "eu-west-1_Other"}) {
		t.Fatalf("pools %v", ids)
	}
	if len(found.Skipped) != 1 || found.Skipped[0].UserPoolID != "eu-west-1_Scratch" || found.Skipped[0].Error != "matches no --include pattern" {
		t.Fatalf("skipped %+v", found.Skipped)
	}
}

// Without targets, discovery calls nothing: the named pools are the run.
func TestDiscoverWithoutTargetsCallsNothing(t *testing.T) {
	cfg := named("eu-west-1_A", "/o/{pool}")
	cfg.Client = cognito.Config{EndpointURL: "http://127.0.0.1:1", Region: "eu-west-1"} // nothing listens
	_, found := discover(t, Settings{Pools: []export.Config{cfg}})
	if len(found.Pools) != 1 || len(found.Failed) != 0 || found.Label() != "eu-west-1_A" {
		t.Fatalf("found %+v", found)
	}
}
