package location

import (
	"path/filepath"
	"strings"
)

// Above is the directory that holds the text of l before the first of
// marks (placeholders that differ from one output to the next):
// s3://b/c/pool={pool}/ above {pool} is s3://b/c/, out-{pool} is ".".
// When l holds none of marks, it is the directory that holds l. ok is
// false when there is none: a mark in the bucket's name, or l a root.
func (l Location) Above(marks ...string) (Location, bool) {
	text := l.text
	cut := firstIndex(text, marks...)
	if cut < 0 {
		return l.Parent()
	}
	if l.IsS3() {
		keyAt := len(s3Scheme) + len(l.bucket) + 1
		if cut < keyAt {
			return Location{}, false
		}
		key := text[keyAt:cut]
		return s3At(l.bucket, key[:strings.LastIndexByte(key, '/')+1]), true
	}
	head := text[:cut]
	dir := head[:strings.LastIndexAny(head, "/"+string(filepath.Separator))+1]
	if dir == "" {
		return localAt("."), true
	}
	return localAt(filepath.Clean(dir)), true
}

func firstIndex(s string, subs ...string) int {
	first := -1
	for _, sub := range subs {
		if i := strings.Index(s, sub); i >= 0 && (first < 0 || i < first) {
			first = i
		}
	}
	return first
}

// Common is the deepest directory that holds every one of locs: their
// longest shared prefix, whole names only. ok is false when they share
// none: a local path and an S3 prefix, two buckets, a relative path and
// an absolute one, or no locations at all.
func Common(locs ...Location) (Location, bool) {
	if len(locs) == 0 {
		return Location{}, false
	}
	first := locs[0]
	shared := first.elements()
	for _, l := range locs[1:] {
		if l.IsS3() != first.IsS3() || l.bucket != first.bucket || l.absolute() != first.absolute() {
			return Location{}, false
		}
		e := l.elements()
		n := 0
		for n < len(shared) && n < len(e) && shared[n] == e[n] {
			n++
		}
		shared = shared[:n]
	}
	if first.IsS3() {
		key := strings.Join(shared, "/")
		if key != "" {
			key += "/"
		}
		return s3At(first.bucket, key), true
	}
	p := filepath.Join(shared...)
	if first.absolute() {
		p = filepath.Join(filepath.VolumeName(first.path)+string(filepath.Separator), p)
	}
	if p == "" {
		p = "."
	}
	return localAt(p), true
}

// elements are the names of l's key or of its cleaned path, from the top.
func (l Location) elements() []string {
	if l.IsS3() {
		if l.key == "" {
			return nil
		}
		return strings.Split(strings.TrimSuffix(l.key, "/"), "/")
	}
	clean := filepath.Clean(l.path)
	clean = strings.TrimPrefix(clean, filepath.VolumeName(clean))
	return strings.FieldsFunc(clean, func(r rune) bool { return r == filepath.Separator || r == '/' })
}

func (l Location) absolute() bool { return !l.IsS3() && filepath.IsAbs(l.path) }
