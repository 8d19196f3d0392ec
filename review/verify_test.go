package review_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cognito-export/cognito-export/review"
)

// TestVerify holds verify's verdicts: intact with its counts; a part
// changed is NOT intact, the part named; a part missing too; no export is
// the user's to fix, as is retention asked of a directory.
func TestVerify(t *testing.T) {
	_, first, second := exportTwice(t)
	ctx := context.Background()
	var out bytes.Buffer
	if err := review.Verify(ctx, first, review.VerifyOptions{}, &out); err != nil {
		t.Fatalf("an intact export: %v\n%s", err, &out)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 || lines[0] != "verify: not signed" || !strings.HasPrefix(lines[1], "verify: intact: 1 part, ") || !strings.Contains(lines[1], "SHA-256 of manifest.json ") {
		t.Fatalf("an intact export says:\n%s", &out)
	}

	part := filepath.Join(second, "part-00000.csv")
	f, err := os.OpenFile(part, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("x"); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	err = review.Verify(ctx, second, review.VerifyOptions{}, &out)
	if !errors.Is(err, review.ErrNotIntact) || !strings.Contains(out.String(), "part-00000.csv") || !strings.Contains(out.String(), "verify: NOT intact: ") {
		t.Fatalf("a changed part: %v\n%s", err, &out)
	}
	if err := os.Remove(part); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := review.Verify(ctx, second, review.VerifyOptions{}, &out); !errors.Is(err, review.ErrNotIntact) || !strings.Contains(out.String(), "part-00000.csv") {
		t.Fatalf("a missing part: %v\n%s", err, &out)
	}

	usage(t, review.Verify(ctx, t.TempDir(), review.VerifyOptions{}, &out), "verify: no complete export")
	usage(t, review.Verify(ctx, first, review.VerifyOptions{RequireRetention: true}, &out), "verify: --require-retention at ")
}
