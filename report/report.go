// Package report turns one export (and, when given, its comparison with a
// previous export) into an access review: findings with their rows, the
// groups, the members of privileged groups and charts, as one
// self-contained HTML page and as report.json for a pipeline to gate on.
//
// It reads the export's rows once, streaming, and keeps per-group counters,
// one small counter per user and the rows that findings and the privileged
// members section show (each capped), never the rows themselves: memory
// grows with the users, by a few bytes each, not with the rows.
package report

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cognito-export/cognito-export/internal/buildinfo"
	"github.com/cognito-export/cognito-export/reader"
)

// Version is report.json's format version: it changes when a field changes
// meaning, so a pipeline can tell.
const Version = 1

// Side is an export as the report reads it.
type Side struct {
	Source   reader.Source
	Manifest reader.Manifest
	Location string
	// Signature is what was checked of the manifest's signature.
	Signature reader.Signature
}

// Options are the reviewer's choices.
type Options struct {
	// MaxGroupsPerUser: a user in more groups is a TOO_MANY_GROUPS finding.
	MaxGroupsPerUser int
	// Privileged names groups whose members are listed in full although
	// they grant no role ARN (an app may read the group's name as a grant).
	Privileged []string
	// MaxListed caps the privileged memberships listed in the page and in
	// report.json (the count is always exact); 0 is DefaultMaxListed.
	MaxListed int
	// MaxFindingRows caps the rows kept per finding in report.json (the
	// count is always exact, and Finding.Truncated says rows were left
	// out); the page shows fewer (pageFindingRows). 0 is
	// DefaultMaxFindingRows.
	MaxFindingRows int
	// Previous is the comparison with an earlier export, nil without one.
	Previous *Comparison
	// Decided are the previous review's decisions to check, nil without.
	Decided *Decided
	TempDir string    // for rowscan.Options
	Now     time.Time // when the report is made; zero is time.Now
}

// Defaults of Options. DefaultMaxFindingRows keeps report.json a file a
// pipeline reads at once and a reviewer opens: at 100,000 rows a finding
// it was 27-31 MB for a million-user pool, rows nobody reads in JSON,
// while the export holds them all for a query (the page gives it). A
// gate reads the counts, which are exact whatever the cap.
const (
	DefaultMaxGroupsPerUser = 10
	DefaultMaxListed        = 5000
	DefaultMaxFindingRows   = 10_000
)

// Comparison is what the report needs of a diff between a previous export
// and this one: the seam through which the diff's summary comes in, so
// that this package depends on no diff implementation.
type Comparison struct {
	Old      ExportRef
	ByChange map[string]int64 // counts by change kind (user_added, membership_removed, ...)
	ByGroup  []GroupDelta
	// RoleChanges are the changes of group fields (group_added, group_removed,
	// group_changed with Field role_arn, precedence, description, ...).
	RoleChanges []Change
	// Privileged are the membership_added and membership_removed changes of
	// privileged groups; Truncated says the diff capped them.
	Privileged []Change
	Truncated  bool
}

// GroupDelta is one group's membership changes.
type GroupDelta struct {
	Group              string `json:"group"`
	RoleArn            string `json:"role_arn,omitempty"`
	MembershipsAdded   int64  `json:"memberships_added"`
	MembershipsRemoved int64  `json:"memberships_removed"`
}

// Change is one row of a diff.
type Change struct {
	Change       string `json:"change"`
	Username     string `json:"username,omitempty"`
	UserSub      string `json:"user_sub,omitempty"`
	GroupName    string `json:"group_name,omitempty"`
	GroupRoleArn string `json:"group_role_arn,omitempty"`
	Field        string `json:"field,omitempty"`
	OldValue     string `json:"old_value,omitempty"`
	NewValue     string `json:"new_value,omitempty"`
	// Attributes are the user's identity attributes the diff compared, by
	// column.
	Attributes map[string]string `json:"attributes,omitempty"`
}

