package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cognito-export/cognito-export/batch"
	"github.com/cognito-export/cognito-export/internal/cognitoemu"
	"github.com/cognito-export/cognito-export/internal/duckdb"
	"github.com/cognito-export/cognito-export/internal/exportcheck"
)

// An organisation for issue 17: three member accounts, each with two pools
// in each of two regions, and an audit account without pools that the run
// signs as. One account's role may trust someone else (denied). Account ids
// start with 0 so that a reader that takes account=... for a number loses
// the zero.
var (
	orgAccounts = []string{"022222222222", "033333333333", "044444444444"}
	orgRegions  = []string{"eu-west-1", "us-east-1"}
)

const orgRole = "cognito-export-reader"

func orgRoleARN(account string) string { return "arn:aws:iam::" + account + ":role/" + orgRole }

type orgPool struct {
	account, region string
	spec            cognitoemu.PoolSpec
}

func newTestOrg(t *testing.T, deniedAccount string, users int, ttl time.Duration) (*cognitoemu.Org, string, []orgPool) {
	t.Helper()
	spec := cognitoemu.OrgSpec{CredentialTTL: ttl, Accounts: []cognitoemu.AccountSpec{{ID: auditAccount}}}
	var pools []orgPool
	for a, account := range orgAccounts {
		as := cognitoemu.AccountSpec{ID: account, Regions: map[string][]cognitoemu.PoolSpec{}}
		trusted := auditAccount
		if account == deniedAccount {
			trusted = memberA // not the audit account
		}
		as.Roles = []cognitoemu.RoleSpec{{Name: orgRole, TrustedAccounts: []string{trusted}}}
		for r, region := range orgRegions {
			for k := range 2 {
				ps := cognitoemu.PoolSpec{ID: fmt.Sprintf("%s_A%dR%dP%d", region, a, r, k), Name: fmt.Sprintf("app-%d-%d", a, k),
					Users: users + 37*k + 11*r, Groups: 4 + k, Seed: int64(100*a + 10*r + k)}
				as.Regions[region] = append(as.Regions[region], ps)
				pools = append(pools, orgPool{account, region, ps})
			}
		}
		if a == 0 {
			// A pool the run is told to leave out, by name.
			ps := cognitoemu.PoolSpec{ID: "eu-west-1_Scratch", Name: "scratch-sandbox", Users: 5, Groups: 1, Seed: 7}
			as.Regions["eu-west-1"] = append(as.Regions["eu-west-1"], ps)
		}
		spec.Accounts = append(spec.Accounts, as)
	}
	org, err := cognitoemu.NewOrg(spec)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(org)
	t.Cleanup(hs.Close)
	return org, hs.URL, pools
}

// orgEnv signs as the audit account and points STS and Cognito at the org.
func orgEnv(url string, extra ...string) []string {
	id, secret := cognitoemu.AccountKeys(auditAccount)
	return cleanEnv(append([]string{"AWS_ACCESS_KEY_ID=" + id, "AWS_SECRET_ACCESS_KEY=" + secret, "AWS_REGION=eu-west-1",
		"AWS_ENDPOINT_URL_STS=" + url, "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER=" + url}, extra...)...)
}

// orgConfig lists the member accounts, each in both regions, with the
// recommended layout under dir.
func orgConfig(t *testing.T, dir, format string) string {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "output: %s/account={account}/region={region}/pool={pool}/dt={date}/\n", dir)
	fmt.Fprintf(&b, "format: %s\nrate: [UserResourceRead=0, UserList=0, UserPoolResourceRead=0, UserPoolRead=0]\n", format)
	b.WriteString("strategy: per-user\nparallel-pools: 4\nexclude: [scratch-*]\naccounts:\n")
	for _, a := range orgAccounts {
		fmt.Fprintf(&b, "  - {role-arn: %q, regions: [%s]}\n", orgRoleARN(a), strings.Join(orgRegions, ", "))
	}
	return writeConfig(t, b.String())
}

func readIndex(t *testing.T, path string) batch.RunIndex {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var idx batch.RunIndex
	if err := json.Unmarshal(data, &idx); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return idx
}

