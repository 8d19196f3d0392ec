package main

import (
	"fmt"
	"html"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/cognito-export/cognito-export/internal/chromium"
	"github.com/cognito-export/cognito-export/internal/cognitoemu"
	"github.com/cognito-export/cognito-export/internal/duckdb"
	"github.com/cognito-export/cognito-export/internal/sshkeygen"
)

// hostileGroups are group names Cognito accepts (no spaces) that would run
// script if a page put them into markup unescaped: each would set the
// title, which the DOM after load shows.
var hostileGroups = []string{`<script>document.title='PWNED'</script>`, `"><img/src=x/onerror=document.title='PWNED'>`}

const hostileName = `"><img src=x onerror="document.title='PWNED'"><script>document.title='PWNED'</script>`

// hostileUsers are the usernames: markup that would run alert(1).
// Cognito's usernames hold no spaces ([\p{L}\p{M}\p{S}\p{N}\p{P}]+), so
// the issue's `"><img src=x onerror=alert(1)>` is a username with slashes
// for spaces (the same attack to an HTML parser), and, spaces and all, a
// user's name attribute.
var hostileUsers = []string{`<script>alert(1)</script>`, `"><img/src=x/onerror=alert(1)>`}

const hostileImg = `"><img src=x onerror=alert(1)>`

var (
	dataCount   = regexp.MustCompile(`data-finding="([A-Z_]+)" data-count="(\d+)"`)
	groupCount  = regexp.MustCompile(`data-group="([^"]*)" data-members="(\d+)"`)
	headerCount = regexp.MustCompile(`class="(users|memberships)" data-count="(\d+)"`)
)

