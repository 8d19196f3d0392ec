package report

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/cognito-export/cognito-export/decisions"
	"github.com/cognito-export/cognito-export/rowscan"
)

// Decided are the decisions of the previous review, to be checked against
// this export: were the revocations carried out, and was every privileged
// membership of the previous export decided?
type Decided struct {
	// File names the decisions file in the report.
	File string
	Rows []decisions.Decision
	// Old is the previous export, whose privileged memberships needed a
	// decision; nil without one (PRIVILEGED_NOT_REVIEWED is then not
	// evaluated).
	Old *Side
}

// DecisionSummary is the section "Decisions of the previous review" and
// report.json's decisions.
type DecisionSummary struct {
	File string `json:"file"`
	// Reviewed is the SHA-256 of the manifest the decisions were made on
	// (the first row's), and OtherExport says it is not the previous
	// export's, so rows were matched by (username, user_sub, group) alone.
	Reviewed    string   `json:"reviewed_manifest_sha256"`
	OtherExport bool     `json:"made_on_another_export"`
	Reviewers   []string `json:"reviewers"`
	Decisions   int64    `json:"decisions"`
	Kept        int64    `json:"kept"`
	// Revoked are the revoke decisions: carried out (not a member in this
	// export), still present (REVOKE_NOT_APPLIED), and a member again
	// (REVOKED_MEMBER_READDED).
	Revoked         int64 `json:"revoked"`
	RevokedDone     int64 `json:"revoked_carried_out"`
	RevokedPresent  int64 `json:"revoked_still_present"`
	RevokedReadded  int64 `json:"revoked_readded"`
	UnreviewedKnown bool  `json:"unreviewed_evaluated"`
	// Unreviewed are the privileged memberships of the previous export
	// without a decision (PRIVILEGED_NOT_REVIEWED).
	Unreviewed int64 `json:"unreviewed"`
}

// decisionCheck is what the scans of this export and the previous one
// learn of the decisions.
type decisionCheck struct {
	d     *Decided
	byKey map[decisions.Key]int // index into d.Rows
	// revokedBy maps username and group of each revoke to its rows: a
	// member under the same username with another sub was re-created.
	revokedBy map[string][]int
	inNew     []bool // the membership itself is in this export
	otherSub  []FindingRow
	newRow    []FindingRow // the row of this export that holds it
	inOld     []bool
	buf       []byte

	notApplied, readded, unreviewed rowsOf
	summary                         DecisionSummary
}

func newDecisionCheck(d *Decided) *decisionCheck {
	c := &decisionCheck{d: d, byKey: make(map[decisions.Key]int, len(d.Rows)), revokedBy: map[string][]int{},
		inNew: make([]bool, len(d.Rows)), inOld: make([]bool, len(d.Rows)), otherSub: make([]FindingRow, len(d.Rows)),
		newRow: make([]FindingRow, len(d.Rows))}
	reviewers := map[string]bool{}
	for i, r := range d.Rows {
		c.byKey[r.Key()] = i
		if r.Verdict == decisions.Revoke {
			k := r.Username + "\x00" + r.Group
			c.revokedBy[k] = append(c.revokedBy[k], i)
		}
		reviewers[r.Reviewer] = true
	}
	c.summary.File = d.File
	c.summary.Reviewers = []string{}
	for r := range reviewers {
		c.summary.Reviewers = append(c.summary.Reviewers, r)
	}
	slices.Sort(c.summary.Reviewers)
	if len(d.Rows) > 0 {
		c.summary.Reviewed = d.Rows[0].ManifestSHA256
	}
	return c
}

// row takes a membership of this export; fr makes its finding row.
func (c *decisionCheck) row(user, sub, group string, fr func(string) FindingRow) {
	c.buf = append(append(append(c.buf[:0], user...), 0), group...)
	idx, ok := c.revokedBy[string(c.buf)]
	if !ok {
		return
	}
	for _, i := range idx {
		if c.d.Rows[i].Sub == sub {
			c.inNew[i] = true
			c.newRow[i] = fr("")
		} else if c.otherSub[i].Username == "" {
			c.otherSub[i] = fr("")
		}
	}
}

