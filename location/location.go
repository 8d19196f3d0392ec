// Package location parses where an export, a diff, a run's index or a
// report is read from or written to — a local directory or
// s3://bucket/prefix/ — once, into a Location: it joins names under
// itself, names its parent, its siblings and its base name, renders itself,
// and opens itself for reading or for writing. Nobody else looks at the
// s3:// prefix: the S3 half of the parsing is s3dest.ParseURL, the opening
// is localdest's or s3dest's.
//
// A location may be a template ({date}, {pool}, …): its placeholders are
// kept as text, joined and cut like any other name, until the export
// expands them.
package location

import (
	"errors"
	"os"
	"path/filepath"
	"strings"

	"github.com/cognito-export/cognito-export/sink/s3dest"
)

const s3Scheme = "s3://"

// Location is a local directory or an S3 prefix, as parsed. The zero value
// is no location.
type Location struct {
	bucket string // S3: the bucket; "" for a local directory
	key    string // S3: the key prefix, "" (the bucket's root) or ending in "/"
	path   string // local: the path as written or as joined
	text   string // how it renders: as written, or as Join and Parent made it
}

// ErrEmpty is an empty location string.
var ErrEmpty = errors.New("empty location: want a directory or s3://bucket/prefix/")

// Parse reads s: s3://bucket/prefix (the key as written: spaces, %, # and
// backslashes are part of it), anything else a local path.
func Parse(s string) (Location, error) {
	if s == "" {
		return Location{}, ErrEmpty
	}
	if !strings.HasPrefix(s, s3Scheme) {
		return Location{path: s, text: s}, nil
	}
	bucket, key, err := s3dest.ParseURL(s)
	if err != nil {
		return Location{}, err
	}
	return Location{bucket: bucket, key: key, text: s}, nil
}

// MustParse is Parse for a location known to be good, such as a constant
// in a test; a bad one panics.
func MustParse(s string) Location {
	l, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return l
}

func s3At(bucket, key string) Location {
	return Location{bucket: bucket, key: key, text: s3Scheme + bucket + "/" + key}
}

func localAt(path string) Location { return Location{path: path, text: path} }

// String is the location as written, or as Join and Parent made it.
func (l Location) String() string { return l.text }

// MarshalText renders l in logs and JSON as String does.
func (l Location) MarshalText() ([]byte, error) { return []byte(l.text), nil }

// IsZero reports whether l is no location.
func (l Location) IsZero() bool { return l.text == "" }

// IsS3 reports whether l is an S3 prefix.
func (l Location) IsS3() bool { return l.bucket != "" }

// Join is the directory (or prefix) name under l: s3://b/p/ joined with
// diff is s3://b/p/diff/, out joined with diff is out/diff.
func (l Location) Join(name string) Location {
	if l.IsS3() {
		return s3At(l.bucket, l.key+strings.Trim(name, "/")+"/")
	}
	return localAt(filepath.Join(l.path, name))
}

// File renders the file name directly under l: s3://b/p/report.html,
// out/report.html.
func (l Location) File(name string) string {
	if l.IsS3() {
		return s3Scheme + l.bucket + "/" + l.key + name
	}
	return filepath.Join(l.path, name)
}

// Parent is the directory (or prefix) that holds l. A bucket's root and a
// filesystem's root have none. A local "." or ".." is resolved against the
// working directory first, so that the parent of "." is the directory
// above it, not "." itself.
func (l Location) Parent() (Location, bool) {
	if l.IsS3() {
		if l.key == "" {
			return Location{}, false
		}
		trimmed := strings.TrimSuffix(l.key, "/")
		return s3At(l.bucket, trimmed[:strings.LastIndexByte(trimmed, '/')+1]), true
	}
	clean, ok := l.resolved()
	if !ok {
		return Location{}, false
	}
	parent := filepath.Dir(clean)
	if parent == clean {
		return Location{}, false // "/", or a volume's root
	}
	return localAt(parent), true
}

// Base is l's own name, the last element of its path or key: "" for a
// bucket's root or a filesystem's root.
func (l Location) Base() string {
	if l.IsS3() {
		trimmed := strings.TrimSuffix(l.key, "/")
		return trimmed[strings.LastIndexByte(trimmed, '/')+1:]
	}
	clean, ok := l.resolved()
	if !ok || filepath.Dir(clean) == clean {
		return ""
	}
	return filepath.Base(clean)
}

// Sibling is the directory (or prefix) name beside l, under l's parent.
func (l Location) Sibling(name string) (Location, bool) {
	p, ok := l.Parent()
	if !ok {
		return Location{}, false
	}
	return p.Join(name), true
}

// resolved is a local path cleaned, made absolute when its last element is
// "." or "..", which name no directory by themselves.
func (l Location) resolved() (string, bool) {
	clean := filepath.Clean(l.path)
	if b := filepath.Base(clean); b == "." || b == ".." {
		abs, err := filepath.Abs(clean)
		if err != nil {
			return "", false
		}
		clean = abs
	}
	return clean, true
}

// slashed reports whether l was written ending in a separator: a
// directory by its own say.
func (l Location) slashed() bool {
	if l.IsS3() {
		return strings.HasSuffix(l.text, "/")
	}
	return strings.HasSuffix(l.text, "/") || strings.HasSuffix(l.text, string(filepath.Separator))
}

// NamesDirectory reports whether l can only be a directory: written with a
// trailing separator, a root (of a bucket or a filesystem), "." or "..", or
// a local directory that exists. Anything else may name a file.
func (l Location) NamesDirectory() bool {
	if l.slashed() || l.Base() == "" {
		return true
	}
	if l.IsS3() {
		return false
	}
	if b := filepath.Base(filepath.Clean(l.path)); b == "." || b == ".." {
		return true
	}
	st, err := os.Stat(l.path)
	return err == nil && st.IsDir()
}

// Split takes l as a file's location: the directory that holds it and the
// file's name. ok is false when l can only be a directory (written with a
// trailing separator, or a root).
func (l Location) Split() (dir Location, name string, ok bool) {
	if l.slashed() {
		return Location{}, "", false
	}
	if b := filepath.Base(filepath.Clean(l.path)); !l.IsS3() && (b == "." || b == "..") {
		return Location{}, "", false
	}
	name = l.Base()
	dir, ok = l.Parent()
	return dir, name, ok && name != ""
}