// Every pool of every account and region the config lists is found and
// exported, each exactly (DuckDB against the emulator's truth); the
// account whose role does not trust the audit account fails by name in
// the index and the exit code, and the others go on. The recommended
// layout reads back as one table with hive partitioning.
func TestAllPoolsOfAnOrganisation(t *testing.T) {
	denied := orgAccounts[2]
	org, url, pools := newTestOrg(t, denied, 150, 0)
	dir := t.TempDir()
	r := runCLI(t, orgEnv(url), "export", "--config", orgConfig(t, dir, "parquet"), "--run-id", "org-run", "--log-format", "json")
	last := lastLine(r.stderr)
	if r.code != 1 || !strings.Contains(last, "0 of 8 pools and the listing of 2 (account, region) failed") ||
		!strings.Contains(last, "assume role "+orgRoleARN(denied)+": AccessDenied") {
		t.Fatalf("exit %d, last line %q", r.code, last)
	}

	idx := readIndex(t, filepath.Join(dir, "index.json"))
	if idx.RunID != "org-run" || idx.Status != batch.StatusFailed || idx.Totals.Complete != 8 || idx.Totals.Failed != 2 || idx.Totals.Skipped != 1 {
		t.Fatalf("index: %+v", idx)
	}
	truthRows := map[string]int64{}
	for _, p := range pools {
		if p.account == denied {
			continue
		}
		i := slices.IndexFunc(idx.Pools, func(e batch.IndexEntry) bool { return e.UserPoolID == p.spec.ID && e.Account == p.account })
		if i < 0 {
			t.Fatalf("pool %s of %s not in the index", p.spec.ID, p.account)
		}
		e := idx.Pools[i]
		manifest, err := os.ReadFile(filepath.Join(e.Output, "manifest.json"))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(manifest)
		if e.Status != batch.StatusComplete || e.Region != p.region || e.PoolName != p.spec.Name || e.RoleARN != orgRoleARN(p.account) ||
			e.ManifestSHA256 != hex.EncodeToString(sum[:]) || int(e.Users) != p.spec.Users {
			t.Fatalf("index entry %+v", e)
		}
		want := filepath.Join(dir, "account="+p.account, "region="+p.region, "pool="+p.spec.ID)
		if !strings.HasPrefix(e.Output, want+"/dt=") {
			t.Fatalf("output %s, want under %s", e.Output, want)
		}
		truth := exportcheck.WriteTruth(t, cognitoemu.NewPool(p.spec), org.Server(p.account, p.region), true)
		rows := exportcheck.Compare(t, "read_parquet("+duckdb.Quote(filepath.Join(e.Output, "*.parquet"))+")", truth)
		if int64(rows) != e.Rows {
			t.Fatalf("pool %s: index says %d rows, DuckDB reads %d", p.spec.ID, e.Rows, rows)
		}
		truthRows[p.account+"/"+p.region+"/"+p.spec.ID] = e.Rows
	}
	for _, region := range orgRegions {
		i := slices.IndexFunc(idx.Pools, func(e batch.IndexEntry) bool { return e.Account == denied && e.Region == region })
		if i < 0 || idx.Pools[i].Status != batch.StatusFailed || idx.Pools[i].UserPoolID != "" || !strings.Contains(idx.Pools[i].Error, orgRoleARN(denied)) {
			t.Fatalf("denied account in %s: %+v", region, idx.Pools)
		}
	}
	i := slices.IndexFunc(idx.Pools, func(e batch.IndexEntry) bool { return e.UserPoolID == "eu-west-1_Scratch" })
	if i < 0 || idx.Pools[i].Status != batch.StatusSkipped || !strings.Contains(idx.Pools[i].Error, `excluded by "scratch-*"`) {
		t.Fatalf("the excluded pool: %+v", idx.Pools)
	}
	if _, err := os.Stat(filepath.Join(dir, "account="+orgAccounts[0], "region=eu-west-1", "pool=eu-west-1_Scratch")); err == nil {
		t.Fatal("the excluded pool was exported")
	}

	// The README's recipe: one table over every account, region, pool and day.
	res := duckdb.Query(t, fmt.Sprintf(`SELECT account, region, pool, count(*) AS n
FROM read_parquet(%s, hive_partitioning = true, hive_types = {'account': 'VARCHAR', 'region': 'VARCHAR', 'pool': 'VARCHAR', 'dt': 'DATE'})
WHERE pool = user_pool_id
GROUP BY ALL ORDER BY ALL`, duckdb.Quote(dir+"/**/*.parquet")))
	got := map[string]int64{}
	for _, row := range res.Rows {
		n, _ := row[3].(float64)
		got[fmt.Sprint(row[0])+"/"+fmt.Sprint(row[1])+"/"+fmt.Sprint(row[2])] = int64(n)
	}
	if !mapsEqual(got, truthRows) {
		t.Fatalf("hive-partitioned read: %v\nwant %v", got, truthRows)
	}
}

