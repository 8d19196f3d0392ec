package cognito

import (
	"errors"
	"fmt"

	"github.com/aws/smithy-go"

	"github.com/cognito-export/cognito-export/fault"
)

// Explain turns a failed Cognito call into one line that says what is wrong
// and what to check. The cause stays in the chain (errors.As finds the
// SDK's error), and the kind comes from fault's classification.
func Explain(op string, err error) error {
	if err == nil {
		return nil
	}
	var role *AssumeRoleError
	if errors.As(err, &role) {
		return fault.New(fault.Fatal, fmt.Sprintf("%s: %v", op, role), err)
	}
	if fault.NoCredentials(err) {
		return fault.New(fault.Fatal, fmt.Sprintf("%s: no AWS credentials found: set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run with an IAM role", op), err)
	}
	var api smithy.APIError
	if !errors.As(err, &api) {
		return fault.New(fault.KindOf(err), fmt.Sprintf("%s: %v", op, err), err)
	}
	code, msg := api.ErrorCode(), api.ErrorMessage()
	switch {
	case fault.NotFound(err):
		return fault.New(fault.Fatal, fmt.Sprintf("%s: %s (check --user-pool-id and --region)", op, msg), err)
	case fault.Denied(err):
		return fault.New(fault.Fatal, fmt.Sprintf("%s: access denied (%s: %s): the credentials need cognito-idp:%s on this pool", op, code, msg, op), err)
	case fault.CredentialsRejected(err):
		return fault.New(fault.Fatal, fmt.Sprintf("%s: AWS rejected the credentials (%s): check AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY", op, code), err)
	case code == "InvalidParameterException":
		return fault.New(fault.Usage, fmt.Sprintf("%s: Cognito rejected a parameter: %s", op, msg), err)
	}
	return fault.New(fault.KindOf(err), fmt.Sprintf("%s: %s: %s", op, code, msg), err)
}
