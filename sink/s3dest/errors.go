package s3dest

import (
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/aws/smithy-go"
	"github.com/cognito-export/cognito-export/fault"
)

// Error is a failed S3 call: what was being done, where, and in one line
// what to check. The SDK's error stays in the chain (Unwrap), so callers
// can still classify it by its type or API code.
type Error struct {
	Doing string // e.g. "upload chunk 3 of part-00000.csv to"
	Where string // the s3:// prefix
	Hint  string // what to check; "" when the cause says it all
	Err   error
}

func (e *Error) Error() string {
	if e.Hint == "" {
		return fmt.Sprintf("%s %s: %v", e.Doing, e.Where, e.Err)
	}
	return fmt.Sprintf("%s %s: %s", e.Doing, e.Where, e.Hint)
}

func (e *Error) Unwrap() error { return e.Err }

// explain names the S3 failure and what to check, in one line, keeping err.
func (d *Prefix) explain(doing string, err error) error {
	e := &Error{Doing: doing, Where: d.String(), Err: err}
	var api smithy.APIError
	var netErr *net.OpError
	switch {
	case errors.As(err, &api):
		switch api.ErrorCode() {
		case "NoSuchBucket", "NotFound":
			e.Hint = fmt.Sprintf("bucket %q does not exist (check --output)", d.bucket)
		case "AccessDenied", "Forbidden", "AllAccessDisabled":
			e.Hint = "access denied: the credentials need s3:PutObject, s3:GetObject, s3:DeleteObject, s3:ListBucket and s3:AbortMultipartUpload on this prefix"
			if d.opts.Retention.On() {
				e.Hint += ", and s3:PutObjectRetention for --object-lock-mode"
			}
		case "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken":
			e.Hint = fmt.Sprintf("S3 rejected the credentials (%s): check AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY", api.ErrorCode())
		default:
			e.Hint = api.ErrorCode() + ": " + api.ErrorMessage()
			if k := fault.Classify(err); k == fault.Throttled || k == fault.Transient {
				// The SDK's retries are spent on a server error or a
				// throttle: what to do is the same as for a network error.
				e.Hint = api.ErrorCode() + ": " + strings.TrimSuffix(api.ErrorMessage(), ".") + "; S3 kept failing through the retries, running again resumes"
			}
		}
	case fault.NoCredentials(err):
		// The credentials chain found nothing, or the request could not
		// be signed with what it found.
		e.Hint = "no AWS credentials found: set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run with an IAM role"
	case errors.As(err, &netErr):
		// The SDK's retries are spent; the endpoint may be back soon.
		e.Hint = fmt.Sprintf("S3 could not be reached (%v): check the network and AWS_ENDPOINT_URL_S3; running again resumes", netErr)
	}
	return e
}

// noSuchUpload reports S3's answer about an upload id it does not know:
// aborted, or already completed.
func noSuchUpload(err error) bool {
	var api smithy.APIError
	return errors.As(err, &api) && api.ErrorCode() == "NoSuchUpload"
}