func mapsEqual(a, b map[string]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// The tasks of an array job, run as separate processes at once, each take
// a share of the (account, region) pairs: every pool is exported by
// exactly one of them, every pair is listed by exactly one (so no two
// tasks draw on one quota), and each writes its own index. The task index
// comes from --shard, AWS Batch's or Kubernetes' variable.
func TestShardsCoverEveryPoolOnce(t *testing.T) {
	org, url, pools := newTestOrg(t, "", 30, 0)
	dir := t.TempDir()
	file := orgConfig(t, dir, "csv")
	const n = 4
	ways := [n][]string{
		{"--shard", "0/4"},
		{"AWS_BATCH_JOB_ARRAY_INDEX=1", "COGNITO_EXPORT_SHARD_COUNT=4"},
		{"JOB_COMPLETION_INDEX=2", "--shard-count", "4"},
		{"COGNITO_EXPORT_SHARD=3/4"},
	}
	cmds := make([]*exec.Cmd, n)
	outs := make([]strings.Builder, n)
	for i, way := range ways {
		args := []string{"export", "--config", file, "--run-id", "sharded", "--log-format", "json"}
		var env []string
		for _, w := range way {
			if strings.Contains(w, "=") {
				env = append(env, w)
			} else {
				args = append(args, w)
			}
		}
		cmds[i] = exec.Command(binary, args...)
		cmds[i].Env = orgEnv(url, env...)
		cmds[i].Stderr = &outs[i]
		if err := cmds[i].Start(); err != nil {
			t.Fatal(err)
		}
	}
	for i, c := range cmds {
		if err := c.Wait(); err != nil {
			t.Fatalf("shard %d: %v\n%s", i, err, outs[i].String())
		}
	}
	exported := map[string]int{}
	pairShard := map[string]int{}
	for i := range n {
		idx := readIndex(t, filepath.Join(dir, fmt.Sprintf("index-shard-%d-of-%d.json", i, n)))
		if idx.Shard != fmt.Sprintf("%d/%d", i, n) || idx.Status != batch.StatusComplete {
			t.Fatalf("shard %d index: %+v", i, idx)
		}
		for _, e := range idx.Pools {
			pair := e.Account + "/" + e.Region
			if s, seen := pairShard[pair]; seen && s != i {
				t.Fatalf("(account, region) %s is in shards %d and %d", pair, s, i)
			}
			pairShard[pair] = i
			if e.Status == batch.StatusComplete {
				exported[e.Account+"/"+e.UserPoolID]++
			}
		}
	}
	if len(exported) != len(pools) {
		t.Fatalf("%d pools exported, want %d: %v", len(exported), len(pools), exported)
	}
	for _, p := range pools {
		if exported[p.account+"/"+p.spec.ID] != 1 {
			t.Fatalf("pool %s of %s exported %d times", p.spec.ID, p.account, exported[p.account+"/"+p.spec.ID])
		}
		if _, err := os.Stat(filepath.Join(dir, "account="+p.account, "region="+p.region, "pool="+p.spec.ID)); err != nil {
			t.Fatal(err)
		}
	}
	for _, a := range orgAccounts {
		for _, r := range orgRegions {
			if calls := org.Server(a, r).Calls("ListUserPools"); calls != 1 {
				t.Fatalf("%s in %s listed %d times, want once (by its own shard)", a, r, calls)
			}
		}
	}
	if len(pairShard) != len(orgAccounts)*len(orgRegions) {
		t.Fatalf("pairs %v", pairShard)
	}
}

// The role's credentials live three seconds; the export, paced, lasts
// longer than two lifetimes. The SDK's cache renews them before they
// expire, so no call is refused and nothing is retried.
func TestRoleCredentialsExpireDuringTheRun(t *testing.T) {
	org, url, pools := newTestOrg(t, "", 200, 3*time.Second)
	p := pools[0]
	dir := t.TempDir()
	r := runCLI(t, orgEnv(url), "export", "--user-pool-id", p.spec.ID, "--region", p.region, "--role-arn", orgRoleARN(p.account),
		"--output", dir, "--strategy", "per-user", "--format", "csv", "--rate", "UserResourceRead=30", "--log-format", "json")
	if r.code != 0 {
		t.Fatalf("exit %d:\n%s", r.code, r.stderr)
	}
	// 200+ AdminListGroupsForUser calls at 30/s take 6.7 s at least: the
	// credentials had to be renewed on the way.
	if n := len(org.Sessions()); n < 3 {
		t.Fatalf("%d sessions issued; the credentials were not renewed", n)
	}
	if n := org.Expired(); n != 0 {
		t.Fatalf("%d calls went out with expired credentials", n)
	}
	sum := readSummary(t, filepath.Join(dir, "summary.json"))
	if sum.Status != "complete" || sum.Retries != 0 {
		t.Fatalf("summary: %+v", sum)
	}
	truth := exportcheck.WriteTruth(t, cognitoemu.NewPool(p.spec), org.Server(p.account, p.region), true)
	exportcheck.Compare(t, "read_csv("+duckdb.Quote(filepath.Join(dir, "part-*.csv"))+", header=true, all_varchar=true, types={'group_precedence':'INTEGER'})", truth)
}

// A pool that discovery finds and a pools: entry also names is exported
// once, with its entry's settings; a dry run of the same config lists
// every pool it would export and writes no file.
func TestNamedPoolAmongDiscoveredOnesAndDryRun(t *testing.T) {
	_, url, pools := newTestOrg(t, "", 40, 0)
	dir := t.TempDir()
	named := pools[0]
	cfg := orgConfig(t, dir, "parquet")
	extra, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	yaml := string(extra) + fmt.Sprintf("pools:\n  - {user-pool-id: %s, region: %s, role-arn: %q, format: csv}\n",
		named.spec.ID, named.region, orgRoleARN(named.account))
	cfg = writeConfig(t, yaml)

	dry := runCLI(t, orgEnv(url), "export", "--config", cfg, "--dry-run")
	if dry.code != 0 {
		t.Fatalf("dry run: exit %d: %s", dry.code, dry.stderr)
	}
	for _, p := range pools {
		if !strings.Contains(dry.stdout+dry.stderr, p.spec.ID) {
			t.Fatalf("the dry run does not name %s:\n%s", p.spec.ID, dry.stdout)
		}
	}
	// It proves each output writable (creating its directory) and
	// leaves no file.
	filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			t.Errorf("a dry run wrote %s", path)
		}
		return nil
	})

	r := runCLI(t, orgEnv(url), "export", "--config", cfg, "--run-id", "named")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	idx := readIndex(t, filepath.Join(dir, "index.json"))
	seen := 0
	for _, e := range idx.Pools {
		if e.UserPoolID != named.spec.ID {
			continue
		}
		seen++
		csv, _ := filepath.Glob(filepath.Join(e.Output, "part-*.csv"))
		if e.Status != batch.StatusComplete || len(csv) == 0 {
			t.Fatalf("the named pool was not exported as its entry says: %+v, %v", e, csv)
		}
	}
	if seen != 1 || idx.Totals.Complete != len(pools) {
		t.Fatalf("the named pool is in the index %d times; %d of %d pools complete", seen, idx.Totals.Complete, len(pools))
	}
}
