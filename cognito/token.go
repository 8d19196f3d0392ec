package cognito

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
)

// ErrBadStartingToken marks a StartingToken that is not a botocore resume token.
var ErrBadStartingToken = errors.New("malformed starting token")

// resumeToken is botocore's resume token: the service token that fetched the
// page a MaxItems cut stopped in (nil on the first page), plus how many items
// of that page were already returned. The key of the service token is the
// operation's input token name ("NextToken", or "PaginationToken" for ListUsers).
type resumeToken struct {
	key      string
	service  *string
	truncate int
}

// encode produces exactly what botocore's TokenEncoder produces: standard
// base64 of json.dumps with Python's default separators and key order, so the
// token is interchangeable with boto3 and the AWS CLI's --starting-token.
func (t resumeToken) encode() string {
	var b bytes.Buffer
	b.WriteString(`{`)
	keyJSON, _ := json.Marshal(t.key)
	b.Write(keyJSON)
	b.WriteString(`: `)
	if t.service == nil {
		b.WriteString("null")
	} else {
		writePythonJSONString(&b, *t.service)
	}
	if t.truncate > 0 {
		fmt.Fprintf(&b, `, "boto_truncate_amount": %d`, t.truncate)
	}
	b.WriteString(`}`)
	return base64.StdEncoding.EncodeToString(b.Bytes())
}

// writePythonJSONString writes s as Python's json.dumps does with
// ensure_ascii=True: every non-ASCII rune as \uXXXX (surrogate pairs above
// the BMP), and '/' unescaped.
func writePythonJSONString(b *bytes.Buffer, s string) {
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\f':
			b.WriteString(`\f`)
		case r < 0x20 || (r >= 0x7f && r < 0x10000):
			fmt.Fprintf(b, `\u%04x`, r)
		case r >= 0x10000:
			r -= 0x10000
			fmt.Fprintf(b, `\u%04x\u%04x`, 0xd800+(r>>10), 0xdc00+(r&0x3ff))
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
}

// decodeResumeToken accepts a botocore resume token whose service-token key is
// key. Anything else is rejected: silently treating garbage as a service token
// would restart or skip pagination without the caller noticing.
func decodeResumeToken(s, key string) (resumeToken, error) {
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return resumeToken{}, fmt.Errorf("%w: not base64 (pass the NextToken printed by a previous run, boto3 or the AWS CLI)", ErrBadStartingToken)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return resumeToken{}, fmt.Errorf("%w: not a JSON object", ErrBadStartingToken)
	}
	t := resumeToken{key: key}
	for name, value := range fields {
		switch name {
		case key:
			if err := json.Unmarshal(value, &t.service); err != nil {
				return resumeToken{}, fmt.Errorf("%w: %s is not a string or null", ErrBadStartingToken, key)
			}
		case "boto_truncate_amount":
			if err := json.Unmarshal(value, &t.truncate); err != nil || t.truncate < 0 {
				return resumeToken{}, fmt.Errorf("%w: boto_truncate_amount is not a non-negative integer", ErrBadStartingToken)
			}
		default:
			return resumeToken{}, fmt.Errorf("%w: unexpected key %q (want %q)", ErrBadStartingToken, name, key)
		}
	}
	if _, ok := fields[key]; !ok {
		return resumeToken{}, fmt.Errorf("%w: no %q key", ErrBadStartingToken, key)
	}
	if t.service != nil && *t.service == "" {
		t.service = nil
	}
	return t, nil
}