// TestReportInBrowser opens the report of an export with hostile group
// names and attributes in headless Chromium: no console message (a CSP
// violation would be one), no request, nothing injected runs, and every
// count the page shows is DuckDB's over the same export. It prints to PDF
// and renders a screenshot.
func TestReportInBrowser(t *testing.T) {
	t.Parallel()
	chromium.Require(t)
	duckdb.Require(t)
	sshkeygen.Require(t)
	base := cognitoemu.NewPool(cognitoemu.PoolSpec{Users: 1500, Groups: 12, Seed: 4})
	arn := "arn:aws:iam::123456789012:role/<b>hostile</b>"
	n := base.NumUsers()
	m := cognitoemu.Mutations{
		SetAttributes: []cognitoemu.AttributeChange{{User: 0, Name: "name", Value: hostileName}, {User: n, Name: "name", Value: hostileImg},
			{User: n + 1, Name: "email", Value: `x"><script>alert(1)</script>@example.com`}},
		AddUsers: []cognitoemu.NewUser{{Username: hostileUsers[0]}, {Username: hostileUsers[1]}},
	}
	for _, g := range hostileGroups {
		m.AddGroups = append(m.AddGroups, cognitoemu.NewGroup{Name: g, RoleArn: &arn, Description: &arn, Members: []int{0, 1, 2, n, n + 1}})
	}
	pool, err := base.Mutate(m)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	exp := filepath.Join(dir, "export")
	key := sshkeygen.Generate(t, dir, "auditkey")
	allowed := sshkeygen.AllowedSigners(t, dir, "audit@example.com", key)
	exportTo(t, serveEmu(t, pool), pool.ID(), exp, "--signing-key", key.Private)
	page := filepath.Join(dir, "report.html")
	runReportCLI(t, exp, "--output", page, "--max-groups-per-user", "3", "--allowed-signers", allowed, "--signer-identity", "audit@example.com")
	src, _ := os.ReadFile(page)
	if strings.Contains(string(src), "PWNED'>") || strings.Count(string(src), "<script") != 1 {
		t.Fatal("the page's markup holds a hostile value unescaped")
	}

	p := chromium.Load(t, page)
	if len(p.Console) > 0 {
		t.Errorf("console messages: %q", p.Console)
	}
	if len(p.Requests) > 0 {
		t.Errorf("the page made requests: %q", p.Requests)
	}
	if strings.Contains(p.DOM, "<title>PWNED") || strings.Count(p.DOM, "<script") != 1 || strings.Contains(p.DOM, "<img") {
		t.Errorf("hostile values ran or were injected: title %q, %d scripts, img %v", title(p.DOM),
			strings.Count(p.DOM, "<script"), strings.Contains(p.DOM, "<img"))
	}
	// Shown as text: a text node, which the browser serialises with only
	// &, < and > escaped (markup would come out unescaped).
	asText := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")
	for _, v := range append([]string{hostileName, hostileImg}, hostileUsers...) {
		if !strings.Contains(p.DOM, ">"+asText.Replace(v)+"<") {
			t.Errorf("%q is not shown as text", v)
		}
	}
	if !strings.Contains(p.DOM, `<button type="button" class="sort">`) {
		t.Error("the script did not run: no sort buttons")
	}
	// Decisions: every decidable row (a privileged member, a finding row
	// naming a membership) gets a keep/revoke choice, under the same CSP;
	// the note for a page without its script is hidden.
	if n, want := strings.Count(p.DOM, `<td class="decision"><select class="decision"`), strings.Count(string(src), `<tr class="decidable">`); n != want || want == 0 {
		t.Errorf("%d rows with a decision choice, %d decidable rows", n, want)
	}
	if !strings.Contains(p.DOM, `<p id="decide-noscript" hidden="">`) || strings.Contains(p.DOM, `<div id="decide-controls" hidden`) {
		t.Error("with its script the page still says decisions need it, or hides the controls")
	}
	// The header says who signed the export, by ssh-keygen's own
	// fingerprint of the key, and that the signer was checked.
	fp := sshkeygen.Fingerprint(t, key)
	if !strings.Contains(p.DOM, `<dd class="signature" data-signed="true" data-checked="true">signed by key <code class="signing-key">`+fp+`</code>; checked: `) ||
		!strings.Contains(p.DOM, `<code>audit@example.com</code>`) {
		t.Errorf("the header does not say the export is signed by %s and checked", fp)
	}

	// Every count the page shows, against DuckDB's over the same files.
	parts := duckdb.Quote(filepath.Join(exp, "part-*.parquet"))
	q := func(sql string) int64 {
		res := duckdb.Query(t, fmt.Sprintf(sql, parts))
		n, _ := strconv.ParseInt(fmt.Sprint(res.Rows[0][0]), 10, 64)
		return n
	}
	roleStatus := "group_role_arn IS NOT NULL AND user_status IN ('UNCONFIRMED','RESET_REQUIRED','FORCE_CHANGE_PASSWORD','COMPROMISED','UNKNOWN')"
	want := map[string]int64{
		"users":                       q(`SELECT count(*) FROM (SELECT DISTINCT username, user_sub FROM read_parquet(%s))`),
		"memberships":                 q(`SELECT count(group_name) FROM read_parquet(%s)`),
		"DISABLED_WITH_GROUPS":        q(`SELECT count(*) FROM read_parquet(%s) WHERE NOT user_enabled AND group_name IS NOT NULL`),
		"PRIVILEGED_NOT_CONFIRMED":    q(`SELECT count(*) FROM read_parquet(%s) WHERE ` + roleStatus),
		"UNVERIFIED_EMAIL_PRIVILEGED": q(`SELECT count(*) FROM read_parquet(%s) WHERE group_role_arn IS NOT NULL AND NOT email_verified`),
		"TOO_MANY_GROUPS":             q(`SELECT count(*) FROM (SELECT username, user_sub FROM read_parquet(%s) GROUP BY ALL HAVING count(group_name) > 3)`),
	}
	got := map[string]int64{}
	for _, m := range headerCount.FindAllStringSubmatch(p.DOM, 2) {
		got[m[1]], _ = strconv.ParseInt(m[2], 10, 64)
	}
	for _, m := range dataCount.FindAllStringSubmatch(p.DOM, -1) {
		got[m[1]], _ = strconv.ParseInt(m[2], 10, 64)
	}
	for k, w := range want {
		if got[k] != w || w == 0 {
			t.Errorf("%s: the page shows %d, DuckDB counts %d", k, got[k], w)
		}
	}
	res := duckdb.Query(t, fmt.Sprintf(`SELECT group_name, count(*) FROM read_parquet(%s) WHERE group_name IS NOT NULL GROUP BY ALL`, parts))
	groups := map[string]string{}
	for _, m := range groupCount.FindAllStringSubmatch(p.DOM, -1) {
		groups[html.UnescapeString(m[1])] = m[2]
	}
	for _, row := range res.Rows {
		if name := row[0].(string); groups[name] != fmt.Sprint(row[1]) {
			t.Errorf("group %q: the page shows %q members, DuckDB counts %v", name, groups[name], row[1])
		}
	}
	if len(res.Rows) < 12 {
		t.Errorf("DuckDB sees %d groups", len(res.Rows))
	}

	png := chromium.Screenshot(t, page, 1280, 2000)
	pdf := chromium.PDF(t, page)
	for _, f := range []string{png, pdf} {
		if st, err := os.Stat(f); err != nil || st.Size() < 10_000 {
			t.Errorf("%s: %v, want a file of some size", f, err)
		}
	}
	if b, _ := os.ReadFile(pdf); !strings.HasPrefix(string(b), "%PDF-") || len(pdfPage.FindAll(b, -1)) < 2 {
		t.Errorf("the PDF is not a PDF of several pages (%d)", len(pdfPage.FindAll(b, -1)))
	}
	// Printed, the controls the script adds are hidden and rows a filter
	// hid are shown again.
	print := printRules.FindString(string(src))
	for _, rule := range []string{"label.filter", "display: none", "tr[hidden] { display: table-row; }", "thead { display: table-header-group; }"} {
		if !strings.Contains(print, rule) {
			t.Errorf("the page's print stylesheet lacks %q: %q", rule, print)
		}
	}
	noScript(t, page, p.DOM)
}

