package diff

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/cognito-export/cognito-export/reader"
	"github.com/cognito-export/cognito-export/sink"
)

func exportSide(location, sha string, users, rows int64) Side {
	var m reader.Manifest
	m.SHA256, m.Parameters = sha, map[string]string{"user_pool_id": diffPool}
	m.Totals.Users, m.Totals.Rows = users, rows
	return Side{Location: location, Manifest: m}
}

// summaryOf adds changes to a new summary, privileged being the groups
// with a role ARN on either side or named.
func summaryOf(changes []sink.Change, privileged ...string) Summary {
	s := newSummary(exportSide("old", "o", 3, 4), exportSide("new", "n", 4, 6), []string{"email", "locale"},
		Options{Format: "parquet"})
	isPrivileged := func(g string) bool { return slices.Contains(privileged, g) }
	for i := range changes {
		s.add(&changes[i], isPrivileged)
	}
	return s.done()
}

func membership(kind, user, group, role string) sink.Change {
	return sink.Change{Change: kind, UserPoolID: diffPool, Username: user, UserSub: "sub-" + user, GroupName: group, GroupRoleArn: role,
		Attrs: []sink.Attr{{Value: user + "@example.com", Set: true}, {}}}
}

func rowTexts(rows []ChangeRow) []string {
	out := []string{}
	for _, r := range rows {
		s := fmt.Sprintf("%s %s|%s %s %s %s %s %s", r.Change, r.Username, r.UserSub, r.Group, r.RoleArn, r.Field, r.OldValue, r.NewValue)
		for _, k := range slices.Sorted(maps.Keys(r.Attributes)) {
			s += " " + k + "=" + r.Attributes[k]
		}
		out = append(out, strings.Join(strings.Fields(s), " "))
	}
	return out
}

// TestSummaryCounts: every change counted by kind, every kind present;
// membership changes counted per group, groups with a role ARN first;
// group rows and privileged memberships listed.
func TestSummaryCounts(t *testing.T) {
	s := summaryOf([]sink.Change{
		{Change: GroupChanged, GroupName: "ops", GroupRoleArn: arnOps, Field: "group_precedence", OldValue: "1", NewValue: "2"},
		{Change: GroupAdded, GroupName: "new"},
		{Change: UserAdded, Username: "carol", UserSub: "sub-carol"},
		membership(MembershipAdded, "carol", "readers", ""),
		membership(MembershipAdded, "carol", "ops", arnOps),
		membership(MembershipRemoved, "bob", "ops", arnOps),
		membership(MembershipRemoved, "bob", "board", ""),
		membership(MembershipAdded, "dave", "board", ""),
		membership(MembershipAdded, "erin", "audit", arnAdmin),
		{Change: UserChanged, Username: "bob", UserSub: "sub-bob", Field: "user_enabled", OldValue: "true", NewValue: "false"},
	}, "ops", "board", "audit")

	if s.Changes != 10 || s.UserPoolID != diffPool || s.Old.Users != 3 || s.New.Rows != 6 || s.Format != "parquet" {
		t.Errorf("summary %+v", s)
	}
	wantKinds := map[string]int64{GroupChanged: 1, GroupAdded: 1, GroupRemoved: 0, MembershipAdded: 4, MembershipRemoved: 2,
		UserAdded: 1, UserRemoved: 0, UserChanged: 1}
	if !maps.Equal(s.ByChange, wantKinds) {
		t.Errorf("by change %v, want %v", s.ByChange, wantKinds)
	}
	wantGroups := []GroupCount{{"audit", arnAdmin, 1, 0}, {"ops", arnOps, 1, 1}, {"board", "", 1, 1}, {"readers", "", 1, 0}}
	if !slices.Equal(s.ByGroup, wantGroups) {
		t.Errorf("by group %v, want %v", s.ByGroup, wantGroups)
	}
	wantRoles := []string{"group_changed | ops " + arnOps + " group_precedence 1 2", "group_added | new"}
	if got := rowTexts(s.RoleChanges); !slices.Equal(got, wantRoles) {
		t.Errorf("role changes %q, want %q", got, wantRoles)
	}
	// The attributes set are named by their columns; unset ones left out.
	wantPrivileged := []string{
		"membership_added carol|sub-carol ops " + arnOps + " email=carol@example.com",
		"membership_removed bob|sub-bob ops " + arnOps + " email=bob@example.com",
		"membership_removed bob|sub-bob board email=bob@example.com",
		"membership_added dave|sub-dave board email=dave@example.com",
		"membership_added erin|sub-erin audit " + arnAdmin + " email=erin@example.com",
	}
	if got := rowTexts(s.Privileged); !slices.Equal(got, wantPrivileged) || s.PrivilegedTruncated {
		t.Errorf("privileged (truncated %v)\n got %q\nwant %q", s.PrivilegedTruncated, got, wantPrivileged)
	}
}

// TestSummaryOfNoChange: no change is zero of every kind and empty lists,
// never nulls, in diff-summary.json.
func TestSummaryOfNoChange(t *testing.T) {
	s := summaryOf(nil)
	if s.Changes != 0 || len(s.ByChange) != len(Kinds) || s.ByGroup == nil || s.RoleChanges == nil || s.Privileged == nil {
		t.Fatalf("summary of nothing %+v", s)
	}
	for _, k := range Kinds {
		if n, ok := s.ByChange[k]; !ok || n != 0 {
			t.Errorf("%s: %d, %v", k, n, ok)
		}
	}
}

// TestSummaryPrivilegedCap: past MaxPrivileged rows the list stops and
// says so; the counts go on.
func TestSummaryPrivilegedCap(t *testing.T) {
	for _, n := range []int{MaxPrivileged, MaxPrivileged + 3} {
		changes := make([]sink.Change, n)
		for i := range changes {
			changes[i] = membership(MembershipAdded, fmt.Sprintf("u%05d", i), "ops", arnOps)
		}
		s := summaryOf(changes, "ops")
		wantTruncated := n > MaxPrivileged
		if len(s.Privileged) != MaxPrivileged || s.PrivilegedTruncated != wantTruncated || s.Changes != int64(n) ||
			s.ByGroup[0].Added != int64(n) || s.Privileged[MaxPrivileged-1].Username != fmt.Sprintf("u%05d", MaxPrivileged-1) {
			t.Fatalf("%d additions: %d listed, truncated %v, %d changes, %+v", n, len(s.Privileged), s.PrivilegedTruncated, s.Changes, s.ByGroup)
		}
	}
}
