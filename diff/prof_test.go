package diff_test

import (
	"context"
	"testing"

	"github.com/cognito-export/cognito-export/diff"
	"github.com/cognito-export/cognito-export/sink/localdest"
)

func TestProfTmp(t *testing.T) {
	ctx := context.Background()
	open := func(p string) diff.Side {
		d, _ := localdest.OpenExisting(p)
		s, err := diff.Open(ctx, p, d)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	a, b := open("/tmp/diffA"), open("/tmp/diffB")
	out, _ := localdest.Open(t.TempDir())
	if _, err := diff.Run(ctx, a, b, out, diff.Options{Format: "parquet"}); err != nil {
		t.Fatal(err)
	}
}
