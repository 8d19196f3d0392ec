package lease_test

import (
	"strings"
	"testing"
	"time"

	"github.com/cognito-export/cognito-export/internal/fuzzcheck"
	"github.com/cognito-export/cognito-export/lease"
)

// FuzzParse reads a lease object as anyone who can write the output may
// have left it: a verdict, never a panic, and a holder whose refusal
// (the HeldError line every other run prints) stays one plain line.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`{"run_id":"20261205T160000Z-a1b2c3","host":"ip-10-0-0-1","pid":4242,"started":"2026-12-05T16:00:00Z","renewed":"2026-12-05T16:00:40Z","expires":"2026-12-05T16:02:40Z"}`,
		`{"run_id":"x\u001b[31m\nforged line","host":"h\r","pid":-1,"expires":"2026-12-05T16:02:40Z"}`,
		`{"expires":"9999-12-31T23:59:59Z","run_id":"` + strings.Repeat("é", 300) + `"}`,
		`{}`, `null`, `[]`, `{"expires":1}`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var h lease.Holder
		var err error
		fuzzcheck.Default.Check(t, len(data), func() { h, err = lease.Parse(data) })
		if err != nil {
			return
		}
		msg := (&lease.HeldError{Where: "out", Holder: h, Now: time.Now()}).Error()
		if strings.ContainsAny(msg, "\r\n\x1b") {
			t.Fatalf("the refusal naming the holder of %q is not one plain line: %q", data, msg)
		}
	})
}
