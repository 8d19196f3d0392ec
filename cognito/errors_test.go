package cognito_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/smithy-go"

	"github.com/cognito-export/cognito-export/cognito"
	"github.com/cognito-export/cognito-export/fault"
)

// Explain used to replace the SDK's error with its message: errors.As
// found nothing under it. Now the line says what to check and the cause
// stays in the chain.
func TestExplainKeepsTheCauseAndSaysWhatToCheck(t *testing.T) {
	tests := []struct {
		code, hint string
		kind       fault.Kind
	}{
		{"ResourceNotFoundException", "check --user-pool-id and --region", fault.Fatal},
		{"NotAuthorizedException", "the credentials need cognito-idp:ListUsers", fault.Fatal},
		{"UnrecognizedClientException", "AWS rejected the credentials", fault.Fatal},
		{"InvalidParameterException", "Cognito rejected a parameter", fault.Usage},
		{"TooManyRequestsException", "TooManyRequestsException", fault.Throttled},
	}
	for _, tt := range tests {
		cause := &smithy.OperationError{ServiceID: "Cognito Identity Provider", OperationName: "ListUsers",
			Err: &smithy.GenericAPIError{Code: tt.code, Message: "msg"}}
		err := fmt.Errorf("list users: %w", cognito.Explain("ListUsers", cause))
		var api smithy.APIError
		if !errors.As(err, &api) || api.ErrorCode() != tt.code {
			t.Errorf("%s: the SDK's error is not in the chain of %q", tt.code, err)
		}
		if !strings.Contains(err.Error(), tt.hint) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: %q does not say %q on one line", tt.code, err, tt.hint)
		}
		if got := fault.KindOf(err); got != tt.kind {
			t.Errorf("%s: kind %v, want %v", tt.code, got, tt.kind)
		}
	}
}
