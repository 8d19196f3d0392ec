// Package faultproxy is a test peer: an HTTP proxy in front of an S3 server
// (versitygw, from internal/s3server) that fails a share of the requests
// along the way, the way S3 does under load: 500 InternalError and 503
// SlowDown with S3's XML error bodies, connections reset in the middle of
// an upload or of a response, a response lost after the server did the
// work, slow answers, and an outage that outlasts any retry. What it does
// is decided from a seed, so that a failing run can be run again, and
// counted per operation and kind, so that a test can prove the faults
// happened.
//
// Requests pass through unchanged (method, path, query, headers, Host and
// body), so SigV4 signatures stay valid: the proxy never needs the keys.
package faultproxy

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"io"
	"maps"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// Kind is what the proxy did to a request.
type Kind string

const (
	// Pass is a request forwarded and answered unchanged.
	Pass Kind = "Pass"
	// InternalError is answered 500 InternalError; nothing is forwarded.
	InternalError Kind = "InternalError"
	// SlowDown is answered 503 SlowDown; nothing is forwarded.
	SlowDown Kind = "SlowDown"
	// ResetRequest reads half of the request body (none when it has
	// none), then resets the connection without an answer: an upload cut
	// in the middle. Nothing is forwarded.
	ResetRequest Kind = "ResetRequest"
	// LoseResponse forwards the request, so the server does the work,
	// then resets the connection before any answer: a response lost on
	// the way back.
	LoseResponse Kind = "LoseResponse"
	// ResetResponse forwards the request and resets the connection after
	// the headers and half of the response's body. A response without a
	// body is lost whole and counted as LoseResponse.
	ResetResponse Kind = "ResetResponse"
	// Delay forwards the request after Config.Latency.
	Delay Kind = "Delay"
	// NoSuchUpload is answered 404 NoSuchUpload; nothing is forwarded.
	// Planned after a LoseResponse of CompleteMultipartUpload, it is S3's
	// answer to the retry of a completion that took place.
	NoSuchUpload Kind = "NoSuchUpload"
	// Outage is a 503 SlowDown answered while an outage lasts.
	Outage Kind = "Outage"
)

// drawn are the kinds a share may ask for, in the order a draw walks them.
var drawn = []Kind{InternalError, SlowDown, ResetRequest, LoseResponse, ResetResponse, Delay}

// Shares is the share of requests (0..1) answered with each kind; the
// rest pass. Their sum must not pass 1.
type Shares map[Kind]float64

// Planned is one fault at a known place: the Nth request (1-based,
// retries included) of Op whose key ends in Suffix.
type Planned struct {
	Op     Op
	Suffix string
	N      int
	Kind   Kind
}

// Trigger starts an outage after the Nth successful (2xx) request of Op
// whose key ends in Suffix: from then on every request is answered 503
// SlowDown until Heal.
type Trigger struct {
	Op     Op
	Suffix string
	N      int
}

// Config says which faults to inject.
type Config struct {
	// Seed makes the draws: the same seed and the same requests give the
	// same faults, whatever the order in which concurrent requests come.
	Seed uint64
	// Shares apply to every operation that PerOp does not name.
	Shares Shares
	PerOp  map[Op]Shares
	// Latency is how long a Delay holds a request back.
	Latency time.Duration
	// Plan places faults that must happen, beside the drawn ones.
	Plan []Planned
	// OutageAfter, when set, starts an outage.
	OutageAfter *Trigger
	// Conditionals, when set, plays a server without S3's conditional
	// writes (a PutObject with If-None-Match or If-Match).
	Conditionals Conditionals
}

// Conditionals is how a server without conditional writes answers one.
type Conditionals string

const (
	// ConditionalsNotImplemented answers 501 NotImplemented, as S3 did
	// before it had conditional writes; nothing is forwarded.
	ConditionalsNotImplemented Conditionals = "NotImplemented"
	// ConditionalsIgnored forwards the write and turns the server's 412
	// PreconditionFailed into a success: a server that ignores the
	// headers, and overwrites. (The write itself is refused by versitygw,
	// which honours them; the client cannot tell.)
	ConditionalsIgnored Conditionals = "Ignored"
)

// Proxy is a running fault-injecting proxy.
type Proxy struct {
	// URL is the proxy's endpoint, to use in place of the server's.
	URL string

	cfg    Config
	target string
	client *http.Client

	mu       sync.Mutex
	seen     map[string]uint64 // attempts per request identity
	planned  []int             // matches so far per Plan entry
	triggers int               // matches so far of OutageAfter
	outage   bool
	counts   map[Op]map[Kind]int
	requests int
}

