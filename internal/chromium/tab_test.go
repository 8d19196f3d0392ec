package chromium

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
)

// tabScript logs a line, and on the button's click builds a file in
// memory and downloads it, as the report's decisions do.
const tabScript = `console.log("loaded");
document.getElementById("dl").addEventListener("click", function () {
  var a = document.getElementById("a");
  a.href = URL.createObjectURL(new Blob([document.getElementById("who").value + ",\"q\"\r\n"], {type: "text/csv"}));
  a.click();
});`

// TestTabDrivesAPage: a page under a hash-based CSP opens, logs, takes
// typed text, downloads the Blob its script builds on a real click; the
// CSP stops an injected inline script and an image from a server, and the
// tab sees both: the violation in its console, and no request made.
func TestTabDrivesAPage(t *testing.T) {
	t.Parallel()
	Require(t)
	sum := sha256.Sum256([]byte(tabScript))
	csp := "default-src 'none'; script-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'; img-src 'none'"
	page := filepath.Join(t.TempDir(), "page.html")
	html := `<!doctype html><html><head><meta http-equiv="Content-Security-Policy" content="` + csp + `"><title>t</title></head><body>
<input id="who"><button id="dl" type="button">Download</button><a id="a" download="out.csv" hidden>f</a>
<script>` + tabScript + `</script></body></html>`
	if err := os.WriteFile(page, []byte(html), 0o644); err != nil {
		t.Fatal(err)
	}
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()

	tab := Open(t, page)
	tab.Type("#who", "Zoë, \"the\" reviewer")
	name, data := tab.Download("#dl")
	if want := "Zoë, \"the\" reviewer,\"q\"\r\n"; name != "out.csv" || string(data) != want {
		t.Errorf("downloaded %q: %q, want out.csv: %q", name, data, want)
	}
	if c := tab.Console(); !slices.Equal(c, []string{"log: loaded"}) {
		t.Errorf("console %q, want the page's one line", c)
	}
	if r := tab.Requests(); len(r) > 0 {
		t.Errorf("requests %q", r)
	}

	tab.Eval(`(() => { const s = document.createElement("script"); s.textContent = "window.ran = 1"; document.body.appendChild(s);
		const i = document.createElement("img"); i.src = `+quote(srv.URL+"/pixel.png")+`; document.body.appendChild(i); })()`, nil)
	var ran bool
	tab.Eval(`window.ran === 1`, &ran)
	if b := tab.Blocked(); len(b) != 1 || !strings.HasSuffix(b[0], "/pixel.png") || len(tab.Requests()) > 0 {
		t.Errorf("blocked %q, requested %q: want the image blocked", b, tab.Requests())
	}
	if ran || hits.Load() > 0 {
		t.Errorf("the CSP let an injected script run (%v) or an image load (%d requests)", ran, hits.Load())
	}
	var csps int
	for _, c := range tab.Console() {
		if strings.Contains(c, "Content Security Policy") {
			csps++
		}
	}
	if csps < 2 {
		t.Errorf("the console shows %d CSP violations, want the script's and the image's: %q", csps, tab.Console())
	}
}
