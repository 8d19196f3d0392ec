package decisions_test

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"github.com/cognito-export/cognito-export/decisions"
)

// FuzzRead holds Read to outside bytes: it never panics, a file it takes
// has only decided rows of one pool, and what it takes writes back to a
// file that reads the same.
func FuzzRead(f *testing.F) {
	var buf bytes.Buffer
	if err := decisions.Write(&buf, sample()); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add([]byte(strings.Join(decisions.Columns, ",") + "\r\np,g,u,s,,,,,m\r\n"))
	f.Add([]byte("decision,username\n\"a\"\"b\nc\",x"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ds, err := decisions.Read(bytes.NewReader(data))
		if err != nil {
			if ds != nil {
				t.Fatalf("refused with %d decisions", len(ds))
			}
			return
		}
		for _, d := range ds {
			if d.Verdict != decisions.Keep && d.Verdict != decisions.Revoke || d.PoolID != ds[0].PoolID || d.Line < 2 {
				t.Fatalf("took %+v", d)
			}
		}
		var out bytes.Buffer
		if err := decisions.Write(&out, ds); err != nil {
			t.Fatal(err)
		}
		again, err := decisions.Read(&out)
		if err != nil {
			t.Fatalf("what was taken does not read back: %v", err)
		}
		for i := range ds {
			ds[i].Line, again[i].Line = 0, 0
			// Time zones are written as UTC: the instant is what counts.
			if !ds[i].DecidedAt.Equal(again[i].DecidedAt) {
				t.Fatalf("decided_at %v read back as %v", ds[i].DecidedAt, again[i].DecidedAt)
			}
			ds[i].DecidedAt = again[i].DecidedAt
		}
		if !reflect.DeepEqual(ds, again) {
			t.Fatalf("took\n%+v\nread back\n%+v", ds, again)
		}
	})
}
