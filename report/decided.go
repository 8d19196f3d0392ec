package report

import (
	"cmp"
	"context"
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"slices"
	"strings"
	"time"

	"github.com/cognito-export/cognito-export/decisions"
	"github.com/cognito-export/cognito-export/rowscan"
)

// Decided are the decisions of the previous review, to be checked against
// this export: were the revocations carried out, and was every privileged
// membership of the previous export decided? A review may hold many
// decisions (every membership of a pool, for one that reviews them all), and
// the report holds them through its whole run, so they are kept compactly:
// a kept membership is a 128-bit keyed hash of (username, sub, group) and
// nothing more; a revoked one is kept whole, as its finding row names who
// decided it and when.
type Decided struct {
	// File names the decisions file in the report.
	File string
	// Old is the previous export, whose privileged memberships needed a
	// decision; nil without one (PRIVILEGED_NOT_REVIEWED is then not
	// evaluated).
	Old *Side

	seeds [2]maphash.Seed
	// decided maps the first half of every decided membership's hash to
	// its second; clash holds the few whose first half another one has.
	decided   map[uint64]uint64
	clash     map[memberHash]bool
	revokes   []decisions.Decision
	n, kept   int64
	reviewers map[string]bool
	reviewed  string            // the first row's manifest SHA-256
	strs      map[string]string // interned: groups, reviewers, manifests
}

func (d *Decided) intern(s string) string {
	if v, ok := d.strs[s]; ok {
		return v
	}
	d.strs[s] = s
	return s
}

// memberHash is a membership's key hashed with two random seeds: two
// memberships share one only if both 64-bit halves collide, which no one
// can arrange without knowing the seeds. A lookup computes the second
// half only when the first is a decided one's.
type memberHash [2]uint64

// Add takes the next decided row of the decisions file: decisions.Scan
// hands them over in file order, each membership once.
func (d *Decided) Add(dec decisions.Decision) {
	if d.decided == nil {
		d.seeds = [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}
		d.decided, d.clash, d.reviewers, d.strs = map[uint64]uint64{}, map[memberHash]bool{}, map[string]bool{}, map[string]string{}
		d.reviewed = dec.ManifestSHA256
	}
	d.n++
	d.reviewers[dec.Reviewer] = true
	if dec.Verdict == decisions.Revoke {
		// What the check and its finding rows use, the repeated strings
		// once each.
		d.revokes = append(d.revokes, decisions.Decision{Group: d.intern(dec.Group), Username: dec.Username, Sub: dec.Sub,
			Verdict: decisions.Revoke, Reviewer: d.intern(dec.Reviewer), DecidedAt: dec.DecidedAt,
			ManifestSHA256: d.intern(dec.ManifestSHA256), Line: dec.Line})
	} else {
		d.kept++
	}
	h := memberHash{d.half(0, dec.Username, dec.Sub, dec.Group), d.half(1, dec.Username, dec.Sub, dec.Group)}
	if second, ok := d.decided[h[0]]; ok && second != h[1] {
		d.clash[h] = true
	} else {
		d.decided[h[0]] = h[1]
	}
}

// has says whether a membership was decided, keep or revoke.
func (d *Decided) has(user, sub, group string) bool {
	if d.n == 0 { // no seeds before the first Add
		return false
	}
	first := d.half(0, user, sub, group)
	second, ok := d.decided[first]
	if !ok {
		return false
	}
	h := memberHash{first, d.half(1, user, sub, group)}
	return second == h[1] || d.clash[h]
}

// half is one half of a membership's memberHash.
func (d *Decided) half(i int, user, sub, group string) uint64 {
	var h maphash.Hash
	h.SetSeed(d.seeds[i])
	// The lengths first, so that no two keys write the same bytes.
	var n [24]byte
	binary.LittleEndian.PutUint64(n[0:], uint64(len(user)))
	binary.LittleEndian.PutUint64(n[8:], uint64(len(sub)))
	binary.LittleEndian.PutUint64(n[16:], uint64(len(group)))
	h.Write(n[:])
	h.WriteString(user)
	h.WriteString(sub)
	h.WriteString(group)
	return h.Sum64()
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
	d *Decided
	// revokedBy maps username and group of each revoke to its revokes: a
	// member under the same username with another sub was re-created.
	revokedBy map[string][]int32
	// Of each revoke, by its index in d.revokes:
	inNew    []bool        // the membership itself is in this export
	newRow   []*FindingRow // the row of this export that holds it
	otherSub []*FindingRow // a member under its username with another sub
	inOld    []bool        // the membership is in the previous export
	buf      []byte

	notApplied, readded, unreviewed rowsOf
	summary                         DecisionSummary
}

func newDecisionCheck(d *Decided) *decisionCheck {
	n := len(d.revokes)
	c := &decisionCheck{d: d, revokedBy: map[string][]int32{}, inNew: make([]bool, n), inOld: make([]bool, n),
		newRow: make([]*FindingRow, n), otherSub: make([]*FindingRow, n)}
	for i, r := range d.revokes {
		k := r.Username + "\x00" + r.Group
		c.revokedBy[k] = append(c.revokedBy[k], int32(i))
	}
	c.summary.File = d.File
	c.summary.Reviewers = []string{}
	for r := range d.reviewers {
		c.summary.Reviewers = append(c.summary.Reviewers, r)
	}
	slices.Sort(c.summary.Reviewers)
	c.summary.Reviewed = d.reviewed
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
		if c.d.revokes[i].Sub == sub {
			c.inNew[i] = true
			r := fr("")
			c.newRow[i] = &r
		} else if c.otherSub[i] == nil {
			r := fr("")
			c.otherSub[i] = &r
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
	c.buf = append(append(append(c.buf[:0], user...), 0), group...)
	for _, i := range c.revokedBy[string(c.buf)] {
		if c.d.revokes[i].Sub == sub {
			c.inOld[i] = true
			return
		}
	}
	// Only a privileged membership needed a decision: the others are not
	// hashed at all.
	if !privileged || c.d.has(user, sub, group) {
		return
	}
	c.unreviewed.n++
	if len(c.unreviewed.rows) < limit { // past it, only counted: nothing to copy
		c.unreviewed.rows = append(c.unreviewed.rows, FindingRow{Username: strings.Clone(user), UserSub: strings.Clone(sub),
			Group: strings.Clone(group), Detail: "no decision", Attrs: attrs()})
	}
}

// finish classifies every decision once both exports are read.
func (c *decisionCheck) finish(limit int, oldSHA string) {
	s := &c.summary
	s.Decisions, s.Kept = c.d.n, c.d.kept
	s.OtherExport = oldSHA != "" && s.Reviewed != oldSHA
	for i, d := range c.d.revokes {
		s.Revoked++
		by := fmt.Sprintf("revoke by %s at %s", d.Reviewer, d.DecidedAt.UTC().Format(time.RFC3339))
		switch {
		// Decided on an earlier export than the previous one, gone from
		// that one, and a member again now.
		case c.inNew[i] && c.d.Old != nil && d.ManifestSHA256 != oldSHA && !c.inOld[i]:
			s.RevokedReadded++
			r := *c.newRow[i]
			r.Detail = by + "; gone from the previous export, a member again"
			c.readded.add(limit, r)
		case c.inNew[i]:
			s.RevokedPresent++
			r := *c.newRow[i]
			r.Detail = by
			c.notApplied.add(limit, r)
		case c.otherSub[i] != nil:
			s.RevokedReadded++
			r := *c.otherSub[i]
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