// scanOld reads the previous export's privileged memberships: each needed
// a decision, and a revoked one absent there was gone in between.
func (c *decisionCheck) scanOld(ctx context.Context, opts Options, attrCols []string) error {
	old := c.d.Old
	m := old.Manifest
	roles := map[string]bool{}
	for _, g := range m.Groups {
		roles[g.Name] = deref(g.RoleArn) != ""
	}
	named := map[string]bool{}
	for _, g := range opts.Privileged {
		named[g] = true
	}
	columns := []string{"username", "user_sub", "group_name", "group_role_arn"}
	// The attributes this export shows that the old one has too, so that
	// an unreviewed row names its person as every other row does.
	at := make([]int, len(attrCols))
	for i, col := range attrCols {
		at[i] = -1
		for _, a := range m.Attributes {
			if a.Column == col && a.Treatment != "redacted" {
				at[i] = len(columns)
				columns = append(columns, col)
			}
		}
	}
	err := rowscan.Scan(ctx, old.Source, m, columns, rowscan.Options{TempDir: opts.TempDir}, func(v []rowscan.Value) error {
		group := v[2].S
		if group == "" {
			return nil
		}
		privileged := v[3].S != "" || roles[group] || named[group]
		c.oldRow(v[0].S, v[1].S, group, privileged, opts.MaxFindingRows, func() []string {
			attrs := make([]string, len(at))
			for j, k := range at {
				if k >= 0 {
					attrs[j] = strings.Clone(v[k].S)
				}
			}
			return attrs
		})
		return nil
	})
	if err != nil {
		return fmt.Errorf("read the rows of the previous export %s: %w", old.Location, err)
	}
	return nil
}

// oldRow takes a membership of the previous export: a decided one was
// there; an undecided privileged one is PRIVILEGED_NOT_REVIEWED.
func (c *decisionCheck) oldRow(user, sub, group string, privileged bool, limit int, attrs func() []string) {
	if i, decided := c.byKey[decisions.Key{Username: user, Sub: sub, Group: group}]; decided {
		c.inOld[i] = true
		return
	}
	if privileged {
		c.unreviewed.add(limit, FindingRow{Username: strings.Clone(user), UserSub: strings.Clone(sub), Group: strings.Clone(group),
			Detail: "no decision", Attrs: attrs()})
	}
}

// finish classifies every decision once both exports are read.
func (c *decisionCheck) finish(limit int, oldSHA string) {
	s := &c.summary
	s.Decisions = int64(len(c.d.Rows))
	s.OtherExport = oldSHA != "" && s.Reviewed != oldSHA
	for i, d := range c.d.Rows {
		if d.Verdict == decisions.Keep {
			s.Kept++
			continue
		}
		s.Revoked++
		by := fmt.Sprintf("revoke by %s at %s", d.Reviewer, d.DecidedAt.UTC().Format(time.RFC3339))
		switch {
		// Decided on an earlier export than the previous one, gone from
		// that one, and a member again now.
		case c.inNew[i] && c.d.Old != nil && d.ManifestSHA256 != oldSHA && !c.inOld[i]:
			s.RevokedReadded++
			r := c.newRow[i]
			r.Detail = by + "; gone from the previous export, a member again"
			c.readded.add(limit, r)
		case c.inNew[i]:
			s.RevokedPresent++
			r := c.newRow[i]
			r.Detail = by
			c.notApplied.add(limit, r)
		case c.otherSub[i].Username != "":
			s.RevokedReadded++
			r := c.otherSub[i]
			r.Detail = by + " of sub " + d.Sub + "; re-created under the same username"
			c.readded.add(limit, r)
		default:
			s.RevokedDone++
		}
	}
	if c.d.Old != nil {
		s.UnreviewedKnown = true
		s.Unreviewed = c.unreviewed.n
	}
	for _, r := range []*rowsOf{&c.notApplied, &c.readded, &c.unreviewed} {
		slices.SortFunc(r.rows, func(x, y FindingRow) int {
			return cmp.Or(cmp.Compare(x.Group, y.Group), cmp.Compare(x.Username, y.Username))
		})
	}
}

// Decidable are the rows a reviewer can decide on, as the page lists
// them: the privileged members, then each finding's rows that name a user
// in a group, once each, undecided (decisions-template.csv).
func (r *Report) Decidable() []decisions.Decision {
	var out []decisions.Decision
	seen := map[decisions.Key]bool{}
	add := func(user, sub, group string) {
		k := decisions.Key{Username: user, Sub: sub, Group: group}
		if user == "" || group == "" || seen[k] {
			return
		}
		seen[k] = true
		out = append(out, decisions.Decision{PoolID: r.Export.PoolID, Group: group, Username: user, Sub: sub,
			ManifestSHA256: r.Export.ManifestSHA256})
	}
	for _, m := range r.Privileged.Members {
		add(m.Username, m.UserSub, m.Group)
	}
	for _, f := range r.Findings {
		for _, row := range f.Rows[:min(len(f.Rows), pageFindingRows)] {
			add(row.Username, row.UserSub, row.Group)
		}
	}
	return out
}
