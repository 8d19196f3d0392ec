package export

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"
)

// Kind is what an error means to the job. Every AWS error code is mapped to
// a Kind here and nowhere else.
type Kind int

const (
	KindFatal     Kind = iota // stop the job; a resume can finish it once the cause is fixed
	KindUsage                 // bad flags or input; exit 2
	KindThrottled             // TooManyRequestsException: slow down and retry
	KindTransient             // 5xx, resets, timeouts: retry
	KindUserGone              // the user was deleted after it was listed: skip and count
)

// Problem is an error that carries its meaning and a hint for the operator.
type Problem struct {
	Kind Kind
	Msg  string
	Err  error
	// Code is the AWS error code that Explain turned into Msg.
	Code string
}

func (p *Problem) Error() string {
	if p.Err == nil {
		return p.Msg
	}
	if p.Msg == "" {
		return p.Err.Error()
	}
	return p.Msg + ": " + p.Err.Error()
}

func (p *Problem) Unwrap() error { return p.Err }

// KindOf returns the kind of err, looking through wrapping.
func KindOf(err error) Kind {
	var p *Problem
	if errors.As(err, &p) {
		return p.Kind
	}
	return classify(err)
}

func classify(err error) Kind {
	var api smithy.APIError
	if errors.As(err, &api) {
		switch api.ErrorCode() {
		case "TooManyRequestsException", "ThrottlingException", "LimitExceededException":
			return KindThrottled
		case "InternalErrorException", "ServiceUnavailable", "InternalFailure":
			return KindTransient
		case "UserNotFoundException":
			return KindUserGone
		case "InvalidParameterException":
			return KindUsage
		}
		return KindFatal
	}
	var maxed *retry.MaxAttemptsError
	if errors.As(err, &maxed) {
		return KindFatal
	}
	var netErr net.Error
	if errors.As(err, &netErr) {
		return KindTransient
	}
	return KindFatal
}

// notFound reports Cognito's ResourceNotFoundException. ListUsersInGroup
// answers it for a group deleted after ListGroups found it.
func notFound(err error) bool {
	var api smithy.APIError
	return errors.As(err, &api) && api.ErrorCode() == "ResourceNotFoundException"
}

// denied reports a call the credentials are not allowed to make.
func denied(err error) bool {
	code := ""
	var p *Problem
	var api smithy.APIError
	switch {
	case errors.As(err, &p) && p.Code != "":
		code = p.Code
	case errors.As(err, &api):
		code = api.ErrorCode()
	}
	return slices.Contains(deniedCodes, code)
}

// deniedCodes are Cognito's answers to a call the credentials may not make.
var deniedCodes = []string{"NotAuthorizedException", "AccessDeniedException", "AccessDeniedFault"}

// Explain turns an AWS failure into one line that says what is wrong and
// what to check.
func Explain(op string, err error) error {
	var api smithy.APIError
	if errors.As(err, &api) {
		p := explainAPI(op, api, err)
		p.Code = api.ErrorCode()
		return p
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "failed to retrieve credentials"), strings.Contains(msg, "failed to refresh cached credentials"), strings.Contains(msg, "no EC2 IMDS role found"):
		return &Problem{Kind: KindFatal, Msg: fmt.Sprintf("%s: no AWS credentials found: set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run with an IAM role", op)}
	}
	return fmt.Errorf("%s: %w", op, err)
}

func explainAPI(op string, api smithy.APIError, err error) *Problem {
	switch code := api.ErrorCode(); {
	case code == "ResourceNotFoundException":
		return &Problem{Kind: KindFatal, Msg: fmt.Sprintf("%s: %s (check --user-pool-id and --region)", op, api.ErrorMessage())}
	case slices.Contains(deniedCodes, code):
		return &Problem{Kind: KindFatal, Msg: fmt.Sprintf("%s: access denied (%s: %s): the credentials need cognito-idp:%s on this pool", op, api.ErrorCode(), api.ErrorMessage(), op)}
	case slices.Contains([]string{"UnrecognizedClientException", "InvalidClientTokenId", "InvalidSignatureException", "ExpiredTokenException", "MissingAuthenticationTokenException"}, code):
		return &Problem{Kind: KindFatal, Msg: fmt.Sprintf("%s: AWS rejected the credentials (%s): check AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY", op, api.ErrorCode())}
	case code == "InvalidParameterException":
		return &Problem{Kind: KindUsage, Msg: fmt.Sprintf("%s: Cognito rejected a parameter: %s", op, api.ErrorMessage())}
	}
	return &Problem{Kind: KindOf(err), Msg: fmt.Sprintf("%s: %s: %s", op, api.ErrorCode(), api.ErrorMessage())}
}
