package diff

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
)

// listedInText bounds the rows of each list the plain summary prints; the
// change rows and diff-summary.json have them all.
const listedInText = 50

// WriteText prints the summary for a person: what groups grant first, then
// who joined a group with a role ARN, then the counts. Values that users
// chose are quoted, so that no username can forge a line or a terminal
// escape.
func (s Summary) WriteText(w io.Writer) {
	fmt.Fprintf(w, "diff of pool %s\n  old: %s (exported %s, %d users, %d rows)\n  new: %s (exported %s, %d users, %d rows)\n",
		s.UserPoolID, s.Old.Location, stamp(s.Old), s.Old.Users, s.Old.Rows, s.New.Location, stamp(s.New), s.New.Users, s.New.Rows)
	fmt.Fprintf(w, "group changes (%d):\n", len(s.RoleChanges))
	for i, r := range s.RoleChanges {
		if i == listedInText {
			fmt.Fprintf(w, "  … and %d more\n", len(s.RoleChanges)-i)
			break
		}
		switch r.Change {
		case GroupChanged:
			fmt.Fprintf(w, "  %s %q %s: %q -> %q\n", r.Change, r.Group, r.Field, r.OldValue, r.NewValue)
		default:
			fmt.Fprintf(w, "  %s %q role %q\n", r.Change, r.Group, r.RoleArn)
		}
	}
	var added []ChangeRow
	for _, r := range s.Privileged {
		if r.Change == MembershipAdded && r.RoleArn != "" {
			added = append(added, r)
		}
	}
	more := ""
	if s.PrivilegedTruncated {
		more = ", more in the change rows"
	}
	fmt.Fprintf(w, "members added to groups with a role ARN (%d%s):\n", len(added), more)
	for i, r := range added {
		if i == listedInText {
			fmt.Fprintf(w, "  … and %d more\n", len(added)-i)
			break
		}
		fmt.Fprintf(w, "  %q <- %q%s\n", r.Group, r.Username, attributes(r))
	}
	var kinds []string
	for _, k := range Kinds {
		kinds = append(kinds, fmt.Sprintf("%s %d", k, s.ByChange[k]))
	}
	fmt.Fprintf(w, "changes: %d (%s)\n", s.Changes, strings.Join(kinds, ", "))
}

func stamp(e ExportInfo) string {
	if e.ExportedAt.IsZero() {
		return "at an unknown time"
	}
	return e.ExportedAt.UTC().Format("2006-01-02T15:04:05Z")
}

func attributes(r ChangeRow) string {
	if len(r.Attributes) == 0 {
		return ""
	}
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(r.Attributes)) {
		fmt.Fprintf(&b, " %s=%q", k, r.Attributes[k])
	}
	return b.String()
}
