package chromium

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/cognito-export/cognito-export/internal/peer"
)

// TestMissingChromiumFailsWhenRequired: a browser that is not there is a
// skip in a developer's go test, and a failure under make test
// (COGNITO_EXPORT_REQUIRE_PEERS=1), never a green run that opened no page.
// The verdict is the test binary's own, run again as a child.
func TestMissingChromiumFailsWhenRequired(t *testing.T) {
	if os.Getenv("CHROMIUM_TEST_CHILD") == "1" {
		if err := check("/nonexistent/chromium"); err != nil {
			peer.Missing(t, err)
		}
		t.Fatal("check accepted a browser that is not there")
	}
	for _, c := range []struct {
		require string
		fails   bool
	}{{"1", true}, {"", false}} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestMissingChromiumFailsWhenRequired$", "-test.v")
		cmd.Env = append(os.Environ(), "CHROMIUM_TEST_CHILD=1", peer.RequireEnv+"="+c.require)
		out, err := cmd.CombinedOutput()
		if failed := err != nil; failed != c.fails || !strings.Contains(string(out), "/nonexistent/chromium does not run") {
			t.Errorf("%s=%q: failed %v, want %v:\n%s", peer.RequireEnv, c.require, failed, c.fails, out)
		}
		if !c.fails && !strings.Contains(string(out), "--- SKIP") {
			t.Errorf("%s unset: not a skip:\n%s", peer.RequireEnv, out)
		}
	}
}
