package report

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"strconv"
	"strings"
)

//go:embed assets/report.html.tmpl
var pageTemplate string

// The page's only script and stylesheet, inlined. They are constants of
// this program, never data: they alone go into the page as trusted
// template.JS and template.CSS, and the CSP names their hashes.
var (
	//go:embed assets/report.js
	script string
	//go:embed assets/report.css
	style string
)

var page = template.Must(template.New("report").Funcs(template.FuncMap{
	"thousands": thousands,
	"deref":     func(p *int32) int32 { return *p },
	"deref64":   func(p *int64) int64 { return *p },
	"pageRows": func(rows []FindingRow) []FindingRow {
		return rows[:min(len(rows), pageFindingRows)]
	},
	// hasUsers: a finding's rows name users (not only groups), so they get
	// the attribute columns.
	"hasUsers": func(rows []FindingRow) bool {
		return len(rows) > 0 && rows[0].Username != ""
	},
	// pad is a row's attributes as many cells as the header has.
	"pad": func(attrs []string, n int) []string {
		out := make([]string, n)
		copy(out, attrs)
		return out
	},
}).Parse(pageTemplate))

// pageFindingRows is how many rows of a finding the page shows; report.json
// has more (Options.MaxFindingRows), the export all.
const pageFindingRows = 200

// CSP is the page's Content-Security-Policy: nothing is loaded from
// anywhere, and only the page's own script and stylesheet run, by hash, so
// that markup injected by a value (were escaping ever to fail) could
// neither run a script nor fetch anything.
func CSP() string {
	return "default-src 'none'; script-src '" + hash(script) + "'; style-src '" + hash(style) +
		"'; img-src 'none'; base-uri 'none'; form-action 'none'"
}

func hash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
}

// view is what the template gets: the report and what is drawn from it.
type view struct {
	R            *Report
	CSP          string
	Script       template.JS
	Style        template.CSS
	PageRows     int
	MembersChart barChart
	StatusChart  barChart
	ChangeChart  *changeChart
	Others       struct{ Groups, Memberships int64 }
	Query        string
}

// WriteHTML writes the page. Every value from the export goes through
// html/template's contextual escaping; nothing is concatenated into markup.
func WriteHTML(w io.Writer, r *Report) error {
	v := view{R: r, CSP: CSP(), Script: template.JS(script), Style: template.CSS(style), PageRows: pageFindingRows}
	var members, statuses []bar
	for _, g := range r.Groups {
		members = append(members, bar{Label: g.Name, Value: g.Members})
		if !g.Privileged {
			v.Others.Groups++
			v.Others.Memberships += g.Members
		}
	}
	for _, s := range r.Statuses {
		statuses = append(statuses, bar{Label: s.Name, Value: s.Count})
	}
	v.MembersChart = newBarChart("Members per group", members)
	v.StatusChart = newBarChart("Users by status", statuses)
	if r.Previous != nil {
		v.ChangeChart = newChangeChart("Memberships added and removed per group since the previous export", r.Groups)
	}
	v.Query = duckdbQuery(r)
	var buf bytes.Buffer
	if err := page.Execute(&buf, v); err != nil {
		return fmt.Errorf("render the report: %w", err)
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// duckdbQuery tells a reader how to get the rows the page leaves out.
func duckdbQuery(r *Report) string {
	loc := strings.TrimSuffix(r.Export.Location, "/")
	fn, ext := "read_parquet", "parquet"
	if r.Export.Format == "csv" {
		fn, ext = "read_csv", "csv"
	}
	return fmt.Sprintf("SELECT * FROM %s('%s/part-*.%s') WHERE group_name = '…'", fn, strings.ReplaceAll(loc, "'", "''"), ext)
}

// WriteJSON writes report.json.
func WriteJSON(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("encode report.json: %w", err)
	}
	return nil
}

// thousands prints n with commas: 173,570.
func thousands(n int64) string {
	if n < 0 {
		return "-" + thousands(-n)
	}
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
