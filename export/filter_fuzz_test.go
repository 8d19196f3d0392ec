package export_test

import (
	"strings"
	"testing"

	"github.com/cognito-export/cognito-export/export"
	"github.com/cognito-export/cognito-export/internal/fuzzcheck"
)

// FuzzValidateFilter checks --filter text as a user may type it: a
// verdict, never a panic, and a refusal in one line that is safe to print.
// Whether what it accepts is what Cognito parses is FuzzParseFilter's
// question, against the emulator's parser.
func FuzzValidateFilter(f *testing.F) {
	for _, s := range []string{`email ^= "a"`, `"email"^="a"`, `username = "a\"b\\"`, `status = "Enabled"`,
		`cognito:user_status = "CONFIRMED"`, ``, `custom:x = "y"`, `email = "`, `name = "\"`, `"email = "a"`,
		`email ^ = "a"`, `  sub="x"  `, `username = "` + strings.Repeat("a", 250) + `"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var err error
		fuzzcheck.Default.Check(t, len(s), func() { err = export.ValidateFilter(s) })
		if err == nil {
			if len(s) > 256 {
				t.Fatalf("accepted a filter of %d characters; Cognito takes 256", len(s))
			}
			return
		}
		if msg := err.Error(); strings.ContainsAny(msg, "\r\n\x1b") {
			t.Fatalf("the refusal of %q is not one plain line: %q", s, msg)
		}
	})
}
