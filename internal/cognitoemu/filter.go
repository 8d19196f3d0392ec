package cognitoemu

import (
	"strings"
)

// filter is a parsed ListUsers Filter: `attr = "value"` (exact) or
// `attr ^= "value"` (prefix), on one of the attributes Cognito searches.
type filter struct {
	attr   string
	value  string
	prefix bool
}

// searchable are the attributes a Filter may name (the ListUsers API
// reference); custom attributes are not searchable.
var searchable = []string{"username", "email", "phone_number", "name", "given_name", "family_name",
	"preferred_username", "cognito:user_status", "status", "sub"}

var errFilter = invalid("Error while parsing filter.")

// parseFilter parses s; an empty filter is nil and lists every user. The
// attribute name may be quoted ("email"^="a" is accepted, as in the SDKs'
// examples); in the value, \" and \\ stand for " and \.
func parseFilter(s string) (*filter, *apiError) {
	rest := strings.TrimSpace(s)
	if rest == "" {
		return nil, nil
	}
	var f filter
	if rest[0] == '"' {
		end := strings.IndexByte(rest[1:], '"')
		if end < 0 {
			return nil, errFilter
		}
		f.attr, rest = rest[1:1+end], rest[2+end:]
	} else {
		end := strings.IndexAny(rest, " \t\n\r^=\"")
		if end < 0 {
			return nil, errFilter
		}
		f.attr, rest = rest[:end], rest[end:]
	}
	rest = strings.TrimLeft(rest, " \t\n\r")
	switch {
	case strings.HasPrefix(rest, "^="):
		f.prefix, rest = true, rest[2:]
	case strings.HasPrefix(rest, "="):
		rest = rest[1:]
	default:
		return nil, errFilter
	}
	rest = strings.TrimLeft(rest, " \t\n\r")
	if rest == "" || rest[0] != '"' {
		return nil, errFilter
	}
	var v strings.Builder
	k := 1
	for ; k < len(rest) && rest[k] != '"'; k++ {
		if rest[k] == '\\' && k+1 < len(rest) {
			k++
		}
		v.WriteByte(rest[k])
	}
	if k >= len(rest) || strings.TrimSpace(rest[k+1:]) != "" {
		return nil, errFilter
	}
	f.value = v.String()
	if !isSearchable(f.attr) {
		return nil, errFilter
	}
	return &f, nil
}

func isSearchable(attr string) bool {
	for _, a := range searchable {
		if a == attr {
			return true
		}
	}
	return false
}

// match reports whether user i (u) passes the filter. username and status
// compare case-sensitively, cognito:user_status case-insensitively (as the
// API reference says); the others compare exactly.
func (f *filter) match(p *Pool, i int, u *User) bool {
	var have string
	switch f.attr {
	case "username":
		have = u.Username
	case "cognito:user_status":
		n := len(f.value)
		if !f.prefix && n != len(u.Status) || n > len(u.Status) {
			return false
		}
		return strings.EqualFold(u.Status[:n], f.value)
	case "status":
		have = "Disabled"
		if u.Enabled {
			have = "Enabled"
		}
	default:
		v, ok := p.attribute(i, u, f.attr)
		if !ok {
			return false
		}
		have = v
	}
	if f.prefix {
		return strings.HasPrefix(have, f.value)
	}
	return have == f.value
}
