// Package peer decides when a test uses a peer (a program or package
// installed by scripts/install-test-deps.sh): never in the fast layer (go
// test -short), always in make test, where a missing peer fails the run
// instead of turning into a green run that tested nothing.
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

// Start is called by every peer before it starts: under -short the test
// skips, installed peer or not, so that the fast layer stays fast and the
// same on every machine. make test runs them all.
func Start(t testing.TB, name string) {
	t.Helper()
	if testing.Short() {
		t.Skipf("%s is a peer of make test, not of the fast layer (-short)", name)
	}
}
