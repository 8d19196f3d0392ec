package main

import (
	"fmt"
	"io"
)

// The targets of issue 9, on a 2-core machine.
const (
	targetUsersPerSecond = 50_000
	targetRSS            = 200e6
	targetRSSGrowth      = 1.5
	targetQuotaShare     = 0.95
	targetThrottled      = 0.01
	// Issue 14: every attribute as a column costs at most 15% of users/s.
	targetAttributesSlowdown = 0.15
)

// targets checks the measured figures against the targets.
type targets struct {
	runs  []*e2eRun
	quota []quotaResult
	org   []orgResult
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "**missed**"
}

func (t targets) parquet(users int) *e2eRun {
	for _, r := range t.runs {
		if r.users == users && r.format == "parquet" && !r.loopback && r.strategy == "" && r.attributes == "" {
			return r
		}
	}
	return nil
}

func (t targets) print(w io.Writer) {
	var rows []string
	row := func(format string, args ...any) { rows = append(rows, fmt.Sprintf(format, args...)) }
	if big, mid := t.parquet(1_000_000), t.parquet(100_000); big != nil {
		ups := float64(big.users) / big.elapsed.Seconds()
		row("| at least %s users/s, 1,000,000 users, Parquet, in process | %s users/s | %s |\n",
			thousands(targetUsersPerSecond), thousands(int64(ups)), verdict(ups >= targetUsersPerSecond))
		row("| peak RSS under %.0f MB at 1,000,000 users | %.0f MB | %s |\n",
			targetRSS/1e6, float64(big.maxRSS)/1e6, verdict(float64(big.maxRSS) < targetRSS))
		if mid != nil {
			g := float64(big.maxRSS) / float64(mid.maxRSS)
			row("| RSS at 1,000,000 users at most %.1fx RSS at 100,000 | %.2fx | %s |\n",
				targetRSSGrowth, g, verdict(g <= targetRSSGrowth))
		}
	}
	for _, r := range t.runs {
		base := t.parquet(r.users)
		if r.attributes != "all" || base == nil {
			continue
		}
		ups, baseUps := float64(r.users)/r.elapsed.Seconds(), float64(base.users)/base.elapsed.Seconds()
		row("| --attributes all at %s users: users/s within %.0f%% of the run without | %s users/s, %+.1f%% | %s |\n",
			thousands(int64(r.users)), 100*targetAttributesSlowdown, thousands(int64(ups)), 100*(ups/baseUps-1), verdict(ups >= (1-targetAttributesSlowdown)*baseUps))
		if r.users == 1_000_000 {
			row("| --attributes all: peak RSS under %.0f MB at 1,000,000 users | %.0f MB | %s |\n",
				targetRSS/1e6, float64(r.maxRSS)/1e6, verdict(float64(r.maxRSS) < targetRSS))
		}
	}
	for _, q := range t.quota {
		row("| at least %.0f%% of the quota, at most %.0f%% throttled: %s (%s) | %.1f%%, %.2f%% throttled | %s |\n",
			100*targetQuotaShare, 100*targetThrottled, q.scenario, q.op, 100*q.share, 100*q.throttled,
			verdict(q.share >= targetQuotaShare && q.throttled <= targetThrottled))
	}
	if len(t.org) > 0 {
		least, worst := 1.0, 0.0
		for _, r := range t.org {
			least = min(least, r.rate/r.quota)
			worst = max(worst, float64(r.thrott)/max(1, float64(r.calls)))
		}
		row("| every (account, region) of 3 accounts x 2 regions at least %.0f%% of its own quota at the same time, at most %.0f%% throttled | lowest %.1f%%, at most %.2f%% throttled | %s |\n",
			100*targetOrgShare, 100*targetThrottled, 100*least, 100*worst, verdict(least >= targetOrgShare && worst <= targetThrottled))
	}
	if len(rows) == 0 {
		return
	}
	fmt.Fprintln(w, "### Targets")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| target | measured | |")
	fmt.Fprintln(w, "|---|---:|---|")
	for _, r := range rows {
		fmt.Fprint(w, r)
	}
	fmt.Fprintln(w)
}
