package report

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// TestSeverityOrder: findings come most severe first, in the catalog's
// order, each id once.
func TestSeverityOrder(t *testing.T) {
	rank := map[Severity]int{High: 0, Medium: 1, Low: 2}
	fs := findings(export{}.scan(t, Options{}), withDefaults(Options{}))
	var ids []string
	for i, f := range fs {
		ids = append(ids, f.ID)
		if _, ok := rank[f.Severity]; !ok {
			t.Errorf("%s: severity %q", f.ID, f.Severity)
		}
		if i > 0 && rank[f.Severity] < rank[fs[i-1].Severity] {
			t.Errorf("%s (%s) comes after %s (%s)", f.ID, f.Severity, fs[i-1].ID, fs[i-1].Severity)
		}
		if f.Title == "" || f.Meaning == "" || f.Why == "" {
			t.Errorf("%s: title, meaning or why is empty", f.ID)
		}
	}
	if !slices.Equal(ids, FindingIDs()) {
		t.Fatalf("findings %v, FindingIDs %v", ids, FindingIDs())
	}
	if len(slices.Compact(slices.Sorted(slices.Values(ids)))) != len(ids) {
		t.Fatalf("an id twice: %v", ids)
	}
}

func TestRegion(t *testing.T) {
	for _, c := range []struct{ pool, want string }{
		{"eu-west-1_AbCdEf", "eu-west-1"},
		{"us-gov-west-1_x_y", "us-gov-west-1"},
		{"eu-west-1", ""},
		{"", ""},
		{"_abc", ""},
	} {
		if got := Region(c.pool); got != c.want {
			t.Errorf("Region(%q) = %q, want %q", c.pool, got, c.want)
		}
	}
}

// TestPresent: --fail-on fails for a finding with a count, never for one
// that found nothing or could not be evaluated, and refuses a typo.
func TestPresent(t *testing.T) {
	e := export{rows: []member{u("alice").off().in("ops")}}
	r := &Report{Findings: findings(e.scan(t, Options{}), withDefaults(Options{}))}
	got, err := r.Present([]string{"EMPTY_GROUP", "DISABLED_WITH_GROUPS", "TOO_MANY_GROUPS", "PRIVILEGED_MEMBERS_ADDED"})
	if err != nil || !slices.Equal(got, []string{"DISABLED_WITH_GROUPS"}) {
		t.Fatalf("present %v, %v: want [DISABLED_WITH_GROUPS]", got, err)
	}
	if _, err := r.Present([]string{"DISABLED_WITH_GROUP"}); err == nil || !strings.Contains(err.Error(), `"DISABLED_WITH_GROUP"`) {
		t.Fatalf("a typo gave %v", err)
	}
	if err := CheckIDs([]string{"EMPTY_GROUP", "EMPTY_GROUPS"}); !errors.Is(err, ErrUnknownFinding) || !strings.Contains(err.Error(), `"EMPTY_GROUPS"`) {
		t.Fatalf("CheckIDs of a typo: %v", err)
	}
	if err := CheckIDs(FindingIDs()); err != nil {
		t.Fatalf("CheckIDs of every id: %v", err)
	}
}

func TestThousands(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 7: "7", 999: "999", 1000: "1,000", 173570: "173,570",
		1234567: "1,234,567", -1: "-1", -1234: "-1,234"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
}

// TestChartHelpers: a bar's length is proportional, at least 1 for a
// non-zero value; a long label is cut at a rune, not a byte.
func TestChartHelpers(t *testing.T) {
	full := chartWidth - labelWidth - valueRoom
	for _, c := range []struct {
		v, top int64
		want   int
	}{{0, 0, 0}, {0, 10, 0}, {10, 10, full}, {5, 10, full / 2}, {1, 1_000_000, 1}} {
		if got := scale(c.v, c.top); got != c.want {
			t.Errorf("scale(%d, %d) = %d, want %d", c.v, c.top, got, c.want)
		}
	}
	long := strings.Repeat("é", labelLength+1)
	if got := shorten(long); got != strings.Repeat("é", labelLength-1)+"…" {
		t.Errorf("shorten of %d runes: %q", labelLength+1, got)
	}
	if exact := strings.Repeat("é", labelLength); shorten(exact) != exact {
		t.Errorf("shorten cut a label of %d runes", labelLength)
	}
}

// TestChangeChart: only groups whose memberships changed get a pair of
// bars.
func TestChangeChart(t *testing.T) {
	n := func(v int64) *int64 { return &v }
	c := newChangeChart("t", []Group{{Name: "a", Added: n(4), Removed: n(0)}, {Name: "b", Added: n(0), Removed: n(0)},
		{Name: "c", Added: n(0), Removed: n(2)}, {Name: "d"}})
	var got []string
	for _, p := range c.Pairs {
		got = append(got, p.Label)
	}
	if !slices.Equal(got, []string{"a", "c"}) || c.Pairs[1].RemovedW != scale(2, 4) {
		t.Fatalf("pairs %v (removed width %d)", got, c.Pairs[1].RemovedW)
	}
}

// TestChangesSection: counts by kind sorted by name, and lists that are
// never null.
func TestChangesSection(t *testing.T) {
	c := changes(&Comparison{ByChange: map[string]int64{"user_added": 2, "group_changed": 1, "membership_added": 0}})
	want := []Count{{"group_changed", 1}, {"membership_added", 0}, {"user_added", 2}}
	if !slices.Equal(c.ByChange, want) || c.RoleChanges == nil || c.Privileged == nil {
		t.Fatalf("changes %+v", c)
	}
}

// TestDuckDBQuery: the query the page gives reads the export's format,
// with a quote in the location doubled.
func TestDuckDBQuery(t *testing.T) {
	r := &Report{Export: ExportRef{Location: "s3://b/o'brien/day1/", Format: "csv"}}
	if got, want := duckdbQuery(r), "SELECT * FROM read_csv('s3://b/o''brien/day1/part-*.csv') WHERE group_name = '…'"; got != want {
		t.Errorf("csv: %s\nwant %s", got, want)
	}
	r.Export.Format = "parquet"
	if got := duckdbQuery(r); !strings.Contains(got, "read_parquet('s3://b/o''brien/day1/part-*.parquet')") {
		t.Errorf("parquet: %s", got)
	}
}
