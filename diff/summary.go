package diff

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/cognito-export/cognito-export/reader"
	"github.com/cognito-export/cognito-export/sink"
)

// Summary is what a diff found, as diff-summary.json holds it.
type Summary struct {
	UserPoolID string     `json:"user_pool_id"`
	Old        ExportInfo `json:"old"`
	New        ExportInfo `json:"new"`
	// Changes counts every change row; ByChange by kind (every kind is
	// there, zero included).
	Changes  int64            `json:"changes"`
	ByChange map[string]int64 `json:"by_change"`
	// ByGroup counts each group's membership changes; groups with a role
	// ARN first.
	ByGroup []GroupCount `json:"by_group"`
	// RoleChanges are every group row: what a group grants, or whether it
	// exists. They come first in a review.
	RoleChanges []ChangeRow `json:"role_changes"`
	// Privileged are the membership changes of groups with a role ARN (or
	// named privileged), up to MaxPrivileged; Truncated says there are more
	// in the change rows.
	Privileged          []ChangeRow `json:"privileged_membership_changes"`
	PrivilegedTruncated bool        `json:"privileged_truncated"`
	// Attributes are the attribute columns compared; Ignored those left out.
	Attributes         []string `json:"attributes"`
	GroupsWithRoleOnly bool     `json:"groups_with_role_only"`
	Format             string   `json:"format"`
	Parts              int      `json:"parts"`
}

// ExportInfo identifies one side of a diff.
type ExportInfo struct {
	Location       string    `json:"location"`
	UserPoolID     string    `json:"user_pool_id"`
	ExportedAt     time.Time `json:"exported_at"` // its latest row's
	ManifestSHA256 string    `json:"manifest_sha256"`
	Users          int64     `json:"users"`
	Rows           int64     `json:"rows"`
}

// GroupCount is one group's membership changes.
type GroupCount struct {
	Group   string `json:"group"`
	RoleArn string `json:"role_arn,omitempty"`
	Added   int64  `json:"memberships_added"`
	Removed int64  `json:"memberships_removed"`
}

// ChangeRow is a change row as the summary lists it.
type ChangeRow struct {
	Change     string            `json:"change"`
	Username   string            `json:"username,omitempty"`
	UserSub    string            `json:"user_sub,omitempty"`
	Attributes map[string]string `json:"attributes,omitempty"`
	Group      string            `json:"group_name,omitempty"`
	RoleArn    string            `json:"group_role_arn,omitempty"`
	Field      string            `json:"field,omitempty"`
	OldValue   string            `json:"old_value,omitempty"`
	NewValue   string            `json:"new_value,omitempty"`
}

// MaxPrivileged bounds the privileged rows a summary lists.
const MaxPrivileged = 10_000

type summaryState struct {
	Summary
	groups map[string]*GroupCount
}

func newSummary(old, new Side, attrs []string, opts Options) *summaryState {
	s := &summaryState{groups: map[string]*GroupCount{}}
	s.UserPoolID = new.Manifest.Parameters["user_pool_id"]
	s.Old, s.New = exportInfo(old), exportInfo(new)
	s.ByChange = map[string]int64{}
	for _, k := range Kinds {
		s.ByChange[k] = 0
	}
	s.Attributes = append([]string{}, attrs...)
	s.GroupsWithRoleOnly, s.Format = opts.GroupsWithRoleOnly, opts.Format
	s.RoleChanges, s.Privileged = []ChangeRow{}, []ChangeRow{}
	return s
}

func exportInfo(s Side) ExportInfo {
	m := s.Manifest
	return ExportInfo{Location: s.Location, UserPoolID: m.Parameters["user_pool_id"], ManifestSHA256: m.SHA256,
		Users: m.Totals.Users, Rows: m.Totals.Rows}
}

func (s *summaryState) add(c *sink.Change, privileged func(string) bool) {
	s.Changes++
	s.ByChange[c.Change]++
	switch c.Change {
	case GroupAdded, GroupRemoved, GroupChanged:
		s.RoleChanges = append(s.RoleChanges, s.row(c))
	case MembershipAdded, MembershipRemoved:
		g := s.groups[c.GroupName]
		if g == nil {
			g = &GroupCount{Group: c.GroupName, RoleArn: c.GroupRoleArn}
			s.groups[c.GroupName] = g
		}
		if c.Change == MembershipAdded {
			g.Added++
		} else {
			g.Removed++
		}
		if privileged(c.GroupName) {
			if len(s.Privileged) < MaxPrivileged {
				s.Privileged = append(s.Privileged, s.row(c))
			} else {
				s.PrivilegedTruncated = true
			}
		}
	}
}

func (s *summaryState) row(c *sink.Change) ChangeRow {
	r := ChangeRow{Change: c.Change, Username: c.Username, UserSub: c.UserSub, Group: c.GroupName, RoleArn: c.GroupRoleArn,
		Field: c.Field, OldValue: c.OldValue, NewValue: c.NewValue}
	for i, a := range c.Attrs {
		if a.Set && i < len(s.Attributes) {
			if r.Attributes == nil {
				r.Attributes = map[string]string{}
			}
			r.Attributes[s.Attributes[i]] = a.Value
		}
	}
	return r
}

// done orders the per-group counts: groups with a role ARN first.
func (s *summaryState) done() Summary {
	out := s.Summary
	out.ByGroup = []GroupCount{}
	for _, name := range slices.Sorted(maps.Keys(s.groups)) {
		out.ByGroup = append(out.ByGroup, *s.groups[name])
	}
	slices.SortStableFunc(out.ByGroup, func(a, b GroupCount) int {
		return cmp.Compare(btoi(a.RoleArn == ""), btoi(b.RoleArn == ""))
	})
	return out
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// finish writes the summary and then the manifest: the diff is complete
// only once both are there.
func finish(ctx context.Context, out Destination, parts []sink.PartInfo, st *summaryState, old, new Side, attrs []string, opts Options, started time.Time) (Summary, error) {
	st.Parts = len(parts)
	sum := st.done()
	data, err := json.MarshalIndent(sum, "", "  ")
	if err != nil {
		return sum, fmt.Errorf("encode %s: %w", SummaryName, err)
	}
	if err := out.Put(ctx, SummaryName, append(data, '\n')); err != nil {
		return sum, fmt.Errorf("write %s: %w", SummaryName, err)
	}
	m := sink.Manifest{
		Format: opts.Format, Columns: sink.ChangeColumnsWith(attrs), Parts: parts,
		Totals: sink.Totals{Rows: sum.Changes, Parts: len(parts)},
		Parameters: map[string]string{
			"table": sink.ChangesTable, "user_pool_id": sum.UserPoolID, "format": opts.Format,
			"old": old.Location, "new": new.Location,
			"old_manifest_sha256": old.Manifest.SHA256, "new_manifest_sha256": new.Manifest.SHA256,
			"groups_with_role_only": strconv.FormatBool(opts.GroupsWithRoleOnly), "csv_raw": strconv.FormatBool(opts.CSVRaw),
		},
		StartedAt: started, FinishedAt: opts.Now().UTC(),
	}
	for _, p := range parts {
		m.Totals.Bytes += p.Bytes
	}
	if m.Parts == nil {
		m.Parts = []sink.PartInfo{}
	}
	for _, c := range attrs {
		m.Attributes = append(m.Attributes, sink.ManifestAttribute{Attribute: c, Column: c, Type: string(sink.AttrString)})
	}
	return sum, sink.WriteSignedManifest(ctx, out, reader.ManifestName, m, opts.Signer)
}
