package batch

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cognito-export/cognito-export/export"
)

// PrintDryRun prints what a run of one pool would cost, from the report
// of its dry run: what was checked and allowed, then each strategy's calls
// and time.
func PrintDryRun(w io.Writer, cfg export.Config, rep export.DryRunReport) {
	fmt.Fprintf(w, "dry run of pool %s: nothing exported\n", cfg.UserPoolID)
	fmt.Fprintf(w, "  output %s: writable (a probe object was written and deleted)\n", rep.Output)
	if r := cfg.S3.Retention; r.On() {
		fmt.Fprintf(w, "  bucket has Object Lock: every file of the export would be retained (%s)\n", r)
	}
	if cfg.Signer != nil {
		fmt.Fprintf(w, "  signing key %s: read; the manifest would be signed (manifest.json.sig)\n", cfg.Signer.Fingerprint())
	}
	if rep.AlreadyComplete {
		fmt.Fprintf(w, "  output holds a complete export: a run without --fresh would do nothing\n")
	}
	if h := rep.Lease; h != nil {
		fmt.Fprintf(w, "  output is being written by run %s (host %s, pid %d) since %s; its lease expires at %s: a run now would exit 1\n",
			strconv.Quote(h.RunID), strconv.Quote(h.Host), h.PID, h.Started.UTC().Format(time.RFC3339), h.Expires.UTC().Format(time.RFC3339))
	}
	for _, op := range rep.Operations {
		fmt.Fprintf(w, "  cognito-idp:%s: allowed\n", op)
	}
	for _, op := range rep.Denied {
		fmt.Fprintf(w, "  cognito-idp:%s: denied: auto would export per-user, without an estimate (grant it for auto, or pass --strategy per-user)\n", op)
	}
	if len(rep.Denied) > 0 {
		return
	}
	printEstimate(w, rep.Estimate)
}

// printEstimate prints the pool's size and each strategy's cost.
func printEstimate(w io.Writer, est export.Estimate) {
	fmt.Fprintf(w, "  estimated users: %d\n", est.Users)
	for _, name := range slices.Sorted(maps.Keys(est.Strategies)) {
		cost := est.Strategies[name]
		var parts []string
		for _, op := range slices.Sorted(maps.Keys(cost.Calls)) {
			parts = append(parts, fmt.Sprintf("%s %d", op, cost.Calls[op]))
		}
		took := "no rate limit set"
		if cost.Seconds > 0 {
			took = "about " + time.Duration(cost.Seconds*float64(time.Second)).Round(time.Second).String() + " at the configured rates"
		}
		chosen := ""
		if name == est.Chosen {
			chosen = " (the run would use this)"
		}
		fmt.Fprintf(w, "  strategy %s%s: %d calls (%s), %s\n", name, chosen, cost.TotalCalls(), strings.Join(parts, ", "), took)
	}
}