// Start runs a proxy in front of target (http://host:port) until the test
// ends.
func Start(t testing.TB, target string, cfg Config) *Proxy {
	t.Helper()
	var sum float64
	for _, s := range append([]Shares{cfg.Shares}, slices.Collect(maps.Values(cfg.PerOp))...) {
		sum = 0
		for k, v := range s {
			if !slices.Contains(drawn, k) || v < 0 {
				t.Fatalf("faultproxy: share %v of %s: not a kind a share can ask for", v, k)
			}
			sum += v
		}
		if sum > 1 {
			t.Fatalf("faultproxy: shares %v add up to more than 1", s)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{
		URL: "http://" + ln.Addr().String(), cfg: cfg, target: strings.TrimSuffix(target, "/"),
		// Its own transport: the answer the client gets is the server's,
		// uncompressed and unchanged.
		client: &http.Client{Transport: &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 16}},
		seen:   map[string]uint64{}, planned: make([]int, len(cfg.Plan)), counts: map[Op]map[Kind]int{},
	}
	srv := &http.Server{Handler: p}
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.Serve(ln)
	}()
	t.Cleanup(func() {
		srv.Close()
		<-done
		p.client.CloseIdleConnections()
	})
	return p
}

// Heal ends an outage, and any trigger that would start one.
func (p *Proxy) Heal() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.outage = false
	p.cfg.OutageAfter = nil
}

// Count is the number of requests of op answered with kind.
func (p *Proxy) Count(op Op, kind Kind) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.counts[op][kind]
}

// Faults is the number of requests of any operation answered with kind.
func (p *Proxy) Faults(kind Kind) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, c := range p.counts {
		n += c[kind]
	}
	return n
}

// Requests is the number of requests of op, or of every operation for "".
func (p *Proxy) Requests(op Op) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if op == "" {
		return p.requests
	}
	n := 0
	for _, v := range p.counts[op] {
		n += v
	}
	return n
}

// String sums up what the proxy did, one operation a line.
func (p *Proxy) String() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var b strings.Builder
	for _, op := range slices.Sorted(maps.Keys(p.counts)) {
		fmt.Fprintf(&b, "%s:", op)
		for _, k := range slices.Sorted(maps.Keys(p.counts[op])) {
			if n := p.counts[op][k]; n > 0 {
				fmt.Fprintf(&b, " %s=%d", k, n)
			}
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// decide picks what to do with a request and counts it.
func (p *Proxy) decide(op Op, key string, r *http.Request) Kind {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.requests++
	kind := p.pick(op, key, r)
	if p.counts[op] == nil {
		p.counts[op] = map[Kind]int{}
	}
	p.counts[op][kind]++
	return kind
}

func (p *Proxy) pick(op Op, key string, r *http.Request) Kind {
	if p.outage {
		return Outage
	}
	kind := Kind("")
	for i, pl := range p.cfg.Plan {
		if pl.Op == op && strings.HasSuffix(key, pl.Suffix) {
			if p.planned[i]++; p.planned[i] == pl.N && kind == "" {
				kind = pl.Kind
			}
		}
	}
	if kind != "" {
		return kind
	}
	shares, ok := p.cfg.PerOp[op]
	if !ok {
		shares = p.cfg.Shares
	}
	if len(shares) == 0 {
		return Pass
	}
	// The identity of a request leaves out the upload id, which the
	// server draws anew on every run; the attempt number makes a retry a
	// new draw.
	q := r.URL.Query()
	q.Del("uploadId")
	id := r.Method + " " + r.URL.Path + "?" + q.Encode() + " " + r.Header.Get("Range")
	n := p.seen[id]
	p.seen[id]++
	u := draw(p.cfg.Seed, id, n)
	for _, k := range drawn {
		if u < shares[k] {
			return k
		}
		u -= shares[k]
	}
	return Pass
}

// draw is a number in [0, 1) fixed by the seed, the request's identity
// and its attempt.
func draw(seed uint64, id string, attempt uint64) float64 {
	h := fnv.New64a()
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], seed)
	binary.LittleEndian.PutUint64(b[8:], attempt)
	h.Write(b[:])
	io.WriteString(h, id)
	// splitmix64's finaliser spreads FNV's weak low bits.
	x := h.Sum64()
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return float64(x>>11) / (1 << 53)
}

// succeeded counts a 2xx answer towards the outage trigger.
func (p *Proxy) succeeded(op Op, key string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	tr := p.cfg.OutageAfter
	if tr == nil || tr.Op != op || !strings.HasSuffix(key, tr.Suffix) {
		return
	}
	if p.triggers++; p.triggers == tr.N {
		p.outage = true
	}
}

