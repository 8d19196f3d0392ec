package export

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// searchable are the attributes a ListUsers filter may name (Cognito's API
// reference, ListUsers Filter); custom attributes are not searchable.
var searchable = []string{
	"username", "email", "phone_number", "name", "given_name", "family_name",
	"preferred_username", "cognito:user_status", "status", "sub",
}

// ValidateFilter checks a ListUsers filter before any call: one condition,
// `attribute = "value"` or `attribute ^= "value"` (prefix), on a searchable
// attribute, as Cognito documents it. "" is no filter.
func ValidateFilter(expr string) error {
	if expr == "" {
		return nil
	}
	if len(expr) > 256 {
		return errors.New("too long: Cognito takes at most 256 characters")
	}
	attr, rest, ok := strings.Cut(expr, "=")
	if !ok {
		return errors.New(`want ATTRIBUTE = "VALUE" or ATTRIBUTE ^= "VALUE", e.g. email ^= "a"`)
	}
	attr = strings.TrimSpace(strings.TrimSuffix(attr, "^")) // "^=" is one operator: no space inside
	if inner, ok := strings.CutPrefix(attr, `"`); ok {
		// A quoted attribute name ("email" ^= "a") is quoted whole.
		if inner, ok = strings.CutSuffix(inner, `"`); !ok || strings.Contains(inner, `"`) {
			return fmt.Errorf(`attribute %q: quote the whole name, as "email", or none of it`, attr)
		}
		attr = inner
	}
	if !slices.Contains(searchable, attr) {
		return fmt.Errorf("%q is not an attribute Cognito can filter on (%s)", attr, strings.Join(searchable, ", "))
	}
	value := strings.TrimSpace(rest)
	if len(value) < 2 || value[0] != '"' || value[len(value)-1] != '"' {
		return errors.New(`the value must be in double quotes, e.g. email ^= "a"`)
	}
	inner := value[1 : len(value)-1]
	for i := 0; i < len(inner); i++ {
		switch inner[i] {
		case '\\':
			if i == len(inner)-1 {
				// `name = "a\"` escapes its closing quote: the value
				// never ends, and Cognito rejects it.
				return errors.New(`the value's closing double quote is escaped: write a backslash as \\`)
			}
			i++ // an escaped character
		case '"':
			return errors.New(`a double quote inside the value must be escaped as \"`)
		}
	}
	if attr == "status" && inner != "Enabled" && inner != "Disabled" {
		return errors.New(`status is "Enabled" or "Disabled"`)
	}
	return nil
}
