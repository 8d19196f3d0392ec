package cdp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
)

// Browser is a browser process driven over its --remote-debugging-pipe.
type Browser struct {
	*Conn
	cmd    *exec.Cmd
	toIt   *os.File // the browser's fd 3, our end
	g      *errgroup.Group
	exited chan struct{} // closed when the process has exited
	stderr lockedBuffer
	once   sync.Once
	err    error
}

// Start runs the browser at path with args and --remote-debugging-pipe.
// The browser runs until Close, which the caller must call.
func Start(path string, args ...string) (*Browser, error) {
	inR, inW, err := os.Pipe() // our calls: the browser reads fd 3
	if err != nil {
		return nil, fmt.Errorf("cdp: start %s: %w", path, err)
	}
	outR, outW, err := os.Pipe() // its answers: the browser writes fd 4
	if err != nil {
		inR.Close()
		inW.Close()
		return nil, fmt.Errorf("cdp: start %s: %w", path, err)
	}
	b := &Browser{Conn: NewConn(inW), toIt: inW, g: &errgroup.Group{}, exited: make(chan struct{})}
	b.cmd = exec.Command(path, append(args, "--remote-debugging-pipe")...)
	b.cmd.ExtraFiles = []*os.File{inR, outW}
	b.cmd.Stderr = &b.stderr
	err = b.cmd.Start()
	// The browser holds its own copies; ours would keep the pipe from
	// ending when it exits.
	inR.Close()
	outW.Close()
	if err != nil {
		inW.Close()
		outR.Close()
		return nil, fmt.Errorf("cdp: start %s: %w", path, err)
	}
	b.g.Go(func() error {
		defer outR.Close()
		return b.Read(outR)
	})
	b.g.Go(func() error {
		defer close(b.exited)
		if err := b.cmd.Wait(); err != nil {
			return fmt.Errorf("cdp: %s: %w", path, err)
		}
		return nil
	})
	return b, nil
}

// Close asks the browser to exit, kills it if it has not within a few
// seconds, and returns the first error of the connection or the process.
func (b *Browser) Close() error {
	b.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		callErr := b.Call(ctx, "", "Browser.close", nil, nil)
		var killed error
		select {
		case <-b.exited:
		case <-ctx.Done():
			killed = errors.New("cdp: the browser did not exit when asked; killed")
			_ = b.cmd.Process.Kill()
		}
		b.toIt.Close()
		err := b.g.Wait()
		// The answer to Browser.close may be lost as the browser exits.
		if callErr != nil && !errors.Is(callErr, ErrClosed) {
			err = errors.Join(callErr, err)
		}
		b.err = errors.Join(killed, err)
	})
	return b.err
}

// Stderr is what the browser wrote to its standard error so far.
func (b *Browser) Stderr() string { return b.stderr.String() }

// lockedBuffer is a bytes.Buffer that the process's stderr copier writes
// while a test may read it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}
