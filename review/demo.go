package review

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/cognito-export/cognito-export/decisions"
	"github.com/cognito-export/cognito-export/report"
)

// The demo's stand-in for a reviewer: it decides the rows of the report it
// just wrote, so that the next day's run can show the check of decisions.
// No real review is decided this way.
const (
	DemoReviewer = "Dana Demo (the demo's reviewer)"
	// demoRevokes is how many memberships the demo's reviewer revokes:
	// a few, as a real review finds.
	demoRevokes = 6
)

// demoRevoked are the findings whose memberships the demo's reviewer
// revokes, with the reason written in the comment.
var demoRevoked = map[string]string{
	"DISABLED_WITH_GROUPS":     "disabled user: remove",
	"PRIVILEGED_NOT_CONFIRMED": "never confirmed: remove",
}

// DemoDecisions are what the demo's reviewer decided.
type DemoDecisions struct {
	File                     string
	Kept, Revoked, Undecided int
	UndecidedGroup           string // the group whose rows were not reached
}

// DemoDecide writes decisions.csv beside the report.json in dir, as a
// reviewer going through the page would: of the rows the page offers
// (report.Decidable), the memberships that DISABLED_WITH_GROUPS and
// PRIVILEGED_NOT_CONFIRMED name are revoked, the first few; the rows of
// the privileged group last by name are left undecided (the review was
// not finished); every other row is kept. at is when the reviewer
// started; each row takes a few seconds.
func DemoDecide(dir string, at time.Time) (DemoDecisions, error) {
	res := DemoDecisions{File: filepath.Join(dir, "decisions.csv")}
	page := filepath.Join(dir, "report.json")
	data, err := os.ReadFile(page)
	if err != nil {
		return res, fmt.Errorf("demo: decide on the report: %w", err)
	}
	var r report.Report
	if err := json.Unmarshal(data, &r); err != nil {
		return res, fmt.Errorf("demo: decide on the report: read %s: %w", page, err)
	}
	why := map[decisions.Key]string{}
	for _, f := range r.Findings {
		if reason, ok := demoRevoked[f.ID]; ok {
			for _, row := range f.Rows {
				why[decisions.Key{Username: row.Username, Sub: row.UserSub, Group: row.Group}] = reason
			}
		}
	}
	for _, m := range r.Privileged.Members {
		res.UndecidedGroup = max(res.UndecidedGroup, m.Group)
	}
	var out []decisions.Decision
	for i, d := range r.Decidable() {
		reason, revoke := why[d.Key()]
		switch {
		case revoke && res.Revoked < demoRevokes:
			d.Verdict, d.Comment = decisions.Revoke, reason
			res.Revoked++
		case d.Group == res.UndecidedGroup:
			res.Undecided++
			continue
		default:
			d.Verdict = decisions.Keep
			res.Kept++
		}
		d.Reviewer, d.DecidedAt = DemoReviewer, at.Add(time.Duration(i)*4*time.Second)
		out = append(out, d)
	}
	var buf bytes.Buffer
	if err := decisions.Write(&buf, out); err != nil {
		return res, err
	}
	if err := os.WriteFile(res.File, buf.Bytes(), 0o644); err != nil {
		return res, fmt.Errorf("demo: write the decisions: %w", err)
	}
	return res, nil
}

// DemoCarriedOut are the revocations of the decisions file that the demo's
// administrator carries out before the next day's export: every other
// one, so that the next report shows revocations both carried out and not.
func DemoCarriedOut(file string) ([]decisions.Decision, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("demo: --carry-out: %w", err)
	}
	defer f.Close()
	ds, err := decisions.Read(f)
	if err != nil {
		return nil, fmt.Errorf("demo: --carry-out %s: %w", file, err)
	}
	ds = slices.DeleteFunc(ds, func(d decisions.Decision) bool { return d.Verdict != decisions.Revoke })
	var out []decisions.Decision
	for i := 0; i < len(ds); i += 2 {
		out = append(out, ds[i])
	}
	return out, nil
}
