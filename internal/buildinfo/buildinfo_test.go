package buildinfo

import (
	"runtime/debug"
	"testing"
)

func TestString(t *testing.T) {
	for _, c := range []struct {
		name string
		bi   debug.BuildInfo
		want string
	}{
		{"release", debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "m", Version: "v1.2.0"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "0123456789abcdef0123"}, {Key: "vcs.modified", Value: "false"}}},
			"cognito-export v1.2.0 (rev 0123456789ab, go1.26.8)"},
		{"dirty work tree", debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "m", Version: "(devel)"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "abc"}, {Key: "vcs.modified", Value: "true"}}},
			"cognito-export (devel) (rev abc+modified, go1.26.8)"},
		{"no VCS stamp", debug.BuildInfo{GoVersion: "go1.26.8"}, "cognito-export (devel) (go1.26.8)"},
	} {
		if got := fromBuildInfo(&c.bi).String(); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}

func TestGeneratorNamesThisBinary(t *testing.T) {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		t.Skip("no build information")
	}
	if got, want := Generator(), fromBuildInfo(bi).String(); got != want {
		t.Errorf("Generator() = %q, want %q", got, want)
	}
}
