package fault_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"syscall"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"

	"github.com/cognito-export/cognito-export/fault"
)

func apiError(code string) error {
	return &smithy.OperationError{ServiceID: "S3", OperationName: "PutObject",
		Err: &smithy.GenericAPIError{Code: code, Message: "m"}}
}

func TestClassifySaysWhatARetryCanFix(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	tests := []struct {
		name string
		err  error
		want fault.Kind
	}{
		{"throttled", apiError("TooManyRequestsException"), fault.Throttled},
		{"S3 slow down", apiError("SlowDown"), fault.Throttled},
		{"Cognito internal error", apiError("InternalErrorException"), fault.Transient},
		{"user gone", apiError("UserNotFoundException"), fault.UserGone},
		{"bad parameter", apiError("InvalidParameterException"), fault.Usage},
		{"no such bucket", apiError("NoSuchBucket"), fault.Usage},
		{"S3 access denied", apiError("AccessDenied"), fault.Usage},
		{"S3 rejects the key", apiError("InvalidAccessKeyId"), fault.Usage},
		{"Cognito access denied", apiError("NotAuthorizedException"), fault.Fatal},
		{"connection refused", fmt.Errorf("send request: %w", refused), fault.Transient},
		{"retries exhausted", &retry.MaxAttemptsError{Attempt: 3, Err: refused}, fault.Transient},
		{"deadline", fmt.Errorf("put: %w", context.DeadlineExceeded), fault.Transient},
		{"permission denied on a path", &fs.PathError{Op: "mkdir", Path: "/x", Err: fs.ErrPermission}, fault.Usage},
		{"a file where a directory should be", &fs.PathError{Op: "mkdir", Path: "/x", Err: syscall.ENOTDIR}, fault.Usage},
		{"read-only file system", &fs.PathError{Op: "open", Path: "/x", Err: syscall.EROFS}, fault.Usage},
		{"disk full", &fs.PathError{Op: "write", Path: "/x", Err: syscall.ENOSPC}, fault.Transient},
		{"anything else", errors.New("boom"), fault.Fatal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := fault.KindOf(tt.err); got != tt.want {
				t.Fatalf("KindOf(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

func TestProblemKeepsItsCause(t *testing.T) {
	cause := apiError("NoSuchBucket")
	p := fmt.Errorf("open output: %w", fault.New(fault.Usage, "bucket \"b\" does not exist (check --output)", cause))
	var api smithy.APIError
	if !errors.As(p, &api) || api.ErrorCode() != "NoSuchBucket" {
		t.Fatalf("errors.As did not find the SDK's error through the wrappers: %v", p)
	}
	if fault.KindOf(p) != fault.Usage {
		t.Fatalf("kind %v", fault.KindOf(p))
	}
	if p.Error() != `open output: bucket "b" does not exist (check --output)` {
		t.Fatalf("message %q", p.Error())
	}
}

func TestMarkedCredentialsAreRecognisedByType(t *testing.T) {
	failing := aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{}, errors.New("no EC2 IMDS role found")
	})
	_, err := fault.MarkCredentials(failing).Retrieve(context.Background())
	wrapped := fmt.Errorf("operation error: get identity: get credentials: failed to refresh cached credentials, %w", err)
	if !fault.NoCredentials(wrapped) {
		t.Fatalf("not recognised: %v", wrapped)
	}
	if fault.NoCredentials(errors.New("failed to retrieve credentials")) {
		t.Fatal("recognised by its text")
	}
	if fault.MarkCredentials(nil) != nil {
		t.Fatal("anonymous access became a provider")
	}
}
