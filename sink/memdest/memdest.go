// Package memdest keeps an export's files in memory, for tests that need a
// destination fast and without a disk or a server.
package memdest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strings"
	"sync"

	"github.com/cognito-export/cognito-export/sink"
)

// Dest is an in-memory destination, safe for concurrent use. Like S3, a
// part is held aside until Commit and is never visible under its name
// before; a part neither committed nor aborted stays unfinished (like a
// multipart upload of a killed run) until Prune removes it.
type Dest struct {
	mu      sync.Mutex
	objects map[string][]byte
	open    map[*part]bool
}

// New returns an empty destination.
func New() *Dest {
	return &Dest{objects: map[string][]byte{}, open: map[*part]bool{}}
}

func (d *Dest) String() string { return "mem://" }

// Create starts a part that becomes visible under name on Commit. Every
// call of the part checks its own context, never Create's.
func (d *Dest) Create(ctx context.Context, name string) (sink.Part, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("create %s: %w", name, err)
	}
	p := &part{d: d, name: name}
	d.mu.Lock()
	d.open[p] = true
	d.mu.Unlock()
	return p, nil
}

// Put stores a small object.
func (d *Dest) Put(ctx context.Context, name string, data []byte) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.objects[name] = append([]byte{}, data...)
	return nil
}

// Get returns a copy of an object; a missing one is (nil, nil).
func (d *Dest) Get(ctx context.Context, name string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	data, ok := d.objects[name]
	if !ok {
		return nil, nil
	}
	return append([]byte{}, data...), nil
}

// Delete removes an object; a missing one is not an error.
func (d *Dest) Delete(ctx context.Context, name string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("delete %s: %w", name, err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.objects, name)
	return nil
}

// Prune removes the objects that remove accepts (direct children only, no
// "/" in the name) and drops the unfinished parts whose name it accepts.
func (d *Dest) Prune(ctx context.Context, remove func(name string) bool) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("prune: %w", err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for name := range d.objects {
		if !strings.Contains(name, "/") && remove(name) {
			delete(d.objects, name)
		}
	}
	for p := range d.open {
		if !strings.Contains(p.name, "/") && remove(p.name) {
			delete(d.open, p)
			p.dropped = true
		}
	}
	return nil
}

// Open streams a copy of an object; a missing one is an error wrapping
// fs.ErrNotExist.
func (d *Dest) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	data, _ := d.Get(ctx, name)
	if data == nil {
		return nil, fmt.Errorf("open %s: %w", name, fs.ErrNotExist)
	}
	return io.NopCloser(bytes.NewReader(data)), nil
}

// List returns the names of the objects directly under the destination
// (no "/" in the name), sorted; unfinished parts are not listed.
func (d *Dest) List(ctx context.Context) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("list: %w", err)
	}
	return slices.DeleteFunc(d.Names(), func(n string) bool { return strings.Contains(n, "/") }), nil
}

// Names lists the objects held, sorted.
func (d *Dest) Names() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	names := make([]string, 0, len(d.objects))
	for n := range d.objects {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Unfinished lists the names of parts created but neither committed nor
// aborted, sorted.
func (d *Dest) Unfinished() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	var names []string
	for p := range d.open {
		names = append(names, p.name)
	}
	slices.Sort(names)
	return names
}

// part is used by one goroutine; only what it shares with Dest is locked.
type part struct {
	d       *Dest
	name    string
	buf     []byte
	ended   bool // committed or aborted
	dropped bool // removed by Prune; guarded by d.mu
}

var errEnded = errors.New("part already committed or aborted")

func (p *part) Write(ctx context.Context, b []byte) error {
	if p.ended {
		return fmt.Errorf("write %s: %w", p.name, errEnded)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("write %s: %w", p.name, err)
	}
	p.buf = append(p.buf, b...)
	return nil
}

func (p *part) Commit(ctx context.Context) error {
	if p.ended {
		return fmt.Errorf("commit %s: %w", p.name, errEnded)
	}
	if err := ctx.Err(); err != nil {
		p.Abort(ctx)
		return fmt.Errorf("commit %s: %w", p.name, err)
	}
	p.ended = true
	p.d.mu.Lock()
	defer p.d.mu.Unlock()
	if p.dropped {
		return fmt.Errorf("commit %s: the unfinished part was pruned", p.name)
	}
	delete(p.d.open, p)
	p.d.objects[p.name] = p.buf
	p.buf = nil
	return nil
}

// Abort discards the part whatever the state of ctx.
func (p *part) Abort(context.Context) {
	p.ended, p.buf = true, nil
	p.d.mu.Lock()
	delete(p.d.open, p)
	p.d.mu.Unlock()
}
