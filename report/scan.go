package report

import (
	"cmp"
	"context"
	"fmt"
	"hash/maphash"
	"slices"
	"strconv"
	"strings"

	"github.com/cognito-export/cognito-export/reader"
	"github.com/cognito-export/cognito-export/rowscan"
)

// The fixed columns the report reads, in the order of the row it gets.
var scanColumns = []string{
	"username", "user_sub", "user_status", "user_enabled", "user_create_date", "user_last_modified_date",
	"group_name", "group_description", "group_role_arn", "group_precedence", "exported_at",
}

const (
	cUsername = iota
	cSub
	cStatus
	cEnabled
	cCreated
	cModified
	cGroup
	cDescription
	cRoleArn
	cPrecedence
	cExportedAt
	nFixed
)

// userState is all the report keeps per user: a 32-bit word in a map keyed
// by a 64-bit hash of (username, sub), about 20 bytes a user with the
// map's overhead, so a million users cost some 20 MB whatever the
// strategy's row order. The low bits count the user's groups, saturating.
type userState uint32

const (
	groupCountMask   userState = 0xffff
	countedPrivilege userState = 1 << 16 // the user is counted in Privileged.Users
)

// groupAcc is what the scan learns of one group.
type groupAcc struct {
	name        string
	description string
	roleArn     string
	precedence  *int32
	members     int64
	inManifest  bool
	privileged  bool
}

// accumulator is the scan's state: counters, and the few rows kept.
type accumulator struct {
	opts      Options
	seed      maphash.Seed
	users     *userStates
	groups    map[string]*groupAcc
	order     []string // groups in the manifest's order, then as first seen
	statusN   map[string]int64
	rows      int64
	memberN   int64
	exported  string
	attrCols  []string
	verifiedC int // index of email_verified in the row, or -1
	emailC    int // index of email, or -1
	named     map[string]bool

	disabled, unconfirmed, unverified rowsOf
	over                              map[uint64]FindingRow // users past MaxGroupsPerUser

	members          []Member
	dc               *decisionCheck // nil without decisions to check
	privilegedTotal  int64
	privilegedUsers  int64
	privilegedCapped bool
}

// rowsOf are a finding's rows, capped, with the exact count.
type rowsOf struct {
	n    int64
	rows []FindingRow
}

func (r *rowsOf) add(limit int, row FindingRow) {
	r.n++
	if len(r.rows) < limit {
		r.rows = append(r.rows, row)
	}
}

// notConfirmed are the statuses of a user who cannot, or should not, use
// what a role ARN grants: the list, which leaves out
// EXTERNAL_PROVIDER (federated users are confirmed by their provider).
var notConfirmed = map[string]bool{
	"UNCONFIRMED": true, "RESET_REQUIRED": true, "FORCE_CHANGE_PASSWORD": true, "COMPROMISED": true, "UNKNOWN": true,
}

func scan(ctx context.Context, side Side, opts Options) (*accumulator, error) {
	m := side.Manifest
	a, columns := newAccumulator(m, opts)
	err := rowscan.Scan(ctx, side.Source, m, columns, rowscan.Options{TempDir: opts.TempDir}, a.row)
	if err != nil {
		return nil, fmt.Errorf("read the rows of %s: %w", side.Location, err)
	}
	if a.exported == "" {
		a.exported = rowscan.TimeText(m.StartedAt)
	}
	return a, nil
}

