package main

import (
	"context"

	"github.com/cognito-export/cognito-export/report"
)

// compare is the seam between the report and the diff (issue 15): it finds
// the previous export (a location, or latest), verifies it, diffs it with
// cur and hands the report the diff's summary as a report.Comparison.
// Until the diff package is on this branch there is nothing to compare
// with, and saying so is better than a report that silently lacks it.
func compare(_ context.Context, _ report.Side, f reportFlags) (*report.Comparison, error) {
	return nil, usageError{"report: --previous " + f.previous + ": comparing with a previous export needs the diff, which this build does not have yet"}
}