var (
	pdfPage    = regexp.MustCompile(`/Type\s*/Page\b`)
	printRules = regexp.MustCompile(`(?s)@media print \{.*?\n\}`)
)

// noScript: without its script the page holds every count, group and row
// the page with it does; the script only adds the sort buttons and the
// filter. The page is loaded with its script element removed: Chromium
// with JavaScript off (--blink-settings=scriptEnabled=false) prints no DOM
// at all, as --dump-dom itself runs script.
func noScript(t *testing.T, page, withScript string) {
	t.Helper()
	src, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	bare := filepath.Join(t.TempDir(), "noscript.html")
	if err := os.WriteFile(bare, scriptElement.ReplaceAll(src, nil), 0o644); err != nil {
		t.Fatal(err)
	}
	p := chromium.Load(t, bare)
	if strings.Contains(p.DOM, `class="sort"`) || strings.Contains(p.DOM, `class="filter"`) {
		t.Fatal("the script ran with JavaScript off")
	}
	if strings.Contains(p.DOM, `<p id="decide-noscript" hidden`) || !strings.Contains(p.DOM, `<div id="decide-controls" hidden`) ||
		!strings.Contains(p.DOM, "decisions-template.csv") {
		t.Error("without scripts the page does not say decisions need its script or the template")
	}
	for _, re := range []*regexp.Regexp{dataCount, groupCount, headerCount, tableRow} {
		got, want := re.FindAllString(p.DOM, -1), re.FindAllString(withScript, -1)
		if len(want) == 0 || !slices.Equal(got, want) {
			t.Errorf("without scripts the page has %d of %q, with them %d", len(got), re, len(want))
		}
	}
}

// tableRow is a row of a table's body, whichever table.
var (
	tableRow      = regexp.MustCompile(`<tr[^>]*><td`)
	scriptElement = regexp.MustCompile(`(?s)<script.*?</script>`)
)

func title(dom string) string {
	_, after, _ := strings.Cut(dom, "<title>")
	t, _, _ := strings.Cut(after, "</title>")
	return t
}
