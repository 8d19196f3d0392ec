package fault

import (
	"context"
	"errors"
	"syscall"
)

// Interrupted is the cause of a context cancelled by a stop signal
// (SIGINT, SIGTERM): main cancels with it, and what was stopped records
// itself as interrupted, which a run of the same command resumes, rather
// than failed.
type Interrupted struct{ Signal syscall.Signal }

func (i Interrupted) Error() string { return "interrupted by " + i.Signal.String() }

// InterruptedBy reports whether ctx was cancelled by a stop signal, and
// by which.
func InterruptedBy(ctx context.Context) (Interrupted, bool) {
	var i Interrupted
	ok := errors.As(context.Cause(ctx), &i)
	return i, ok
}
