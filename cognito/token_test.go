package cognito

import (
	"errors"
	"testing"
)

func TestResumeTokenEncodeMatchesBotocore(t *testing.T) {
	// Expected values are what botocore's TokenEncoder produces:
	// base64.b64encode(json.dumps(token).encode()).
	svc := "abc/+=é"
	tests := []struct {
		name string
		tok  resumeToken
		want string
	}{
		{"first page cut", resumeToken{key: "NextToken", truncate: 2}, "eyJOZXh0VG9rZW4iOiBudWxsLCAiYm90b190cnVuY2F0ZV9hbW91bnQiOiAyfQ=="},
		{"page boundary", resumeToken{key: "NextToken", service: &svc}, "eyJOZXh0VG9rZW4iOiAiYWJjLys9XHUwMGU5In0="},
		{"inside a later page", resumeToken{key: "PaginationToken", service: &svc, truncate: 7}, "eyJQYWdpbmF0aW9uVG9rZW4iOiAiYWJjLys9XHUwMGU5IiwgImJvdG9fdHJ1bmNhdGVfYW1vdW50IjogN30="},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.tok.encode()
			if got != tt.want {
				t.Fatalf("encode = %s, want %s", got, tt.want)
			}
			back, err := decodeResumeToken(got, tt.tok.key)
			if err != nil {
				t.Fatal(err)
			}
			if back.truncate != tt.tok.truncate || (back.service == nil) != (tt.tok.service == nil) ||
				(back.service != nil && *back.service != *tt.tok.service) {
				t.Fatalf("decode(encode) = %+v, want %+v", back, tt.tok)
			}
		})
	}
}

func TestDecodeResumeTokenRejectsMalformed(t *testing.T) {
	for name, tok := range map[string]string{
		"not base64":       "%%%",
		"not json":         "bm90IGpzb24=",                                                     // "not json"
		"wrong key":        "eyJNYXJrZXIiOiAiYSJ9",                                             // {"Marker": "a"}
		"negative amount":  "eyJOZXh0VG9rZW4iOiBudWxsLCAiYm90b190cnVuY2F0ZV9hbW91bnQiOiAtMX0=", // -1
		"token not string": "eyJOZXh0VG9rZW4iOiA1fQ==",                                         // {"NextToken": 5}
		"json array":       "WzFd",                                                             // [1]
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := decodeResumeToken(tok, "NextToken"); !errors.Is(err, ErrBadStartingToken) {
				t.Fatalf("decode(%q) error = %v, want ErrBadStartingToken", tok, err)
			}
		})
	}
}
