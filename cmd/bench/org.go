package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/cognito-export/cognito-export/internal/cognitoemu"
)

// The organisation scenario (issue 17): three accounts, two regions each,
// two pools per (account, region), exported by the real binary from an
// audit account with --config accounts: and every pool at once. The
// emulator enforces each (account, region)'s quotas on its own, as Cognito
// does; each pair must reach its own quota at the same time as the others.

const targetOrgShare = 0.90

var (
	orgBenchAccounts = []string{"022222222222", "033333333333", "044444444444"}
	orgBenchRegions  = []string{"eu-west-1", "us-east-1"}
)

const orgBenchAudit = "011111111111"

// orgResult is one (account, region) of the run.
type orgResult struct {
	account, region string
	quota, rate     float64 // AdminListGroupsForUser: the pair's quota, accepted calls/s over the window
	calls, thrott   int64   // every operation, the whole run
}

func orgQuota(ctx context.Context, w io.Writer, bin string, scale float64) ([]orgResult, error) {
	quotas := cognitoemu.DefaultQuotas(scale)
	quota := quotas["UserResourceRead"]
	spec := cognitoemu.OrgSpec{Accounts: []cognitoemu.AccountSpec{{ID: orgBenchAudit}}}
	usersPerPool := int(quota * quotaRun.Seconds() / 2)
	for a, account := range orgBenchAccounts {
		as := cognitoemu.AccountSpec{ID: account, Regions: map[string][]cognitoemu.PoolSpec{},
			Options: cognitoemu.Options{CategoryQuotas: quotas, QuotaBurst: int(quota * 0.1)},
			Roles:   []cognitoemu.RoleSpec{{Name: "cognito-export-reader", TrustedAccounts: []string{orgBenchAudit}}}}
		for r, region := range orgBenchRegions {
			for k := range 2 {
				as.Regions[region] = append(as.Regions[region], cognitoemu.PoolSpec{
					ID: fmt.Sprintf("%s_Bench%d%d%d", region, a, r, k), Users: usersPerPool, Groups: 80, Seed: int64(a*10 + r*2 + k)})
			}
		}
		spec.Accounts = append(spec.Accounts, as)
	}
	org, err := cognitoemu.NewOrg(spec)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	hs := &http.Server{Handler: org, ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(ln)
	defer hs.Close()
	url := "http://" + ln.Addr().String()

	dir, err := os.MkdirTemp("", "cognito-export-org-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	var cfg strings.Builder
	fmt.Fprintf(&cfg, "output: %s/account={account}/region={region}/pool={pool}/\nstrategy: per-user\nlog-format: json\n", dir)
	fmt.Fprintf(&cfg, "parallel-pools: %d\nrate: {", len(orgBenchAccounts)*len(orgBenchRegions)*2)
	sep := ""
	for c, q := range quotas {
		fmt.Fprintf(&cfg, "%s%s: %g", sep, c, q)
		sep = ", "
	}
	cfg.WriteString("}\naccounts:\n")
	for _, a := range orgBenchAccounts {
		fmt.Fprintf(&cfg, "  - {role-arn: \"arn:aws:iam::%s:role/cognito-export-reader\", regions: [%s]}\n", a, strings.Join(orgBenchRegions, ", "))
	}
	file := filepath.Join(dir, "org.yaml")
	if err := os.WriteFile(file, []byte(cfg.String()), 0o644); err != nil {
		return nil, err
	}

	type pair struct{ account, region string }
	var pairs []pair
	for _, a := range orgBenchAccounts {
		for _, r := range orgBenchRegions {
			pairs = append(pairs, pair{a, r})
		}
	}
	accepted := func() []int64 {
		out := make([]int64, len(pairs))
		for i, p := range pairs {
			s := org.Server(p.account, p.region)
			out[i] = s.Calls("AdminListGroupsForUser") - s.Throttled("AdminListGroupsForUser")
		}
		return out
	}
	windowDone := make(chan []float64, 1)
	go func() {
		time.Sleep(windowStart)
		a, t0 := accepted(), time.Now()
		time.Sleep(window)
		b, secs := accepted(), time.Since(t0).Seconds()
		r := make([]float64, len(pairs))
		for i := range pairs {
			r[i] = float64(b[i]-a[i]) / secs
		}
		windowDone <- r
	}()

	id, secret := cognitoemu.AccountKeys(orgBenchAudit)
	cmd := exec.CommandContext(ctx, bin, "export", "--config", file)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_REGION=eu-west-1",
		"AWS_ACCESS_KEY_ID=" + id, "AWS_SECRET_ACCESS_KEY=" + secret,
		"AWS_ENDPOINT_URL_STS=" + url, "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER=" + url}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%v: %s", err, lastLines(stderr.String(), 3))
	}
	if took := time.Since(start); took < windowStart+window {
		return nil, errors.New("the export ended before the measuring window did: the quotas did not bound it")
	}
	rates := <-windowDone

	fmt.Fprintf(w, "### Quota per (account, region): three accounts x two regions, Cognito's default quotas x%g\n\n", scale)
	fmt.Fprintln(w, "The real binary exports every pool of three accounts in two regions (two pools each, all twelve at once,")
	fmt.Fprintln(w, "`--config` with `accounts:`, roles assumed through the emulator's STS); each (account, region) of the emulator")
	fmt.Fprintln(w, "enforces its own quotas (burst 100 ms) and answers TooManyRequestsException above them. Achieved is the rate of")
	fmt.Fprintf(w, "accepted AdminListGroupsForUser calls (the binding quota) of each pair over the same %s window, after %s.\n\n", window, windowStart)
	fmt.Fprintln(w, "| account | region | quota | achieved | share of quota | throttled (all calls of the pair) |")
	fmt.Fprintln(w, "|---|---|---:|---:|---:|---:|")
	var out []orgResult
	for i, p := range pairs {
		s := org.Server(p.account, p.region)
		res := orgResult{account: p.account, region: p.region, quota: quota, rate: rates[i]}
		for _, op := range []string{"ListUserPools", "ListUsers", "AdminListGroupsForUser"} {
			res.calls += s.Calls(op)
			res.thrott += s.Throttled(op)
		}
		out = append(out, res)
		fmt.Fprintf(w, "| %s | %s | %.0f/s | %.1f/s | %.1f%% | %.2f%% (%d of %d) |\n", p.account, p.region, quota, res.rate,
			100*res.rate/quota, 100*float64(res.thrott)/max(1, float64(res.calls)), res.thrott, res.calls)
	}
	fmt.Fprintln(w)
	return out, nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