func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	op, key := classify(r)
	conditional := op == PutObject && (r.Header.Get("If-None-Match") != "" || r.Header.Get("If-Match") != "")
	if conditional && p.cfg.Conditionals == ConditionalsNotImplemented {
		p.fail(w, r, http.StatusNotImplemented, "NotImplemented", "A header you provided implies functionality that is not implemented")
		return
	}
	kind := p.decide(op, key, r)
	switch kind {
	case InternalError:
		p.fail(w, r, http.StatusInternalServerError, "InternalError", "We encountered an internal error. Please try again.")
		return
	case SlowDown, Outage:
		p.fail(w, r, http.StatusServiceUnavailable, "SlowDown", "Please reduce your request rate.")
		return
	case NoSuchUpload:
		p.fail(w, r, http.StatusNotFound, "NoSuchUpload", "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.")
		return
	case ResetRequest:
		if r.ContentLength > 0 {
			io.CopyN(io.Discard, r.Body, r.ContentLength/2)
		}
		reset(w)
		return
	case Delay:
		select {
		case <-time.After(p.cfg.Latency):
		case <-r.Context().Done():
			return
		}
	}
	resp, err := p.forward(r)
	if err != nil {
		http.Error(w, "faultproxy: "+err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 == 2 {
		p.succeeded(op, key)
	}
	switch kind {
	case LoseResponse:
		io.Copy(io.Discard, resp.Body)
		reset(w)
		return
	case ResetResponse:
		p.cut(w, r, op, resp)
		return
	}
	if conditional && p.cfg.Conditionals == ConditionalsIgnored && resp.StatusCode == http.StatusPreconditionFailed {
		io.Copy(io.Discard, resp.Body)
		w.Header().Set("ETag", `"faultproxy-ignored-condition"`)
		w.WriteHeader(http.StatusOK)
		return
	}
	copyHeader(w.Header(), resp.Header)
	w.WriteHeader(resp.StatusCode)
	io.Copy(w, resp.Body)
}

// cut sends the headers and half of the body, then resets the connection.
func (p *Proxy) cut(w http.ResponseWriter, r *http.Request, op Op, resp *http.Response) {
	body := resp.Body
	size := resp.ContentLength
	if size < 0 {
		data, err := io.ReadAll(resp.Body)
		if err != nil {
			reset(w)
			return
		}
		body, size = io.NopCloser(strings.NewReader(string(data))), int64(len(data))
	}
	if size == 0 || r.Method == http.MethodHead {
		p.mu.Lock()
		p.counts[op][ResetResponse]--
		p.counts[op][LoseResponse]++
		p.mu.Unlock()
		reset(w)
		return
	}
	copyHeader(w.Header(), resp.Header)
	w.Header().Set("Content-Length", fmt.Sprint(size))
	w.WriteHeader(resp.StatusCode)
	io.CopyN(w, body, size/2)
	http.NewResponseController(w).Flush()
	reset(w)
}

// forward sends the request on as it came: the same method, path, query,
// headers, Host and body, so that its signature still holds.
func (p *Proxy) forward(r *http.Request) (*http.Response, error) {
	var body io.Reader
	if r.ContentLength != 0 {
		body = r.Body
	}
	out, err := http.NewRequestWithContext(r.Context(), r.Method, p.target+r.URL.RequestURI(), body)
	if err != nil {
		return nil, err
	}
	out.Header = r.Header.Clone()
	// Hop-by-hop, and unsigned: the SDK signs neither.
	for _, h := range []string{"Connection", "Keep-Alive", "Proxy-Connection", "Te", "Trailer", "Transfer-Encoding", "Upgrade", "Expect"} {
		out.Header.Del(h)
	}
	out.Host = r.Host
	out.ContentLength = r.ContentLength
	out.TransferEncoding = r.TransferEncoding
	return p.client.Do(out)
}

func copyHeader(dst, src http.Header) {
	for k, v := range src {
		switch k {
		case "Connection", "Keep-Alive", "Transfer-Encoding", "Trailer", "Upgrade":
			continue
		}
		dst[k] = v
	}
}

// fail answers as S3 does: the status and an XML error body with its code,
// after the request's body (as S3 reads it before it fails).
func (p *Proxy) fail(w http.ResponseWriter, r *http.Request, status int, code, msg string) {
	io.Copy(io.Discard, r.Body)
	p.mu.Lock()
	id := fmt.Sprintf("FAULTPROXY%08d", p.requests)
	p.mu.Unlock()
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("X-Amz-Request-Id", id)
	w.WriteHeader(status)
	if r.Method == http.MethodHead {
		return
	}
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+
		`<Error><Code>%s</Code><Message>%s</Message><Resource>%s</Resource><RequestId>%s</RequestId></Error>`,
		code, msg, xmlEscape(r.URL.Path), id)
}

func xmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(s)
}

// reset closes the client's connection with a TCP RST (SO_LINGER 0),
// without another byte of answer.
func reset(w http.ResponseWriter) {
	conn, buf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		// Nothing else can end the answer early: abort the handler, which
		// closes the connection.
		panic(http.ErrAbortHandler)
	}
	if buf != nil {
		buf.Writer.Flush()
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	conn.Close()
}
