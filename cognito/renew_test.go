package cognito

import (
	"testing"
	"time"
)

// A role's credentials are renewed a minute before they expire, or a
// quarter of a shorter lifetime before.
func TestRoleCredentialsRenewEarly(t *testing.T) {
	for _, tc := range []struct{ lifetime, want time.Duration }{
		{time.Hour, time.Minute}, {15 * time.Minute, time.Minute}, {4 * time.Second, time.Second}, {-time.Second, 0},
	} {
		if got := renewEarly(tc.lifetime); got != tc.want {
			t.Errorf("renewEarly(%s) = %s, want %s", tc.lifetime, got, tc.want)
		}
	}
}
