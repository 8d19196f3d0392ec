package report

import (
	"testing"

	"github.com/cognito-export/cognito-export/decisions"
)

// TestDecidedTellsKeysApart: a membership is decided only under its own
// (username, sub, group), not under one whose parts join to the same
// bytes, and nothing is decided before the first decision is added.
func TestDecidedTellsKeysApart(t *testing.T) {
	d := &Decided{}
	if d.has("ab", "c", "g") {
		t.Fatal("an empty Decided has a decision")
	}
	keep := decisions.Decision{Username: "ab", Sub: "c", Group: "g", Verdict: decisions.Keep, Reviewer: "Rita"}
	revoke := decisions.Decision{Username: "x", Sub: "s", Group: "g", Verdict: decisions.Revoke, Reviewer: "Rita"}
	d.Add(keep)
	d.Add(revoke)
	for _, k := range []struct {
		user, sub, group string
		want             bool
	}{
		{"ab", "c", "g", true}, {"x", "s", "g", true},
		{"a", "bc", "g", false}, {"ab", "", "cg", false}, {"ab", "c", "h", false}, {"x", "s2", "g", false},
	} {
		if got := d.has(k.user, k.sub, k.group); got != k.want {
			t.Errorf("has(%q, %q, %q) = %v, want %v", k.user, k.sub, k.group, got, k.want)
		}
	}
	if d.n != 2 || d.kept != 1 || len(d.revokes) != 1 || d.revokes[0].Username != "x" {
		t.Errorf("%d decisions, %d kept, revokes %+v", d.n, d.kept, d.revokes)
	}
}

// TestDecidedFirstHalfClash: two decided memberships whose first 64 bits
// collide (forged here: the seeds are random) are both found, and a third
// with that first half and neither second is not.
func TestDecidedFirstHalfClash(t *testing.T) {
	d := &Decided{}
	d.Add(decisions.Decision{Username: "a", Sub: "s", Group: "g", Verdict: decisions.Keep, Reviewer: "Rita"})
	first := d.half(0, "b", "s", "g")
	d.decided[first] = 12345 // another membership's second half under b's first
	d.Add(decisions.Decision{Username: "b", Sub: "s", Group: "g", Verdict: decisions.Keep, Reviewer: "Rita"})
	if !d.has("a", "s", "g") || !d.has("b", "s", "g") || len(d.clash) != 1 {
		t.Errorf("a %v, b %v, %d clashes", d.has("a", "s", "g"), d.has("b", "s", "g"), len(d.clash))
	}
	if d.has("c", "s", "g") {
		t.Error("an undecided membership was found")
	}
}
