package cdp_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/cognito-export/cognito-export/internal/cdp"
	"github.com/cognito-export/cognito-export/internal/chromium"
)

// TestStartTalksToChromium: the real browser answers over the pipe and
// exits when asked.
func TestStartTalksToChromium(t *testing.T) {
	t.Parallel()
	chromium.Require(t)
	b, err := cdp.Start(chromium.Path, "--headless", "--no-sandbox", "--user-data-dir="+t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var v struct{ Product string }
	if err := b.Call(ctx, "", "Browser.getVersion", nil, &v); err != nil || !strings.Contains(v.Product, "Chrome/") {
		t.Errorf("Browser.getVersion: %q, %v", v.Product, err)
	}
	if err := b.Close(); err != nil {
		t.Errorf("close: %v\n%s", err, b.Stderr())
	}
	if err := b.Call(ctx, "", "Browser.getVersion", nil, &v); err == nil {
		t.Error("a call after Close was answered")
	}
}
