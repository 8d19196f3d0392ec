package chromium

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cognito-export/cognito-export/internal/cdp"
)

// Tab is a page open in a headless Chromium that a test drives as a user
// would, over the DevTools protocol: it clicks, types, downloads, and
// sees what the page logged and asked the network for.
type Tab struct {
	t       testing.TB
	b       *cdp.Browser
	session string
	url     string
	// downloads is where the browser saves what the page downloads.
	downloads string
}

// callTimeout bounds each call: a page that hangs fails the test instead
// of stalling it.
const callTimeout = time.Minute

// Open starts a browser, opens file in it and waits for the page's load
// event; the browser is closed when the test ends.
func Open(t testing.TB, file string) *Tab {
	t.Helper()
	b, err := cdp.Start(Path, append([]string{"--user-data-dir=" + t.TempDir()}, flags...)...)
	if err != nil {
		t.Fatal(err)
	}
	p := &Tab{t: t, b: b, url: fileURL(file), downloads: t.TempDir()}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("close chromium: %v\n%s", err, b.Stderr())
		}
	})
	var target struct {
		TargetID string `json:"targetId"`
	}
	p.call("", "Target.createTarget", map[string]any{"url": "about:blank"}, &target)
	var attached struct {
		SessionID string `json:"sessionId"`
	}
	p.call("", "Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true}, &attached)
	p.session = attached.SessionID
	for _, domain := range []string{"Page", "Runtime", "Log", "Network"} {
		p.call(p.session, domain+".enable", nil, nil)
	}
	p.call("", "Browser.setDownloadBehavior", map[string]any{"behavior": "allow", "downloadPath": p.downloads, "eventsEnabled": true}, nil)
	from := len(b.Events())
	var nav struct {
		ErrorText string `json:"errorText"`
	}
	p.call(p.session, "Page.navigate", map[string]any{"url": p.url}, &nav)
	if nav.ErrorText != "" {
		t.Fatalf("open %s: %s", p.url, nav.ErrorText)
	}
	p.wait(from, func(e cdp.Event) bool { return e.SessionID == p.session && e.Method == "Page.loadEventFired" })
	return p
}

func (p *Tab) call(session, method string, params, result any) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	if err := p.b.Call(ctx, session, method, params, result); err != nil {
		p.t.Fatalf("%v\n%s", err, p.b.Stderr())
	}
}

func (p *Tab) wait(from int, match func(cdp.Event) bool) cdp.Event {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	e, _, err := p.b.Wait(ctx, from, match)
	if err != nil {
		p.t.Fatalf("%v\n%s", err, p.b.Stderr())
	}
	return e
}

// Eval runs the JavaScript expression expr in the page (a promise is
// awaited) and decodes its value into out (nil to discard it). An
// exception fails the test.
func (p *Tab) Eval(expr string, out any) {
	p.t.Helper()
	var r struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		Exception *struct {
			Text      string `json:"text"`
			Exception struct {
				Description string `json:"description"`
			} `json:"exception"`
		} `json:"exceptionDetails"`
	}
	p.call(p.session, "Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true, "awaitPromise": true}, &r)
	if r.Exception != nil {
		p.t.Fatalf("evaluate %s: %s %s", expr, r.Exception.Text, r.Exception.Exception.Description)
	}
	if out != nil {
		if err := json.Unmarshal(r.Result.Value, out); err != nil {
			p.t.Fatalf("evaluate %s: decode %s: %v", expr, r.Result.Value, err)
		}
	}
}

// Click scrolls the element selector finds into view and clicks its
// middle with the mouse, as a user does (a trusted event, which a
// download needs).
func (p *Tab) Click(selector string) {
	p.t.Helper()
	var at struct{ X, Y float64 }
	p.Eval(fmt.Sprintf(`(() => { const e = document.querySelector(%s); e.scrollIntoView({block: "center"});
		const r = e.getBoundingClientRect(); return {X: r.x + r.width / 2, Y: r.y + r.height / 2}; })()`, quote(selector)), &at)
	for _, kind := range []string{"mousePressed", "mouseReleased"} {
		p.call(p.session, "Input.dispatchMouseEvent", map[string]any{"type": kind, "x": at.X, "y": at.Y, "button": "left", "clickCount": 1}, nil)
	}
}

// Type focuses the element selector finds and types text into it, as the
// keyboard would (Input.insertText: one input event, any characters).
func (p *Tab) Type(selector, text string) {
	p.t.Helper()
	p.Eval(fmt.Sprintf(`document.querySelector(%s).focus()`, quote(selector)), nil)
	p.call(p.session, "Input.insertText", map[string]any{"text": text}, nil)
	// A field's change event fires when it loses the focus.
	p.Eval(fmt.Sprintf(`document.querySelector(%s).blur()`, quote(selector)), nil)
}

