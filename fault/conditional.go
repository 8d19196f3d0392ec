package fault

import (
	"errors"
	"slices"
)

// preconditionCodes are S3's answers to a conditional write whose
// condition does not hold.
var preconditionCodes = []string{"PreconditionFailed", "ConditionalRequestConflict"}

// Precondition reports a conditional write refused because the object is
// not in the state the write was made for (created only if absent, and it
// exists; replaced only at a version, and it changed): the caller lost a
// race, not a fault to retry. S3 answers PreconditionFailed (412) or, when
// two conditional writes of one key meet, ConditionalRequestConflict
// (409); a local store's error says so itself with a PreconditionFailed
// method (sink/localdest builds without the SDK, so without this package).
func Precondition(err error) bool {
	var own interface{ PreconditionFailed() bool }
	if errors.As(err, &own) && own.PreconditionFailed() {
		return true
	}
	return slices.Contains(preconditionCodes, Code(err))
}

// NotImplemented reports a server's answer that it does not do what was
// asked: S3 before conditional writes answered If-None-Match and If-Match
// on PutObject with 501 NotImplemented, and so do some S3-compatible
// servers still.
func NotImplemented(err error) bool {
	if Code(err) == "NotImplemented" {
		return true
	}
	var status interface{ HTTPStatusCode() int }
	return errors.As(err, &status) && status.HTTPStatusCode() == 501
}