// attrs are c's attributes in the order of cols, "" where the diff has none.
func (c Change) attrs(cols []string) []string {
	if len(c.Attributes) == 0 {
		return nil
	}
	out := make([]string, len(cols))
	for i, col := range cols {
		out[i] = c.Attributes[col]
	}
	return out
}

// ExportRef names an export exactly: where it is and the SHA-256 of the
// manifest that vouches for its parts.
type ExportRef struct {
	Location       string `json:"location"`
	PoolID         string `json:"pool_id"`
	PoolName       string `json:"pool_name,omitempty"`
	Region         string `json:"region"`
	ExportedAt     string `json:"exported_at"`
	ManifestSHA256 string `json:"manifest_sha256"`
	Format         string `json:"format"`
	Users          int64  `json:"users"`
	Rows           int64  `json:"rows"`
	// Groups counts the groups the manifest lists, or those with members
	// when it lists none.
	Groups int `json:"groups"`
	// Memberships is -1 when unknown (a previous export, which the report
	// does not read, only compares).
	Memberships int64 `json:"memberships"`
	// Signature says who signed the export and whether that was checked;
	// nil for a previous export, whose signature the report does not read.
	Signature *SignatureRef `json:"signature,omitempty"`
}

// SignatureRef is the header's word on the manifest's signature. A
// signature that is there always signs the manifest the report read: one
// that does not stops the report.
type SignatureRef struct {
	Signed bool `json:"signed"`
	// KeyFingerprint is the signer's key, SHA256:... as ssh-keygen -l
	// prints it.
	KeyFingerprint string `json:"key_fingerprint,omitempty"`
	// Checked: the signer was checked against AllowedSigners and allowed,
	// as the principals Principals.
	Checked        bool     `json:"checked"`
	AllowedSigners string   `json:"allowed_signers,omitempty"`
	Principals     []string `json:"principals,omitempty"`
}

// Report is everything the page shows; report.json is its JSON.
type Report struct {
	Version     int        `json:"report_version"`
	Generator   string     `json:"generator"`
	GeneratedAt string     `json:"generated_at"`
	Export      ExportRef  `json:"export"`
	Previous    *ExportRef `json:"previous,omitempty"`
	Settings    Settings   `json:"settings"`
	Findings    []Finding  `json:"findings"`
	Groups      []Group    `json:"groups"`
	// Statuses are users by status, most first.
	Statuses   []Count    `json:"users_by_status"`
	Privileged Privileged `json:"privileged"`
	Changes    *Changes   `json:"changes,omitempty"`
	// Decisions is the check of the previous review's decisions, nil
	// without a decisions file.
	Decisions *DecisionSummary `json:"decisions,omitempty"`
	// Attributes are the identity attribute columns of the export, in the
	// order of Member.Attrs.
	Attributes []string `json:"attribute_columns"`
}

// Settings are the options the numbers depend on.
type Settings struct {
	MaxGroupsPerUser int      `json:"max_groups_per_user"`
	PrivilegedGroups []string `json:"privileged_groups"`
	MaxListed        int      `json:"max_listed"`
	MaxFindingRows   int      `json:"max_finding_rows"`
}

// Count is a number of something named.
type Count struct {
	Name  string `json:"name"`
	Count int64  `json:"count"`
}

// Group is one row of the groups table.
type Group struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	RoleArn     string `json:"role_arn,omitempty"`
	Precedence  *int32 `json:"precedence,omitempty"`
	Members     int64  `json:"members"`
	// Privileged: a role ARN, or named by Options.Privileged.
	Privileged bool `json:"privileged"`
	// Added and Removed are nil without a previous export.
	Added   *int64 `json:"memberships_added,omitempty"`
	Removed *int64 `json:"memberships_removed,omitempty"`
}

// Privileged is the privileged members section: every membership of a
// privileged group, up to Settings.MaxListed.
type Privileged struct {
	Groups    []string `json:"groups"`
	Total     int64    `json:"memberships"`
	Users     int64    `json:"users"`
	Members   []Member `json:"members"`
	Truncated bool     `json:"truncated"`
}