// Choose picks value in the <select> that selector finds and fires the
// change event a user's choice fires. (Headless Chromium draws no popup
// to click an option in.)
func (p *Tab) Choose(selector, value string) {
	p.t.Helper()
	p.Eval(fmt.Sprintf(`(() => { const s = document.querySelector(%s); s.focus(); s.value = %s;
		if (s.value !== %[2]s) { throw new Error("no option " + %[2]s); }
		s.dispatchEvent(new Event("input", {bubbles: true})); s.dispatchEvent(new Event("change", {bubbles: true})); })()`,
		quote(selector), quote(value)), nil)
}

// Download clicks selector and returns the name and the bytes of the file
// the click downloaded, once the browser has saved all of it.
func (p *Tab) Download(selector string) (name string, data []byte) {
	p.t.Helper()
	from := len(p.b.Events())
	p.Click(selector)
	var begin struct {
		GUID              string `json:"guid"`
		SuggestedFilename string `json:"suggestedFilename"`
	}
	e := p.wait(from, func(e cdp.Event) bool { return e.Method == "Browser.downloadWillBegin" })
	if err := json.Unmarshal(e.Params, &begin); err != nil {
		p.t.Fatal(err)
	}
	var state string
	p.wait(from, func(e cdp.Event) bool {
		var pr struct{ GUID, State string }
		if e.Method != "Browser.downloadProgress" || json.Unmarshal(e.Params, &pr) != nil || pr.GUID != begin.GUID {
			return false
		}
		state = pr.State
		return pr.State != "inProgress"
	})
	if state != "completed" {
		p.t.Fatalf("download of %s: %s", begin.SuggestedFilename, state)
	}
	data, err := os.ReadFile(filepath.Join(p.downloads, begin.SuggestedFilename))
	if err != nil {
		p.t.Fatal(err)
	}
	return begin.SuggestedFilename, data
}

// EmulateMedia renders the page for media ("print", or "" for the
// screen), as print preview and Print to PDF do.
func (p *Tab) EmulateMedia(media string) {
	p.t.Helper()
	p.call(p.session, "Emulation.setEmulatedMedia", map[string]any{"media": media}, nil)
}

// Console is every message the page logged so far: console calls,
// uncaught exceptions, and the browser's own messages about the page
// (a CSP violation is one).
func (p *Tab) Console() []string {
	var out []string
	for _, e := range p.b.Events() {
		if e.SessionID != p.session {
			continue
		}
		switch e.Method {
		case "Runtime.consoleAPICalled":
			var c struct {
				Type string
				Args []struct {
					Value       any
					Description string
				}
			}
			_ = json.Unmarshal(e.Params, &c)
			var parts []string
			for _, a := range c.Args {
				parts = append(parts, fmt.Sprint(a.Value, a.Description))
			}
			out = append(out, c.Type+": "+strings.Join(parts, " "))
		case "Runtime.exceptionThrown":
			out = append(out, "exception: "+string(e.Params))
		case "Log.entryAdded":
			var l struct {
				Entry struct{ Level, Source, Text string }
			}
			_ = json.Unmarshal(e.Params, &l)
			out = append(out, l.Entry.Level+" ("+l.Entry.Source+"): "+l.Entry.Text)
		}
	}
	return out
}

// Requests are the URLs the page asked the network for so far, other than
// the page itself and the blob: URLs of what it built in memory. A
// request the page's CSP blocked never left the browser: it is one of
// Blocked, not of these.
func (p *Tab) Requests() []string {
	all, blocked := p.requests()
	return slices.DeleteFunc(all, func(u string) bool { return slices.Contains(blocked, u) })
}

// Blocked are the URLs of the requests the page's CSP stopped.
func (p *Tab) Blocked() []string {
	_, blocked := p.requests()
	return blocked
}

func (p *Tab) requests() (all, blocked []string) {
	urls := map[string]string{} // by request id
	for _, e := range p.b.Events() {
		if e.SessionID != p.session {
			continue
		}
		var r struct {
			RequestID     string `json:"requestId"`
			Request       struct{ URL string }
			BlockedReason string `json:"blockedReason"`
		}
		_ = json.Unmarshal(e.Params, &r)
		switch e.Method {
		case "Network.requestWillBeSent":
			if u := r.Request.URL; u != p.url && !strings.HasPrefix(u, "blob:") {
				urls[r.RequestID] = u
				all = append(all, u)
			}
		case "Network.loadingFailed":
			if u, ok := urls[r.RequestID]; ok && r.BlockedReason == "csp" {
				blocked = append(blocked, u)
			}
		}
	}
	return all, blocked
}

// quote is s as a JavaScript string literal.
func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
