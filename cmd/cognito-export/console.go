package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"

	"golang.org/x/term"
)

// console is stderr: the log, and on a terminal the progress bar. Both
// write through it, so a log line first clears the bar instead of being
// glued to its end; the bar is drawn again at its next update.
type console struct {
	stderr io.Writer
	tty    bool
	log    *slog.Logger

	mu  sync.Mutex
	bar interface{ Clear() error } // the bar on screen, if any
}

// newConsole logs JSON unless stderr is a terminal, where people read text.
func newConsole(stderr io.Writer, format string) (*console, error) {
	c := &console{stderr: stderr, tty: isTerminal(stderr)}
	if format == "" {
		format = "json"
		if c.tty {
			format = "text"
		}
	}
	switch format {
	case "json":
		c.log = slog.New(slog.NewJSONHandler(c, nil))
	case "text":
		c.log = slog.New(slog.NewTextHandler(c, nil))
	default:
		return nil, usageError{fmt.Sprintf("--log-format %q: use json or text", format)}
	}
	return c, nil
}

// Write is one log record.
func (c *console) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.bar != nil {
		c.bar.Clear()
	}
	return c.stderr.Write(p)
}

// Draw runs fn, which renders the bar on stderr, without a log line in
// between (progress.Screen).
func (c *console) Draw(bar interface{ Clear() error }, fn func(io.Writer)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.bar = bar
	fn(c.stderr)
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
