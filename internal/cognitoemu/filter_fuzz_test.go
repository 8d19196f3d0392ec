package cognitoemu

import (
	"strings"
	"testing"

	"github.com/cognito-export/cognito-export/export"
	"github.com/cognito-export/cognito-export/internal/fuzzcheck"
)

// FuzzParseFilter parses a ListUsers Filter as the emulator receives it
// over HTTP (emulate serves it to any client). It never panics; a filter it
// accepts, written back with its value escaped, parses to the same filter;
// and every filter the exporter's --filter check lets through, it parses
// too: the check exists to refuse, before any call, what Cognito would.
func FuzzParseFilter(f *testing.F) {
	for _, s := range []string{`email ^= "a"`, `"email"^="a"`, `username = "a\"b\\"`, `status = "Enabled"`,
		`cognito:user_status = "CONFIRMED"`, ``, `custom:x = "y"`, `email = "`, `  sub="x"  `, "name\t=\n\"名前\""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var got *filter
		var aerr *apiError
		fuzzcheck.Default.Check(t, len(s), func() { got, aerr = parseFilter(s) })
		if err := export.ValidateFilter(s); err == nil && aerr != nil {
			t.Fatalf("%q passes the exporter's check, but the emulator rejects it", s)
		}
		if aerr != nil || got == nil {
			return
		}
		op := " = "
		if got.prefix {
			op = " ^= "
		}
		escaped := strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(got.value)
		again, aerr := parseFilter(got.attr + op + `"` + escaped + `"`)
		if aerr != nil || *again != *got {
			t.Fatalf("%q parsed as %+v; written back it parses as %+v (%v)", s, *got, again, aerr)
		}
	})
}
