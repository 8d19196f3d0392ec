package cognitoemu

import (
	"crypto/rand"
	"fmt"
	"regexp"
	"unicode/utf8"
)

// Constraints of the request members, from the cognito-idp service model.
// Cognito checks them before it looks anything up, so a malformed pool id is
// InvalidParameterException, not ResourceNotFoundException.
var (
	userPoolIDPattern = regexp.MustCompile(`^[\w-]+_[0-9a-zA-Z]+$`)
	namePattern       = regexp.MustCompile(`^[\p{L}\p{M}\p{S}\p{N}\p{P}]+$`) // UsernameType, GroupNameType
	tokenPattern      = regexp.MustCompile(`^[\S]+$`)
)

// validateInput answers what Cognito's validation layer answers for a member
// that breaks its model constraint (the first one found).
func validateInput(req *request) *apiError {
	check := func(field string, value *string, min, max int, re *regexp.Regexp) *apiError {
		if value == nil {
			return nil
		}
		n := utf8.RuneCountInString(*value)
		switch {
		case n < min:
			return invalidMember(*value, field, fmt.Sprintf("Member must have length greater than or equal to %d", min))
		case max > 0 && n > max:
			return invalidMember(*value, field, fmt.Sprintf("Member must have length less than or equal to %d", max))
		case !re.MatchString(*value):
			return invalidMember(*value, field, "Member must satisfy regular expression pattern: "+re.String()[1:len(re.String())-1])
		}
		return nil
	}
	pool := &req.UserPoolId
	if req.UserPoolId == "" {
		pool = nil // reported as null by the caller
	}
	for _, c := range []struct {
		field    string
		value    *string
		min, max int
		re       *regexp.Regexp
	}{
		{"userPoolId", pool, 1, 55, userPoolIDPattern},
		{"username", req.Username, 1, 128, namePattern},
		{"groupName", req.GroupName, 1, 128, namePattern},
		{"paginationToken", req.PaginationToken, 1, 0, tokenPattern},
		{"nextToken", req.NextToken, 1, 0, tokenPattern},
	} {
		if aerr := check(c.field, c.value, c.min, c.max, c.re); aerr != nil {
			return aerr
		}
	}
	if req.Filter != nil && utf8.RuneCountInString(*req.Filter) > 256 {
		return invalidMember(*req.Filter, "filter", "Member must have length less than or equal to 256")
	}
	if req.AttributesToGet != nil {
		for k, name := range *req.AttributesToGet {
			if aerr := check(fmt.Sprintf("attributesToGet.%d.member", k+1), &name, 1, 32, namePattern); aerr != nil {
				return aerr
			}
		}
	}
	return nil
}

func invalidMember(value, field, constraint string) *apiError {
	return invalid(fmt.Sprintf("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: %s", value, field, constraint))
}

// requestID is a fresh x-amzn-RequestId: AWS sends one with every response,
// and SDKs put it in their error messages.
func requestID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
