// Package buildinfo says what made a file: the module version, the VCS
// revision and the Go version this binary was built with, read from the
// build information the Go toolchain embeds. Every file the job writes for
// a reader (manifest.json, summary.json, index.json, report.json) carries
// the same Generator string, and `cognito-export version` prints it.
package buildinfo

import (
	"runtime/debug"
	"strings"
)

// Info is what the build information says of this binary.
type Info struct {
	Module    string // the main module's path
	Version   string // e.g. v1.2.0, or v0.0.0-20261205…-abcdef012345+dirty, or (devel)
	Revision  string // the VCS revision; "" when the build did not stamp one
	Time      string // the revision's commit time, RFC 3339; "" when unknown
	Modified  bool   // the work tree had uncommitted changes
	GoVersion string
}

// Read returns this binary's build information. A binary built without
// module support (or a test binary) still has a Go version.
func Read() Info {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return Info{Version: "(unknown)", GoVersion: "unknown"}
	}
	return fromBuildInfo(bi)
}

func fromBuildInfo(bi *debug.BuildInfo) Info {
	in := Info{Module: bi.Main.Path, Version: bi.Main.Version, GoVersion: bi.GoVersion}
	if in.Version == "" {
		in.Version = "(devel)"
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			in.Revision = s.Value
		case "vcs.time":
			in.Time = s.Value
		case "vcs.modified":
			in.Modified = s.Value == "true"
		}
	}
	return in
}

// String is the generator string files carry, e.g.
// "cognito-export v1.2.0 (rev 0123456789ab, go1.26.8)".
func (in Info) String() string {
	var b strings.Builder
	b.WriteString("cognito-export ")
	b.WriteString(in.Version)
	b.WriteString(" (")
	if in.Revision != "" {
		b.WriteString("rev ")
		b.WriteString(short(in.Revision))
		if in.Modified {
			b.WriteString("+modified")
		}
		b.WriteString(", ")
	}
	b.WriteString(in.GoVersion)
	b.WriteString(")")
	return b.String()
}

// Generator is Read().String(), computed once.
var generator = Read().String()

// Generator is the string every file the job writes names its maker by.
func Generator() string { return generator }

func short(rev string) string {
	if len(rev) > 12 {
		return rev[:12]
	}
	return rev
}
