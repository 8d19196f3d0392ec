package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"time"
)

// leaseRounds is how many exports with and without the lease are timed, in
// turn, so that a change in the machine's load falls on both alike.
const leaseRounds = 3

// leaseCost times the export of the largest pool with the output's lease
// (the default: one conditional write at the start, one per renewal every
// 40 s, one delete at the end) and without it (--lease=off), and prints
// the medians and their difference: issue 21 asks for the lease's cost to
// stay within 2%.
func leaseCost(ctx context.Context, w io.Writer, bin string, users int) error {
	var on, off []time.Duration
	for range leaseRounds {
		for _, leaseOff := range []bool{false, true} {
			r := &e2eRun{users: users, format: "parquet", leaseOff: leaseOff}
			if err := r.exec(ctx, bin); err != nil {
				return err
			}
			if leaseOff {
				off = append(off, r.elapsed)
			} else {
				on = append(on, r.elapsed)
			}
		}
	}
	mOn, mOff := medianOf(on), medianOf(off)
	fmt.Fprintf(w, "### The output's lease: %s users, per-user, Parquet, local disk\n\n", thousands(int64(users)))
	fmt.Fprintf(w, "The same `demo --direct` export with `--lease on` (the default) and `--lease=off`, %d runs each in turn; medians.\n\n", leaseRounds)
	fmt.Fprintln(w, "| lease | time (median) | runs | difference |")
	fmt.Fprintln(w, "|---|---:|---|---:|")
	fmt.Fprintf(w, "| off | %.2f s | %s | |\n", mOff.Seconds(), seconds(off))
	fmt.Fprintf(w, "| on | %.2f s | %s | %+.1f%% |\n\n", mOn.Seconds(), seconds(on), (mOn.Seconds()/mOff.Seconds()-1)*100)
	return nil
}

func medianOf(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func seconds(ds []time.Duration) string {
	out := ""
	for i, d := range ds {
		if i > 0 {
			out += ", "
		}
		out += fmt.Sprintf("%.2f", d.Seconds())
	}
	return out
}
