package diff

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestWriteText: the plain summary a person reads, exactly: group
// changes, then members added to groups with a role ARN (not removals, not
// groups without one), then the counts in Kinds' order.
func TestWriteText(t *testing.T) {
	s := Summary{
		UserPoolID: diffPool,
		Old:        ExportInfo{Location: "/x/day1", Users: 3, Rows: 4},
		New:        ExportInfo{Location: "/x/day2", Users: 4, Rows: 6, ExportedAt: time.Date(2026, 3, 2, 1, 2, 3, 5e8, time.FixedZone("", 3600))},
		Changes:    5,
		ByChange:   map[string]int64{GroupChanged: 1, GroupAdded: 1, MembershipAdded: 2, MembershipRemoved: 1},
		RoleChanges: []ChangeRow{
			{Change: GroupChanged, Group: "ops", RoleArn: arnOps, Field: "group_role_arn", OldValue: "", NewValue: arnOps},
			{Change: GroupAdded, Group: "new", RoleArn: arnAdmin},
		},
		Privileged: []ChangeRow{
			{Change: MembershipAdded, Username: "carol", Group: "ops", RoleArn: arnOps,
				Attributes: map[string]string{"email": "carol@example.com", "locale": "fr"}},
			{Change: MembershipRemoved, Username: "bob", Group: "ops", RoleArn: arnOps},
			{Change: MembershipAdded, Username: "dave", Group: "board"},
		},
	}
	var b strings.Builder
	s.WriteText(&b)
	want := `diff of pool eu-west-1_Diff
  old: /x/day1 (exported at an unknown time, 3 users, 4 rows)
  new: /x/day2 (exported 2026-03-02T00:02:03Z, 4 users, 6 rows)
group changes (2):
  group_changed "ops" group_role_arn: "" -> "` + arnOps + `"
  group_added "new" role "` + arnAdmin + `"
members added to groups with a role ARN (1):
  "ops" <- "carol" email="carol@example.com" locale="fr"
changes: 5 (group_changed 1, group_added 1, group_removed 0, membership_added 2, membership_removed 1, user_added 0, user_removed 0, user_changed 0)
`
	if got := b.String(); got != want {
		t.Fatalf("text\n%s\nwant\n%s", got, want)
	}
}

// TestWriteTextQuotes: a value a user chose cannot forge a line or send a
// terminal escape.
func TestWriteTextQuotes(t *testing.T) {
	s := Summary{ByChange: map[string]int64{}, Privileged: []ChangeRow{{Change: MembershipAdded, Username: "eve\n  \"ops\" <- \"admin\"\x1b[2J",
		Group: "ops\r", RoleArn: arnOps, Attributes: map[string]string{"email": "\x1b]0;x\a"}}}}
	var b strings.Builder
	s.WriteText(&b)
	out := b.String()
	if strings.ContainsAny(out, "\x1b\r\a") || !strings.Contains(out, `  "ops\r" <- "eve\n  \"ops\" <- \"admin\"\x1b[2J" email="\x1b]0;x\a"`+"\n") {
		t.Fatalf("text:\n%s", out)
	}
}

// TestWriteTextBounds: each list stops at listedInText rows and says how
// many more there are; a capped privileged list says the change rows hold
// the rest.
func TestWriteTextBounds(t *testing.T) {
	s := Summary{ByChange: map[string]int64{}, PrivilegedTruncated: true}
	for i := range listedInText + 2 {
		s.RoleChanges = append(s.RoleChanges, ChangeRow{Change: GroupAdded, Group: fmt.Sprintf("g%d", i)})
		s.Privileged = append(s.Privileged, ChangeRow{Change: MembershipAdded, Username: fmt.Sprintf("u%d", i), Group: "ops", RoleArn: arnOps})
	}
	var b strings.Builder
	s.WriteText(&b)
	out := b.String()
	for _, want := range []string{
		fmt.Sprintf("group changes (%d):\n", listedInText+2),
		fmt.Sprintf("  group_added \"g%d\" role \"\"\n  … and 2 more\n", listedInText-1),
		fmt.Sprintf("members added to groups with a role ARN (%d, more in the change rows):\n", listedInText+2),
		fmt.Sprintf("  \"ops\" <- \"u%d\"\n  … and 2 more\n", listedInText-1),
	} {
		if !strings.Contains(out, want) {
			t.Errorf("text lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, fmt.Sprintf(`"g%d"`, listedInText)) || strings.Contains(out, fmt.Sprintf(`"u%d"`, listedInText)) {
		t.Errorf("text lists past %d rows:\n%s", listedInText, out)
	}
}
