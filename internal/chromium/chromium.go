// Package chromium lets tests open a page in a real browser: Debian's
// headless Chromium (/usr/bin/chromium, installed by
// scripts/install-test-deps.sh), driven by its command line, so the page is
// judged by the engine a reviewer opens it with.
package chromium

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/cognito-export/cognito-export/internal/peer"
)

// Path is where Debian's chromium package puts the browser.
const Path = "/usr/bin/chromium"

// InstallHint says how to make Require pass.
const InstallHint = "run scripts/install-test-deps.sh (apt-get install chromium)"

// Require skips or fails t when Chromium is missing: a skip under -short,
// a failure when COGNITO_EXPORT_REQUIRE_PEERS=1.
func Require(t testing.TB) {
	t.Helper()
	peer.Start(t, "Chromium")
	if err := check(Path); err != nil {
		peer.Missing(t, err)
	}
}

// check says why the browser at path cannot be used, or nil.
func check(path string) error {
	if err := exec.Command(path, "--version").Run(); err != nil {
		return fmt.Errorf("chromium: %s does not run (%v): %s", path, err, InstallHint)
	}
	return nil
}

// Page is what loading a page showed.
type Page struct {
	DOM string // the DOM after the page's scripts ran (--dump-dom)
	// Console are the console messages, CSP violations included.
	Console []string
	// Requests are the URLs the page asked the network for; the
	// browser's own traffic (updates, sign-in) is left out.
	Requests []string
}

// flags keep the browser's own traffic down and its state in a temporary
// profile; the net log still has some, which Load tells apart.
var flags = []string{
	"--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
	"--disable-component-update", "--disable-sync", "--disable-default-apps", "--disable-extensions", "--no-pings",
	"--disable-domain-reliability", "--disable-features=Translate,OptimizationHints,MediaRouter,SpellCheck",
	"--hide-scrollbars", "--run-all-compositor-stages-before-draw",
}

func run(t testing.TB, extra ...string) (stdout, stderr []byte) {
	t.Helper()
	args := append(append([]string{"--user-data-dir=" + t.TempDir()}, flags...), extra...)
	cmd := exec.Command(Path, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %v: %v\n%s", extra, err, errb.String())
	}
	return out.Bytes(), errb.Bytes()
}

var consoleLine = regexp.MustCompile(`(?m)^\[[^\]]*:CONSOLE[^\]]*\] (.*)$`)

// Load opens file and returns its DOM, console and network requests.
func Load(t testing.TB, file string) Page {
	t.Helper()
	netlog := filepath.Join(t.TempDir(), "netlog.json")
	dom, stderr := run(t, "--enable-logging=stderr", "--v=0", "--log-net-log="+netlog, "--dump-dom", fileURL(file))
	p := Page{DOM: string(dom)}
	for _, m := range consoleLine.FindAllSubmatch(stderr, -1) {
		p.Console = append(p.Console, string(m[1]))
	}
	reqs, err := pageRequests(netlog)
	if err != nil {
		t.Fatalf("read chromium's net log: %v", err)
	}
	p.Requests = reqs
	return p
}

// pageRequests are the URLs of the requests made for a page loaded from a
// file: their network isolation key is the file:// site, where the
// browser's own requests have none or Google's.
func pageRequests(netlog string) ([]string, error) {
	data, err := os.ReadFile(netlog)
	if err != nil {
		return nil, err
	}
	// A log cut short by the browser's exit lacks its closing brackets.
	var log struct {
		Events []struct {
			Source struct{ ID int } `json:"source"`
			Params map[string]any   `json:"params"`
		} `json:"events"`
	}
	if err := json.Unmarshal(data, &log); err != nil {
		trimmed := strings.TrimRight(strings.TrimSpace(string(data)), ",")
		if err2 := json.Unmarshal([]byte(trimmed+"]}"), &log); err2 != nil {
			return nil, errors.Join(err, err2)
		}
	}
	urls := map[int]string{}
	page := map[int]bool{}
	for _, e := range log.Events {
		if u, ok := e.Params["url"].(string); ok {
			urls[e.Source.ID] = u
		}
		if k, ok := e.Params["network_isolation_key"].(string); ok && strings.Contains(k, "file://") {
			page[e.Source.ID] = true
		}
	}
	var out []string
	for id := range page {
		out = append(out, urls[id])
	}
	return out, nil
}

// Screenshot renders file to a PNG and returns its path.
func Screenshot(t testing.TB, file string, width, height int) string {
	t.Helper()
	png := filepath.Join(t.TempDir(), "page.png")
	run(t, fmt.Sprintf("--window-size=%d,%d", width, height), "--screenshot="+png, fileURL(file))
	return png
}

// PDF prints file as Print to PDF does and returns the PDF's path.
func PDF(t testing.TB, file string) string {
	t.Helper()
	pdf := filepath.Join(t.TempDir(), "page.pdf")
	run(t, "--no-pdf-header-footer", "--print-to-pdf="+pdf, fileURL(file))
	return pdf
}

func fileURL(file string) string {
	abs, err := filepath.Abs(file)
	if err != nil {
		abs = file
	}
	return "file://" + abs
}