// Member is one membership of a privileged group.
type Member struct {
	Group    string   `json:"group"`
	Username string   `json:"username"`
	UserSub  string   `json:"user_sub"`
	Status   string   `json:"status"`
	Enabled  bool     `json:"enabled"`
	Created  string   `json:"created"`
	Modified string   `json:"last_modified"`
	Attrs    []string `json:"attributes"`
}

// Changes is the section on what changed since the previous export.
type Changes struct {
	ByChange    []Count  `json:"by_change"`
	RoleChanges []Change `json:"role_changes"`
	Privileged  []Change `json:"privileged"`
	Truncated   bool     `json:"privileged_truncated"`
}

// Build reads the export of cur and makes its report. The export must have
// been verified: Build trusts what the manifest says of it.
func Build(ctx context.Context, cur Side, opts Options) (*Report, error) {
	opts = withDefaults(opts)
	acc, err := scan(ctx, cur, opts)
	if err != nil {
		return nil, err
	}
	r := &Report{
		Version:     Version,
		GeneratedAt: opts.Now.UTC().Format(time.RFC3339), Generator: buildinfo.Generator(),
		Settings: Settings{MaxGroupsPerUser: opts.MaxGroupsPerUser, PrivilegedGroups: nonNil(opts.Privileged), MaxListed: opts.MaxListed,
			MaxFindingRows: opts.MaxFindingRows},
		Attributes: acc.attrCols,
	}
	r.Export = acc.ref(cur)
	r.Groups = acc.groupRows(opts.Previous)
	r.Statuses = acc.statuses()
	r.Privileged = acc.privileged()
	if acc.dc != nil {
		oldSHA := ""
		if o := opts.Decided.Old; o != nil {
			if err := acc.dc.scanOld(ctx, opts, acc.attrCols); err != nil {
				return nil, err
			}
			oldSHA = o.Manifest.SHA256
		}
		acc.dc.finish(opts.MaxFindingRows, oldSHA)
		sum := acc.dc.summary
		r.Decisions = &sum
	}
	r.Findings = findings(acc, opts)
	if p := opts.Previous; p != nil {
		old := p.Old
		r.Previous = &old
		r.Changes = changes(p)
	}
	return r, nil
}

func withDefaults(o Options) Options {
	if o.MaxGroupsPerUser <= 0 {
		o.MaxGroupsPerUser = DefaultMaxGroupsPerUser
	}
	if o.MaxListed <= 0 {
		o.MaxListed = DefaultMaxListed
	}
	if o.MaxFindingRows <= 0 {
		o.MaxFindingRows = DefaultMaxFindingRows
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	return o
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// Region is the AWS region of a pool, which Cognito puts before the "_" of
// every pool id.
func Region(poolID string) string {
	region, _, ok := strings.Cut(poolID, "_")
	if !ok {
		return ""
	}
	return region
}

// Present says which of the findings named in ids are present in r: the
// ones that --fail-on fails the run for. An id that is no finding's is an
// error, so a typo cannot turn a gate off.
func (r *Report) Present(ids []string) ([]string, error) {
	var present []string
	for _, id := range ids {
		f, ok := r.finding(id)
		if !ok {
			return nil, fmt.Errorf("unknown finding %q: want one of %s", id, strings.Join(FindingIDs(), ", "))
		}
		if f.Count > 0 {
			present = append(present, id)
		}
	}
	return present, nil
}

func (r *Report) finding(id string) (Finding, bool) {
	for _, f := range r.Findings {
		if f.ID == id {
			return f, true
		}
	}
	return Finding{}, false
}

// ErrUnknownFinding is in the chain of CheckIDs' error.
var ErrUnknownFinding = errors.New("unknown finding")

// CheckIDs checks finding ids before any work is done.
func CheckIDs(ids []string) error {
	known := FindingIDs()
	for _, id := range ids {
		ok := false
		for _, k := range known {
			ok = ok || k == id
		}
		if !ok {
			return fmt.Errorf("%w %q: want one of %s", ErrUnknownFinding, id, strings.Join(known, ", "))
		}
	}
	return nil
}
