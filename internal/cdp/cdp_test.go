package cdp

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"
)

// peer is the far end of a Conn over in-memory pipes: it reads the calls
// and writes what a browser would, in the order a test says.
type peer struct {
	calls *bufio.Reader
	out   *io.PipeWriter
}

func (p peer) call(t *testing.T) message {
	t.Helper()
	b, err := p.calls.ReadBytes(0)
	if err != nil {
		t.Fatal(err)
	}
	var m message
	if err := json.Unmarshal(b[:len(b)-1], &m); err != nil {
		t.Fatalf("a call that is not JSON: %q: %v", b, err)
	}
	return m
}

func (p peer) send(t *testing.T, raw string) {
	t.Helper()
	if _, err := p.out.Write(append([]byte(raw), 0)); err != nil {
		t.Fatal(err)
	}
}

func connPair(t *testing.T) (*Conn, peer, *errgroup.Group) {
	callsR, callsW := io.Pipe()
	outR, outW := io.Pipe()
	c := NewConn(callsW)
	var g errgroup.Group
	g.Go(func() error { return c.Read(outR) })
	t.Cleanup(func() { callsR.Close() })
	return c, peer{bufio.NewReader(callsR), outW}, &g
}

// TestConnMatchesAnswersToCalls: answers that come back in another order
// than the calls, with events between them, each reach their own call; an
// error answer is the call's error; events wait for whoever asks; the end
// of the stream ends calls still waiting.
func TestConnMatchesAnswersToCalls(t *testing.T) {
	c, p, g := connPair(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var calls errgroup.Group
	results := make([]string, 3)
	for i, method := range []string{"A.one", "A.two", "A.three"} {
		calls.Go(func() error {
			var r struct{ Name string }
			err := c.Call(ctx, "s1", method, map[string]int{"n": i}, &r)
			results[i] = r.Name
			return err
		})
	}
	got := map[string]message{}
	for range 3 {
		m := p.call(t)
		got[m.Method] = m
	}
	if m := got["A.two"]; m.SessionID != "s1" || string(m.Params) != `{"n":1}` {
		t.Errorf("call sent as %+v", m)
	}
	p.send(t, `{"method":"Page.loadEventFired","sessionId":"s1","params":{"timestamp":1}}`)
	for _, m := range []string{"A.three", "A.one", "A.two"} {
		p.send(t, `{"id":`+itoa(got[m].ID)+`,"result":{"name":"`+m+`"}}`)
	}
	if err := calls.Wait(); err != nil {
		t.Fatal(err)
	}
	if results[0] != "A.one" || results[1] != "A.two" || results[2] != "A.three" {
		t.Errorf("answers reached %q", results)
	}
	e, i, err := c.Wait(ctx, 0, func(e Event) bool { return e.Method == "Page.loadEventFired" })
	if err != nil || i != 0 || e.SessionID != "s1" {
		t.Errorf("event %+v at %d: %v", e, i, err)
	}

	errc := make(chan error, 1)
	go func() { errc <- c.Call(ctx, "", "B.fails", nil, nil) }()
	if m := p.call(t); m.Params != nil {
		t.Errorf("a call without parameters sent %s", m.Params)
	} else {
		p.send(t, `{"id":`+itoa(m.ID)+`,"error":{"code":-32601,"message":"'B.fails' wasn't found"}}`)
	}
	var cdpErr *Error
	if err := <-errc; !errors.As(err, &cdpErr) || cdpErr.Code != -32601 {
		t.Errorf("error answer gave %v", err)
	}

	go func() { errc <- c.Call(ctx, "", "C.never", nil, nil) }()
	p.call(t)
	waited := make(chan error, 1)
	go func() {
		_, _, err := c.Wait(ctx, 1, func(Event) bool { return true })
		waited <- err
	}()
	p.out.Close()
	if err := <-errc; !errors.Is(err, ErrClosed) {
		t.Errorf("a call pending when the stream ended: %v", err)
	}
	if err := <-waited; !errors.Is(err, ErrClosed) {
		t.Errorf("a wait pending when the stream ended: %v", err)
	}
	if err := g.Wait(); err != nil {
		t.Errorf("Read at the end of the stream: %v", err)
	}
	if err := c.Call(ctx, "", "D.after", nil, nil); !errors.Is(err, ErrClosed) {
		t.Errorf("a call after the end: %v", err)
	}
}

// TestConnRefusesGarbage: a message that is not JSON stops Read with an
// error, not a panic or a hang.
func TestConnRefusesGarbage(t *testing.T) {
	c, p, g := connPair(t)
	p.send(t, `{"id":1,`)
	if err := g.Wait(); err == nil {
		t.Error("Read took a message that is not JSON")
	}
	if _, _, err := c.Wait(context.Background(), 0, func(Event) bool { return true }); !errors.Is(err, ErrClosed) {
		t.Errorf("wait after a bad message: %v", err)
	}
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }
