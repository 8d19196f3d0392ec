package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cognito-export/cognito-export/decisions"
	"github.com/cognito-export/cognito-export/internal/chromium"
	"github.com/cognito-export/cognito-export/internal/cognitoemu"
)

// The hostile values of the decisions test: a username and a group name
// that are formula-like, markup and quoted (Cognito allows each: no
// whitespace), and a reviewer and a comment that add spaces and, in the
// comment, a second line.
const (
	decideUser     = `=HYPERLINK("http://x.example")<b>'x'</b>`
	decideGroup    = `@SUM(1)"<i>g</i>",-x`
	decideReviewer = `+Rita "QA" O'Neil <b>`
	decideComment  = "=1+2 <script>alert(1)</script> \"quoted\", and\na second line"
)

// TestReportDecisionsInBrowser is a reviewer's session in headless
// Chromium, driven over the DevTools protocol: marks rows of a real
// report keep or revoke (one with a hostile username, group and comment),
// changes their mind on one, names themself, clicks "Download decisions",
// and the file the browser saves holds exactly what was marked, in
// decisions.csv's columns, every hostile value back as it was. Nothing is
// logged and nothing requested; an injected script or image is still
// stopped by the CSP; printed, the controls are gone. The next review
// takes the downloaded file.
func TestReportDecisionsInBrowser(t *testing.T) {
	t.Parallel()
	chromium.Require(t)
	base := cognitoemu.NewPool(cognitoemu.PoolSpec{ID: "eu-west-1_Decide1", Users: 80, Groups: 4, Seed: 9})
	n := base.NumUsers()
	arn := "arn:aws:iam::123456789012:role/admins"
	pool, err := base.Mutate(cognitoemu.Mutations{
		AddUsers:  []cognitoemu.NewUser{{Username: decideUser}},
		AddGroups: []cognitoemu.NewGroup{{Name: decideGroup, RoleArn: &arn, Members: []int{0, 1, 2, 3, n}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	exp := filepath.Join(dir, "export")
	exportTo(t, serveEmu(t, pool), pool.ID(), exp)
	page := filepath.Join(dir, "review", "report.html")
	runReportCLI(t, exp, "--output", page)
	var rj struct {
		Export struct {
			PoolID         string `json:"pool_id"`
			ManifestSHA256 string `json:"manifest_sha256"`
		} `json:"export"`
	}
	if data, err := os.ReadFile(filepath.Join(dir, "review", "report.json")); err != nil || json.Unmarshal(data, &rj) != nil {
		t.Fatalf("read report.json: %v", err)
	}

	tab := chromium.Open(t, page)
	// Each decidable row gets a handle for the test's selectors.
	var rows [][3]string // group, username, sub, in page order
	tab.Eval(`Array.from(document.querySelectorAll("tr.decidable")).map((tr, i) => {
		tr.setAttribute("data-test-row", i); return [tr.cells[0].textContent, tr.cells[1].textContent, tr.cells[2].textContent]; })`, &rows)
	hostile := slices.IndexFunc(rows, func(r [3]string) bool { return r[0] == decideGroup && r[1] == decideUser })
	if hostile < 0 {
		t.Fatalf("no decidable row of %q in %q among %d", decideUser, decideGroup, len(rows))
	}
	// Three other memberships: two kept, one marked and then unmarked.
	var others []int
	seen := map[[3]string]bool{rows[hostile]: true}
	for i, r := range rows {
		if !seen[r] && len(others) < 3 {
			seen[r] = true
			others = append(others, i)
		}
	}
	if len(others) < 3 {
		t.Fatalf("%d decidable rows: too few to mark", len(rows))
	}
	sel := func(row int, what string) string { return fmt.Sprintf(`tr[data-test-row="%d"] %s`, row, what) }
	want := map[decisions.Key]decisions.Decision{}
	mark := func(row int, v decisions.Verdict, comment string) {
		tab.Choose(sel(row, "select.decision"), string(v))
		if comment != "" {
			tab.Type(sel(row, "textarea.comment"), comment)
		}
		r := rows[row]
		want[decisions.Key{Username: r[1], Sub: r[2], Group: r[0]}] = decisions.Decision{PoolID: rj.Export.PoolID, Group: r[0], Username: r[1],
			Sub: r[2], Verdict: v, Reviewer: decideReviewer, Comment: comment, ManifestSHA256: rj.Export.ManifestSHA256}
	}
	before := time.Now().Truncate(time.Millisecond)
	mark(hostile, decisions.Revoke, decideComment)
	mark(others[0], decisions.Keep, "")
	mark(others[1], decisions.Keep, "still on call")
	tab.Choose(sel(others[2], "select.decision"), "revoke")
	tab.Choose(sel(others[2], "select.decision"), "")
	tab.Type("#reviewer", decideReviewer)
	name, data := tab.Download("#download-decisions")
	after := time.Now()

	if name != "decisions.csv" {
		t.Errorf("downloaded %q, want decisions.csv", name)
	}
	header := strings.Join(decisions.Columns, ",") + "\r\n"
	if !bytes.HasPrefix(data, []byte(header)) {
		t.Errorf("the file does not start with the header %q:\n%s", header, data)
	}
	// Neutralised as the program writes CSV: a spreadsheet shows these
	// cells as text.
	for _, cell := range []string{`"'=HYPERLINK(""http://x.example"")<b>'x'</b>"`, `"'@SUM(1)""<i>g</i>"",-x"`, `"'+Rita ""QA"" O'Neil <b>"`} {
		if !bytes.Contains(data, []byte(","+cell+",")) {
			t.Errorf("the file lacks the cell %s:\n%s", cell, data)
		}
	}
	got, err := decisions.Read(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("the downloaded file is not a decisions file: %v\n%s", err, data)
	}
	if len(got) != len(want) {
		t.Errorf("%d decisions downloaded, %d marked:\n%s", len(got), len(want), data)
	}
	for _, d := range got {
		if d.DecidedAt.Before(before) || d.DecidedAt.After(after) {
			t.Errorf("%q in %q decided at %s, not while the test marked it (%s to %s)", d.Username, d.Group, d.DecidedAt, before, after)
		}
		w := want[d.Key()]
		d.DecidedAt, d.Line = time.Time{}, 0
		if d != w {
			t.Errorf("downloaded\n%+v\nmarked\n%+v", d, w)
		}
	}
	if c := tab.Console(); len(c) > 0 {
		t.Errorf("console messages: %q", c)
	}
	if r := tab.Requests(); len(r) > 0 {
		t.Errorf("the page made requests: %q", r)
	}

	decideControlsPrinted(t, tab)
	cspStillBlocks(t, tab)

	// The next review takes the file: the revoke is still a member (of
	// this same export: no previous one to compare with).
	file := filepath.Join(dir, "decisions.csv")
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	next := filepath.Join(dir, "next", "report.html")
	runReportCLI(t, exp, "--decisions", file, "--output", next)
	notApplied, _ := readReport(t, filepath.Join(dir, "next", "report.json")).rows(t, "REVOKE_NOT_APPLIED")
	if w := []string{decideUser + "|" + rows[hostile][2] + "|" + decideGroup}; !slices.Equal(notApplied, w) {
		t.Errorf("the next review's REVOKE_NOT_APPLIED: %q, want %q", notApplied, w)
	}
}

// decideControls are the elements of the decisions' controls: the
// section, the reviewer field, the button and each row's choice.
const decideControls = `["#decide", "#reviewer", "#download-decisions", "th.decision", "td.decision", "select.decision", "textarea.comment"]
	.flatMap(s => Array.from(document.querySelectorAll(s)))`

// decideControlsPrinted: on screen every control is drawn; printed, none.
func decideControlsPrinted(t *testing.T, tab *chromium.Tab) {
	t.Helper()
	var drawn []bool
	tab.Eval(decideControls+`.map(e => e.getClientRects().length > 0)`, &drawn)
	if len(drawn) < 7 || slices.Contains(drawn, false) {
		t.Errorf("on screen, %d of %d controls are not drawn", count(drawn, false), len(drawn))
	}
	tab.EmulateMedia("print")
	tab.Eval(decideControls+`.map(e => e.getClientRects().length > 0)`, &drawn)
	if len(drawn) < 7 || slices.Contains(drawn, true) {
		t.Errorf("printed, %d of %d controls are drawn", count(drawn, true), len(drawn))
	}
	tab.EmulateMedia("")
}

// cspStillBlocks: with the decisions' script running, markup put into the
// page still can neither run a script nor load an image, and the console
// says why (so a quiet console above means nothing was blocked).
func cspStillBlocks(t *testing.T, tab *chromium.Tab) {
	t.Helper()
	tab.Eval(`(() => { const s = document.createElement("script"); s.textContent = "window.pwned = 1"; document.body.appendChild(s);
		const i = document.createElement("img"); i.src = "https://example.com/pixel.png"; document.body.appendChild(i); })()`, nil)
	var pwned bool
	tab.Eval(`window.pwned === 1`, &pwned)
	if b := tab.Blocked(); pwned || len(tab.Requests()) > 0 || !slices.Equal(b, []string{"https://example.com/pixel.png"}) {
		t.Errorf("the CSP let an injected script run (%v) or an image load (requested %q, blocked %q)", pwned, tab.Requests(), b)
	}
	var blocked int
	for _, c := range tab.Console() {
		if strings.Contains(c, "Content Security Policy") {
			blocked++
		}
	}
	if blocked < 2 {
		t.Errorf("the console shows %d CSP violations, want the script's and the image's: %q", blocked, tab.Console())
	}
}

func count(bs []bool, v bool) int {
	n := 0
	for _, b := range bs {
		if b == v {
			n++
		}
	}
	return n
}
