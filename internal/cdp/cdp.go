// Package cdp speaks the Chrome DevTools Protocol over a browser's
// --remote-debugging-pipe: JSON messages, each ended by a NUL byte, that the
// browser reads from its file descriptor 3 and writes to its 4. It is the
// least a test needs to drive a page (calls, their answers, and the events
// between them) with the standard library alone: no WebSocket, no port.
package cdp

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
)

// Event is a message the browser sent unasked, such as
// Runtime.consoleAPICalled.
type Event struct {
	SessionID string
	Method    string
	Params    json.RawMessage
}

// Error is the browser's answer to a call it could not carry out.
type Error struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Data    string `json:"data,omitempty"`
}

func (e *Error) Error() string {
	if e.Data != "" {
		return fmt.Sprintf("%s (%d): %s", e.Message, e.Code, e.Data)
	}
	return fmt.Sprintf("%s (%d)", e.Message, e.Code)
}

// message is every message of the protocol: a call (id, method, params),
// its answer (id, result or error) or an event (method, params).
type message struct {
	ID        int64           `json:"id,omitempty"`
	SessionID string          `json:"sessionId,omitempty"`
	Method    string          `json:"method,omitempty"`
	Params    json.RawMessage `json:"params,omitempty"`
	Result    json.RawMessage `json:"result,omitempty"`
	Error     *Error          `json:"error,omitempty"`
}

// ErrClosed is a call or a wait cut short because the browser's end of
// the pipe closed.
var ErrClosed = errors.New("cdp: the connection is closed")

// Conn is one connection to a browser: calls may be made from any
// goroutine while Read runs in another.
type Conn struct {
	wmu sync.Mutex
	w   io.Writer

	mu      sync.Mutex
	next    int64
	pending map[int64]chan message
	events  []Event
	arrived chan struct{} // closed, and replaced, when an event arrives
	done    error         // why Read stopped; nil while it runs
}

// NewConn returns a connection that writes its calls to w; the caller runs
// Read on the other direction.
func NewConn(w io.Writer) *Conn {
	return &Conn{w: w, pending: map[int64]chan message{}, arrived: make(chan struct{})}
}

// Read reads the browser's messages from r until it ends, handing each
// answer to its call and keeping each event; it returns nil at the end of
// r. Calls and waits made after it returned fail with ErrClosed.
func (c *Conn) Read(r io.Reader) error {
	br := bufio.NewReader(r)
	var err error
	for {
		var b []byte
		if b, err = br.ReadBytes(0); err != nil {
			break
		}
		var m message
		if err = json.Unmarshal(b[:len(b)-1], &m); err != nil {
			err = fmt.Errorf("cdp: read a message: %w", err)
			break
		}
		c.deliver(m)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.done = ErrClosed
	for id, ch := range c.pending {
		close(ch)
		delete(c.pending, id)
	}
	close(c.arrived)
	if errors.Is(err, io.EOF) {
		return nil
	}
	return err
}

func (c *Conn) deliver(m message) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if m.ID != 0 {
		if ch, ok := c.pending[m.ID]; ok {
			ch <- m // buffered: the caller may have given up waiting
			delete(c.pending, m.ID)
		}
		return
	}
	c.events = append(c.events, Event{SessionID: m.SessionID, Method: m.Method, Params: m.Params})
	close(c.arrived)
	c.arrived = make(chan struct{})
}

// Call sends method with params to the target of session ("" for the
// browser itself), waits for its answer and decodes it into result (nil
// to discard it).
func (c *Conn) Call(ctx context.Context, session, method string, params, result any) error {
	raw, err := json.Marshal(params)
	if err != nil {
		return fmt.Errorf("cdp: %s: encode the parameters: %w", method, err)
	}
	if params == nil {
		raw = nil
	}
	ch := make(chan message, 1)
	c.mu.Lock()
	if c.done != nil {
		c.mu.Unlock()
		return fmt.Errorf("cdp: %s: %w", method, c.done)
	}
	c.next++
	id := c.next
	c.pending[id] = ch
	c.mu.Unlock()
	b, err := json.Marshal(message{ID: id, SessionID: session, Method: method, Params: raw})
	if err != nil {
		return fmt.Errorf("cdp: %s: %w", method, err)
	}
	c.wmu.Lock()
	_, err = c.w.Write(append(b, 0))
	c.wmu.Unlock()
	if err != nil {
		c.forget(id)
		return fmt.Errorf("cdp: send %s: %w", method, err)
	}
	select {
	case m, ok := <-ch:
		switch {
		case !ok:
			return fmt.Errorf("cdp: %s: %w", method, ErrClosed)
		case m.Error != nil:
			return fmt.Errorf("cdp: %s: %w", method, m.Error)
		case result != nil:
			if err := json.Unmarshal(m.Result, result); err != nil {
				return fmt.Errorf("cdp: %s: decode the result: %w", method, err)
			}
		}
		return nil
	case <-ctx.Done():
		c.forget(id)
		return fmt.Errorf("cdp: %s: %w", method, context.Cause(ctx))
	}
}

func (c *Conn) forget(id int64) {
	c.mu.Lock()
	delete(c.pending, id)
	c.mu.Unlock()
}

// Events returns the events received so far, oldest first.
func (c *Conn) Events() []Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Event(nil), c.events...)
}

// Wait returns the first event from the from-th on (0: the first ever
// received) that match accepts, and its index, waiting for it to arrive
// if need be.
func (c *Conn) Wait(ctx context.Context, from int, match func(Event) bool) (Event, int, error) {
	for {
		c.mu.Lock()
		for i := from; i < len(c.events); i++ {
			if match(c.events[i]) {
				e := c.events[i]
				c.mu.Unlock()
				return e, i, nil
			}
		}
		from = max(from, len(c.events))
		arrived, done := c.arrived, c.done
		c.mu.Unlock()
		if done != nil {
			return Event{}, 0, done
		}
		select {
		case <-arrived:
		case <-ctx.Done():
			return Event{}, 0, fmt.Errorf("cdp: wait for an event: %w", context.Cause(ctx))
		}
	}
}
