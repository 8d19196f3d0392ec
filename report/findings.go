package report

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
)

// Severity orders findings: a reviewer reads the most severe first.
type Severity string

const (
	High   Severity = "high"
	Medium Severity = "medium"
	Low    Severity = "low"
)

// Finding is one check of the review: how many rows it found, and the rows.
type Finding struct {
	ID       string   `json:"id"`
	Severity Severity `json:"severity"`
	Title    string   `json:"title"`
	Meaning  string   `json:"meaning"`
	Why      string   `json:"why_it_matters"`
	// Evaluated is false when the export lacks what the check needs (an
	// email_verified column, the pool's list of groups, a previous
	// export); Reason says what.
	Evaluated bool         `json:"evaluated"`
	Reason    string       `json:"not_evaluated_reason,omitempty"`
	Count     int64        `json:"count"`
	Detail    string       `json:"detail_label,omitempty"` // what FindingRow.Detail holds
	Rows      []FindingRow `json:"rows"`
	Truncated bool         `json:"truncated"`
}

// FindingRow is one thing a finding found: a user, a membership or a group.
type FindingRow struct {
	Username string `json:"username,omitempty"`
	UserSub  string `json:"user_sub,omitempty"`
	Group    string `json:"group,omitempty"`
	Detail   string `json:"detail,omitempty"`
	// Attrs are the user's identity attributes, in the order of
	// Report.Attributes (pseudonymised ones as pseudonyms): a reviewer
	// decides on a person, not on two UUIDs. Empty for a group's row.
	Attrs []string `json:"attributes,omitempty"`
}

// check is a finding's definition; the catalog below is in severity order.
type check struct {
	id, title, meaning, why, detail string
	severity                        Severity
}

var catalog = []check{
	{"DISABLED_WITH_GROUPS", "Disabled users who still hold groups",
		"A disabled user is still a member of one or more groups (one row per membership).",
		"Disabling is reversible: re-enabling the user silently restores every grant, so offboarding is not finished until the memberships are removed.", "", High},
	{"PRIVILEGED_NOT_CONFIRMED", "Members of role-granting groups who are not confirmed",
		"A user whose status is UNCONFIRMED, RESET_REQUIRED, FORCE_CHANGE_PASSWORD, COMPROMISED or UNKNOWN is in a group with a role ARN.",
		"Such an account was never completed or is suspected of compromise, yet holds AWS credentials through the group's role the moment it signs in.", "status", High},
	{"ROLE_OR_PRECEDENCE_CHANGED", "Groups whose role ARN or precedence changed",
		"Since the previous export a group gained, lost or changed its role ARN or its precedence, or a group with a role ARN was added or removed.",
		"Every member's AWS access changed without any membership changing; precedence decides which role a user in several groups gets.", "change", High},
	{"PRIVILEGED_MEMBERS_ADDED", "Members added to role-granting groups",
		"Since the previous export a user was added to a group with a role ARN.",
		"New grants of AWS access are what an access review must confirm were approved.", "role ARN", High},
	{"REVOKE_NOT_APPLIED", "Revocations not carried out",
		"A membership the previous review decided to revoke is still there (same username, sub and group).",
		"A decision nobody carried out is a finding of the review itself: the access it judged unneeded is still granted.", "decided", High},
	{"REVOKED_MEMBER_READDED", "Revoked members who are members again",
		"A membership the previous review decided to revoke was removed and is back, or its username was re-created (another sub) and is a member again.",
		"Access revoked on review came back without a review: someone re-granted it, or a deleted account was re-created with the same name.", "decided", High},
	{"SHARED_ROLE_ARN", "Groups granting the same role ARN",
		"Two or more groups grant the same IAM role.",
		"Revoking access by removing a user from one group leaves the same role granted through the other.", "role ARN", Medium},
	{"UNVERIFIED_EMAIL_PRIVILEGED", "Unverified email in role-granting groups",
		"A member of a group with a role ARN has email_verified false.",
		"An unverified address may not belong to the person: password resets and notifications can reach someone else.", "email", Medium},
	{"PRIVILEGED_NOT_REVIEWED", "Privileged memberships the previous review did not decide",
		"A membership of a privileged group in the previous export has no keep or revoke in the decisions file.",
		"An access review is complete only when every privileged grant has a decision by a named reviewer.", "decision", Medium},
	{"TOO_MANY_GROUPS", "Users in more groups than allowed",
		"A user is a member of more groups than --max-groups-per-user.",
		"Wide memberships accumulate from role changes that were never cleaned up; least privilege says to review them.", "groups", Medium},
	{"EMPTY_GROUP", "Groups with no members",
		"A group of the pool has no members.",
		"An unused group is a grant waiting for a member: remove it, or confirm it is meant to stay.", "role ARN", Low},
}

// FindingIDs are the ids of every finding, most severe first.
func FindingIDs() []string {
	ids := make([]string, len(catalog))
	for i, c := range catalog {
		ids[i] = c.id
	}
	return ids
}

// findings evaluates every check over what the scan gathered.
func findings(a *accumulator, opts Options) []Finding {
	limit := opts.MaxFindingRows
	out := make([]Finding, 0, len(catalog))
	for _, c := range catalog {
		f := Finding{ID: c.id, Severity: c.severity, Title: c.title, Meaning: c.meaning, Why: c.why, Detail: c.detail, Evaluated: true}
		var rows rowsOf
		switch c.id {
		case "DISABLED_WITH_GROUPS":
			rows = a.disabled
		case "PRIVILEGED_NOT_CONFIRMED":
			rows = a.unconfirmed
		case "UNVERIFIED_EMAIL_PRIVILEGED":
			if a.verifiedC < 0 {
				f.Evaluated, f.Reason = false, "the export has no email_verified column: export with --attributes email,email_verified"
			}
			rows = a.unverified
		case "TOO_MANY_GROUPS":
			// Sorted before the cap, so that the rows kept do not depend
			// on the map's order.
			over := make([]FindingRow, 0, len(a.over))
			for key, r := range a.over {
				st, _ := a.users.Get(key)
				r.Detail = strconv.Itoa(int(st & groupCountMask))
				over = append(over, r)
			}
			sortRows(over)
			for _, r := range over {
				rows.add(limit, r)
			}
		case "EMPTY_GROUP":
			if !a.anyInManifest() {
				f.Evaluated, f.Reason = false, "the export's manifest does not list the pool's groups (an older export, or ListGroups was denied): only groups with members are known"
			}
			for _, name := range a.order {
				if g := a.groups[name]; g.members == 0 {
					rows.add(limit, FindingRow{Group: name, Detail: g.roleArn})
				}
			}
		case "SHARED_ROLE_ARN":
			rows = a.sharedRoles(limit)
		case "REVOKE_NOT_APPLIED", "REVOKED_MEMBER_READDED", "PRIVILEGED_NOT_REVIEWED":
			switch {
			case a.dc == nil:
				f.Evaluated, f.Reason = false, "no decisions of the previous review to check: pass --decisions"
			case c.id == "REVOKE_NOT_APPLIED":
				rows = a.dc.notApplied
			case c.id == "REVOKED_MEMBER_READDED":
				rows = a.dc.readded
			case a.dc.d.Old == nil:
				f.Evaluated, f.Reason = false, "no previous export, whose privileged memberships needed a decision: pass --previous"
			default:
				rows = a.dc.unreviewed
			}
		case "ROLE_OR_PRECEDENCE_CHANGED", "PRIVILEGED_MEMBERS_ADDED":
			if opts.Previous == nil {
				f.Evaluated, f.Reason = false, "no previous export to compare with: pass --previous"
				break
			}
			rows = fromComparison(c.id, opts.Previous, limit, a.attrCols)
		}
		f.Count, f.Rows, f.Truncated = rows.n, rows.rows, rows.n > int64(len(rows.rows))
		sortRows(f.Rows)
		if f.Rows == nil {
			f.Rows = []FindingRow{}
		}
		out = append(out, f)
	}
	return out
}

func (a *accumulator) anyInManifest() bool {
	for _, g := range a.groups {
		if g.inManifest {
			return true
		}
	}
	return false
}

// sharedRoles are the groups whose role ARN another group grants too.
// Sorted before the cap, as TOO_MANY_GROUPS: the ARNs come from a map, and
// the rows kept must not depend on its order.
func (a *accumulator) sharedRoles(limit int) rowsOf {
	by := map[string][]string{}
	for _, name := range a.order {
		if arn := a.groups[name].roleArn; arn != "" {
			by[arn] = append(by[arn], name)
		}
	}
	var shared []FindingRow
	for arn, names := range by {
		if len(names) > 1 {
			for _, n := range names {
				shared = append(shared, FindingRow{Group: n, Detail: arn})
			}
		}
	}
	sortRows(shared)
	var rows rowsOf
	for _, r := range shared {
		rows.add(limit, r)
	}
	return rows
}

// fromComparison takes a finding's rows from the diff: role and
// precedence changes of groups, and memberships added to groups with a role
// ARN.
func fromComparison(id string, p *Comparison, limit int, attrCols []string) rowsOf {
	var rows rowsOf
	for _, c := range p.RoleChanges {
		if id != "ROLE_OR_PRECEDENCE_CHANGED" {
			break
		}
		switch {
		case c.Change == "group_changed" && (c.Field == "role_arn" || c.Field == "group_role_arn" || c.Field == "precedence" || c.Field == "group_precedence"):
			rows.add(limit, FindingRow{Group: c.GroupName, Detail: fmt.Sprintf("%s: %s → %s", c.Field, orNone(c.OldValue), orNone(c.NewValue))})
		case (c.Change == "group_added" || c.Change == "group_removed") && c.GroupRoleArn != "":
			rows.add(limit, FindingRow{Group: c.GroupName, Detail: c.Change + ": " + c.GroupRoleArn})
		}
	}
	if id == "PRIVILEGED_MEMBERS_ADDED" {
		for _, c := range p.Privileged {
			if c.Change == "membership_added" && c.GroupRoleArn != "" {
				rows.add(limit, FindingRow{Username: c.Username, UserSub: c.UserSub, Group: c.GroupName, Detail: c.GroupRoleArn, Attrs: c.attrs(attrCols)})
			}
		}
		// The diff caps the rows it lists, not its per-group counts: the
		// count comes from those.
		var n int64
		for _, g := range p.ByGroup {
			if g.RoleArn != "" {
				n += g.MembershipsAdded
			}
		}
		rows.n = max(rows.n, n)
	}
	return rows
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func sortRows(rows []FindingRow) {
	slices.SortFunc(rows, func(x, y FindingRow) int {
		return cmp.Or(cmp.Compare(x.Group, y.Group), cmp.Compare(x.Username, y.Username), cmp.Compare(x.UserSub, y.UserSub))
	})
}

// changes is the changes section from the comparison.
func changes(p *Comparison) *Changes {
	c := &Changes{RoleChanges: nonNilChanges(p.RoleChanges), Privileged: nonNilChanges(p.Privileged), Truncated: p.Truncated}
	for kind, n := range p.ByChange {
		c.ByChange = append(c.ByChange, Count{kind, n})
	}
	slices.SortFunc(c.ByChange, func(x, y Count) int { return cmp.Compare(x.Name, y.Name) })
	return c
}

func nonNilChanges(c []Change) []Change {
	if c == nil {
		return []Change{}
	}
	return c
}
