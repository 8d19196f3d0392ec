// Package fault says what an error means to the job: it is the one place
// where AWS error codes (Cognito's and S3's), network failures and missing
// credentials are classified, so that a caller decides to retry, skip, stop
// or ask the user to change something from a Kind, never from message text.
package fault

import (
	"context"
	"errors"
	"io/fs"
	"net"
	"slices"
	"syscall"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/smithy-go"
)

// Kind is what an error means to the job.
type Kind int

const (
	// Fatal stops the job; a resume can finish it once the cause is fixed.
	Fatal Kind = iota
	// Usage is something the user must change (a flag, a path, a
	// permission, a bucket): retrying as it is cannot succeed; exit 2.
	Usage
	// Throttled is TooManyRequestsException: slow down and retry.
	Throttled
	// Transient may succeed on a retry: 5xx, resets, timeouts, a refused
	// connection; exit 1, so that a scheduler tries again.
	Transient
	// UserGone is a user deleted after it was listed: skip and count.
	UserGone
)

func (k Kind) String() string {
	switch k {
	case Usage:
		return "usage"
	case Throttled:
		return "throttled"
	case Transient:
		return "transient"
	case UserGone:
		return "user gone"
	}
	return "fatal"
}

// Problem is an error with its meaning and a one-line message for the
// operator that says what to check. The cause stays in the chain, so
// errors.Is and errors.As see the SDK's error through every wrapper.
type Problem struct {
	Kind Kind
	// Msg is the whole line for the operator; empty means the cause's.
	Msg string
	Err error
}

func (p *Problem) Error() string {
	if p.Msg != "" || p.Err == nil {
		return p.Msg
	}
	return p.Err.Error()
}

func (p *Problem) Unwrap() error { return p.Err }

// New is a Problem of kind with msg and the cause err (which may be nil).
func New(kind Kind, msg string, err error) *Problem {
	return &Problem{Kind: kind, Msg: msg, Err: err}
}

// Usagef is a problem the user must fix, with no cause of its own.
func Usagef(msg string) *Problem { return &Problem{Kind: Usage, Msg: msg} }

// KindOf is the kind of err: the outermost Problem's when there is one,
// else what the cause's type and code say.
func KindOf(err error) Kind {
	var p *Problem
	if errors.As(err, &p) {
		return p.Kind
	}
	return Classify(err)
}

// Code is the AWS error code in err's chain, or "".
func Code(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	return ""
}

// The AWS error codes this tool acts on, by what they mean.
var (
	throttledCodes = []string{"TooManyRequestsException", "ThrottlingException", "LimitExceededException", "SlowDown", "RequestLimitExceeded"}
	transientCodes = []string{"InternalErrorException", "ServiceUnavailable", "InternalFailure", "InternalError", "RequestTimeout", "RequestTimeoutException"}
	// usageCodes need the user to change something: a parameter, a bucket
	// name, a permission or the credentials of the output.
	usageCodes = []string{
		"InvalidParameterException",
		"NoSuchBucket", "AccessDenied", "Forbidden", "AllAccessDisabled",
		"InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken",
	}
	// deniedCodes are Cognito's answers to a call the credentials may not
	// make. They stop the run (exit 1), as they always have: the policy
	// may be propagating, and a scheduled retry costs nothing.
	deniedCodes = []string{"NotAuthorizedException", "AccessDeniedException", "AccessDeniedFault"}
	// rejectedCredentialCodes are Cognito's answers to credentials it does
	// not accept.
	rejectedCredentialCodes = []string{"UnrecognizedClientException", "InvalidClientTokenId", "InvalidSignatureException", "ExpiredTokenException", "MissingAuthenticationTokenException"}
)

// Classify says what err means from its type and AWS error code.
func Classify(err error) Kind {
	if err == nil {
		return Fatal
	}
	if code := Code(err); code != "" {
		switch {
		case slices.Contains(throttledCodes, code):
			return Throttled
		case slices.Contains(transientCodes, code):
			return Transient
		case code == "UserNotFoundException":
			return UserGone
		case slices.Contains(usageCodes, code):
			return Usage
		}
		var status interface{ HTTPStatusCode() int }
		if errors.As(err, &status) && status.HTTPStatusCode() >= 500 {
			return Transient
		}
		return Fatal
	}
	var maxed *retry.MaxAttemptsError
	if errors.As(err, &maxed) {
		// The SDK gave up retrying something retryable: a later run may
		// well succeed.
		return Transient
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return Transient
	}
	switch {
	case errors.Is(err, fs.ErrPermission), errors.Is(err, syscall.ENOTDIR), errors.Is(err, syscall.EISDIR),
		errors.Is(err, syscall.EROFS), errors.Is(err, fs.ErrExist):
		// A path the user must change: not writable, or not a directory.
		return Usage
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT):
		// Space may be freed before the scheduler tries again.
		return Transient
	}
	var netErr net.Error
	var opErr *net.OpError
	if errors.As(err, &netErr) || errors.As(err, &opErr) {
		return Transient
	}
	return Fatal
}

// NotFound reports Cognito's ResourceNotFoundException: a pool, or a group
// deleted after ListGroups found it.
func NotFound(err error) bool { return Code(err) == "ResourceNotFoundException" }

// Denied reports a Cognito call the credentials are not allowed to make.
func Denied(err error) bool { return slices.Contains(deniedCodes, Code(err)) }

// CredentialsRejected reports credentials that Cognito does not accept.
func CredentialsRejected(err error) bool {
	return slices.Contains(rejectedCredentialCodes, Code(err))
}

// NoCredentials reports that the SDK found no credentials to sign with (no
// environment, profile, task role or instance role): a client's provider
// wrapped by MarkCredentials failed, or the signer had none.
func NoCredentials(err error) bool {
	var creds *CredentialsError
	var signing *v4.SigningError
	return errors.As(err, &creds) || errors.As(err, &signing)
}

// CredentialsError is a failure to obtain credentials. The SDK reports one
// only as text ("get identity: get credentials: ..."), so every client this
// tool builds wraps its provider with MarkCredentials to give it a type.
type CredentialsError struct{ Err error }

func (e *CredentialsError) Error() string { return e.Err.Error() }
func (e *CredentialsError) Unwrap() error { return e.Err }

// MarkCredentials wraps p so that its failures are CredentialsErrors; a
// nil p stays nil (anonymous access).
func MarkCredentials(p aws.CredentialsProvider) aws.CredentialsProvider {
	if p == nil {
		return nil
	}
	return markedCredentials{p}
}

type markedCredentials struct{ aws.CredentialsProvider }

func (m markedCredentials) Retrieve(ctx context.Context) (aws.Credentials, error) {
	c, err := m.CredentialsProvider.Retrieve(ctx)
	if err != nil && ctx.Err() == nil {
		return c, &CredentialsError{Err: err}
	}
	return c, err
}
