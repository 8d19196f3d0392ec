// Package peer decides what a test does when a peer it needs (a program or
// package installed by scripts/install-test-deps.sh) is missing: skip under
// -short or on a developer's machine, fail in CI, so that a missing peer can
// never turn into a green run that tested nothing.
package peer

import (
	"os"
	"testing"
)

// RequireEnv, set to 1 (as scripts/test.sh does), turns a missing peer into
// a test failure instead of a skip.
const RequireEnv = "COGNITO_EXPORT_REQUIRE_PEERS"

// Missing stops t because a peer is unavailable: err says which and how to
// install it.
func Missing(t testing.TB, err error) {
	t.Helper()
	switch {
	case testing.Short():
		t.Skipf("peer unavailable (-short): %v", err)
	case os.Getenv(RequireEnv) == "1":
		t.Fatalf("peer unavailable and %s=1: %v", RequireEnv, err)
	default:
		t.Skipf("peer unavailable: %v", err)
	}
}