// newAccumulator is the scan's state before the first row: the groups the
// manifest lists, and the columns to read, the fixed ones then the
// attributes that hold a value.
func newAccumulator(m reader.Manifest, opts Options) (*accumulator, []string) {
	a := &accumulator{
		opts: opts, seed: maphash.MakeSeed(), users: newUserStates(min(m.Totals.Users, 1<<24)),
		groups: map[string]*groupAcc{}, statusN: map[string]int64{}, over: map[uint64]FindingRow{},
		verifiedC: -1, emailC: -1, named: map[string]bool{},
	}
	for _, g := range opts.Privileged {
		a.named[g] = true
	}
	if opts.Decided != nil {
		a.dc = newDecisionCheck(opts.Decided)
	}
	for _, g := range m.Groups {
		ga := a.group(g.Name)
		ga.inManifest = true
		ga.description, ga.roleArn, ga.precedence = deref(g.Description), deref(g.RoleArn), g.Precedence
		ga.privileged = ga.roleArn != "" || a.named[g.Name]
	}
	columns := slices.Clone(scanColumns)
	for _, at := range m.Attributes {
		if at.Treatment == "redacted" {
			continue // always NULL: nothing to show
		}
		switch at.Attribute {
		case "email_verified":
			a.verifiedC = len(columns)
		case "email":
			a.emailC = len(columns)
		}
		a.attrCols = append(a.attrCols, at.Column)
		columns = append(columns, at.Column)
	}
	if a.attrCols == nil {
		a.attrCols = []string{}
	}
	return a, columns
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func (a *accumulator) group(name string) *groupAcc {
	g, ok := a.groups[name]
	if !ok {
		g = &groupAcc{name: name}
		a.groups[name] = g
		a.order = append(a.order, name)
	}
	return g
}

// row takes one row of the export. The strings it keeps are cloned: a
// Parquet value is a view into its whole decoded page, and one kept
// username would keep the page alive.
func (a *accumulator) row(v []rowscan.Value) error {
	a.rows++
	if a.exported == "" {
		a.exported = strings.Clone(v[cExportedAt].S)
	}
	key := maphash.String(a.seed, v[cUsername].S+"\x00"+v[cSub].S)
	st, seen := a.users.Get(key)
	if !seen {
		if _, ok := a.statusN[v[cStatus].S]; !ok {
			a.statusN[strings.Clone(v[cStatus].S)] = 0
		}
		a.statusN[v[cStatus].S]++
	}
	group := v[cGroup].S
	if group == "" {
		a.users.Set(key, st)
		return nil
	}
	a.memberN++
	if st&groupCountMask < groupCountMask {
		st++
	}
	g := a.groups[group]
	if g == nil || !g.inManifest && g.members == 0 {
		// A group the manifest does not list (an old export, ListGroups
		// denied, or created during the export): the rows describe it.
		g = a.group(strings.Clone(group))
		g.description, g.roleArn = strings.Clone(v[cDescription].S), strings.Clone(v[cRoleArn].S)
		if v[cPrecedence].Valid {
			if p, err := strconv.ParseInt(v[cPrecedence].S, 10, 32); err == nil {
				p32 := int32(p)
				g.precedence = &p32
			}
		}
		g.privileged = g.roleArn != "" || a.named[group]
	}
	g.members++
	limit := a.opts.MaxFindingRows
	fr := func(detail string) FindingRow {
		return FindingRow{Username: strings.Clone(v[cUsername].S), UserSub: strings.Clone(v[cSub].S), Group: g.name, Detail: detail, Attrs: a.attrs(v)}
	}
	if a.dc != nil {
		a.dc.row(v[cUsername].S, v[cSub].S, group, fr)
	}
	if v[cEnabled].S == "false" {
		a.disabled.add(limit, fr(""))
	}
	// The row's role ARN is the group's as the export saw it with this
	// membership; the manifest's is from the end of the export.
	if hasRole := v[cRoleArn].S != "" || g.roleArn != ""; hasRole {
		if notConfirmed[v[cStatus].S] {
			a.unconfirmed.add(limit, fr(strings.Clone(v[cStatus].S)))
		}
		if a.verifiedC >= 0 && v[a.verifiedC].S == "false" {
			email := ""
			if a.emailC >= 0 {
				email = strings.Clone(v[a.emailC].S)
			}
			a.unverified.add(limit, fr(email))
		}
	}
	if int(st&groupCountMask) == a.opts.MaxGroupsPerUser+1 {
		a.over[key] = FindingRow{Username: strings.Clone(v[cUsername].S), UserSub: strings.Clone(v[cSub].S), Attrs: a.attrs(v)}
	}
	if g.privileged {
		a.privilegedTotal++
		if st&countedPrivilege == 0 {
			st |= countedPrivilege
			a.privilegedUsers++
		}
		if len(a.members) < a.opts.MaxListed {
			attrs := a.attrs(v)
			a.members = append(a.members, Member{
				Group: g.name, Username: strings.Clone(v[cUsername].S), UserSub: strings.Clone(v[cSub].S), Status: strings.Clone(v[cStatus].S),
				Enabled: v[cEnabled].S == "true", Created: strings.Clone(v[cCreated].S), Modified: strings.Clone(v[cModified].S), Attrs: attrs,
			})
		} else {
			a.privilegedCapped = true
		}
	}
	a.users.Set(key, st)
	return nil
}

// attrs are the identity attributes of the row, cloned (see row).
func (a *accumulator) attrs(v []rowscan.Value) []string {
	attrs := make([]string, len(a.attrCols))
	for i := range attrs {
		attrs[i] = strings.Clone(v[nFixed+i].S)
	}
	return attrs
}

func (a *accumulator) ref(side Side) ExportRef {
	m := side.Manifest
	pool := m.Parameters["user_pool_id"]
	return ExportRef{
		Location: side.Location, PoolID: pool, PoolName: m.PoolName, Region: Region(pool),
		ExportedAt: a.exported, ManifestSHA256: m.SHA256, Format: m.Format,
		Users: int64(a.users.Len()), Rows: a.rows, Groups: len(a.groups), Memberships: a.memberN,
		Signature: &SignatureRef{Signed: side.Signature.Valid, KeyFingerprint: side.Signature.Fingerprint, Checked: side.Signature.Trusted(),
			AllowedSigners: side.Signature.CheckedAgainst, Principals: side.Signature.Principals},
	}
}

// groupRows are the groups table: privileged groups first, then by name.
func (a *accumulator) groupRows(prev *Comparison) []Group {
	var delta map[string]GroupDelta
	if prev != nil {
		delta = map[string]GroupDelta{}
		for _, d := range prev.ByGroup {
			delta[d.Group] = d
		}
	}
	out := make([]Group, 0, len(a.groups))
	for _, name := range a.order {
		g := a.groups[name]
		row := Group{Name: name, Description: g.description, RoleArn: g.roleArn, Precedence: g.precedence,
			Members: g.members, Privileged: g.privileged}
		if delta != nil {
			d := delta[name]
			row.Added, row.Removed = &d.MembershipsAdded, &d.MembershipsRemoved
		}
		out = append(out, row)
	}
	slices.SortStableFunc(out, func(x, y Group) int {
		if x.Privileged != y.Privileged {
			if x.Privileged {
				return -1
			}
			return 1
		}
		return cmp.Compare(x.Name, y.Name)
	})
	return out
}

func (a *accumulator) statuses() []Count {
	out := make([]Count, 0, len(a.statusN))
	for s, n := range a.statusN {
		out = append(out, Count{s, n})
	}
	slices.SortFunc(out, func(x, y Count) int { return cmp.Or(cmp.Compare(y.Count, x.Count), cmp.Compare(x.Name, y.Name)) })
	return out
}

func (a *accumulator) privileged() Privileged {
	p := Privileged{Total: a.privilegedTotal, Users: a.privilegedUsers, Members: a.members, Truncated: a.privilegedCapped, Groups: []string{}}
	for _, name := range a.order {
		if a.groups[name].privileged {
			p.Groups = append(p.Groups, name)
		}
	}
	slices.Sort(p.Groups)
	if p.Members == nil {
		p.Members = []Member{}
	}
	slices.SortStableFunc(p.Members, func(x, y Member) int {
		return cmp.Or(cmp.Compare(x.Group, y.Group), cmp.Compare(x.Username, y.Username))
	})
	return p
}
