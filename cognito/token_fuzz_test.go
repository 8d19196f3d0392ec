package cognito

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"testing"

	"github.com/cognito-export/cognito-export/internal/fuzzcheck"
)

// FuzzResumeToken decodes a --starting-token as the user passes it: what
// is not botocore's base64 JSON is ErrBadStartingToken, never a panic; what
// decodes encodes back to a token that decodes to the same, in the exact
// JSON Python writes. The token's own text, taken as a service token, goes
// through the same encoder: any string, however hostile, round-trips.
func FuzzResumeToken(f *testing.F) {
	svc := "abc/+=é"
	hostile := "\x00\"\\\u2028\U0001F600\x7f</script>"
	for _, tok := range []resumeToken{
		{key: "NextToken", truncate: 2},
		{key: "NextToken", service: &svc},
		{key: "PaginationToken", service: &svc, truncate: 7},
		{key: "PaginationToken", service: &hostile, truncate: 1 << 40},
	} {
		f.Add(tok.encode(), tok.key == "PaginationToken")
	}
	for _, bad := range []string{"%%%", "bm90IGpzb24=", "eyJNYXJrZXIiOiAiYSJ9", "WzFd",
		"eyJOZXh0VG9rZW4iOiBudWxsLCAiYm90b190cnVuY2F0ZV9hbW91bnQiOiAtMX0=", "eyJOZXh0VG9rZW4iOiA1fQ=="} {
		f.Add(bad, false)
	}
	f.Fuzz(func(t *testing.T, s string, listUsers bool) {
		key := "NextToken"
		if listUsers {
			key = "PaginationToken"
		}
		var tok resumeToken
		var err error
		fuzzcheck.Default.Check(t, len(s), func() { tok, err = decodeResumeToken(s, key) })
		if err != nil {
			if !errors.Is(err, ErrBadStartingToken) {
				t.Fatalf("decode(%q): %v, want ErrBadStartingToken", s, err)
			}
		} else {
			roundTrip(t, tok)
		}
		// Any text as a service token: each byte that is not UTF-8 is
		// U+FFFD, as Python's json.dumps of the str boto3 would hold.
		text := string([]rune(s))
		roundTrip(t, resumeToken{key: key, service: &text, truncate: len(s)})
	})
}

// roundTrip checks that tok encodes to botocore's JSON and decodes back.
func roundTrip(t *testing.T, tok resumeToken) {
	t.Helper()
	enc := tok.encode()
	raw, err := base64.StdEncoding.DecodeString(enc)
	if err != nil || !json.Valid(raw) {
		t.Fatalf("encode(%+v) = %q: not base64 of JSON", tok, raw)
	}
	back, err := decodeResumeToken(enc, tok.key)
	if err != nil {
		t.Fatalf("decode(encode(%+v)): %v", tok, err)
	}
	svc := func(t resumeToken) string { // "" is no service token, as null is
		if t.service == nil {
			return ""
		}
		return *t.service
	}
	same := back.truncate == tok.truncate && svc(back) == svc(tok)
	if !same {
		t.Fatalf("decode(encode(%+v)) = %+v (%q)", tok, back, raw)
	}
}
