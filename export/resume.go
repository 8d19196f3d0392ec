package export

import (
	"context"
	"log/slog"

	"github.com/cognito-export/cognito-export/checkpoint"
	"github.com/cognito-export/cognito-export/fault"
)

// resumedList is one Cognito list (ListUsers, or one group's
// ListUsersInGroup) continued from the token a checkpoint saved. Tokens
// expire, so when Cognito rejects the saved token on the list's first call,
// the list starts over from the beginning and skips what is committed.
type resumedList struct {
	token *string // where the next call starts; nil is the beginning
	// skip are the hashes of the users committed before a restart; nil
	// when the list did not start over.
	skip   map[uint64]struct{}
	called bool
}

// restart reports whether err is Cognito rejecting the saved token on the
// list's first call. Then it logs msg, reads the committed users with
// committed, and moves the list to its beginning: call again.
func (l *resumedList) restart(ctx context.Context, err error, log *slog.Logger, msg string,
	committed func(context.Context) (map[uint64]struct{}, error)) (again bool, _ error) {
	first := !l.called
	l.called = true
	if err == nil || !first || l.token == nil || fault.KindOf(err) != fault.Usage {
		return false, err
	}
	log.Warn(msg, "error", err.Error())
	skip, lerr := committed(ctx)
	if lerr != nil {
		return false, lerr
	}
	l.token, l.skip = nil, skip
	return true, nil
}

// committed reports whether user was committed before the list restarted.
func (l *resumedList) committed(user string) bool {
	_, ok := l.skip[checkpoint.UserHash(user)]
	return ok
}
