package location_test

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cognito-export/cognito-export/fault"
	"github.com/cognito-export/cognito-export/internal/s3server"
	"github.com/cognito-export/cognito-export/location"
	"github.com/cognito-export/cognito-export/sink/s3dest"
)

// none stands for "no such location" in the tables below.
const none = "<none>"

func render(l location.Location, ok bool) string {
	if !ok {
		return none
	}
	return l.String()
}

// TestLocations walks the odd cases through every operation: trailing
// slashes, templates, keys with spaces, unicode, URL syntax and
// backslashes, bucket roots, relative and absolute paths.
func TestLocations(t *testing.T) {
	for _, tc := range []struct {
		in                          string
		s3                          bool
		join, file, parent, base    string
		sibling                     string // of "dt=2"
		namesDirectory, splitsAFile bool
	}{
		// S3, with and without the trailing slash: the same prefix,
		// rendered as written.
		{in: "s3://bkt/cognito/dt=1/", s3: true, join: "s3://bkt/cognito/dt=1/diff/", file: "s3://bkt/cognito/dt=1/report.html",
			parent: "s3://bkt/cognito/", base: "dt=1", sibling: "s3://bkt/cognito/dt=2/", namesDirectory: true},
		{in: "s3://bkt/cognito/dt=1", s3: true, join: "s3://bkt/cognito/dt=1/diff/", file: "s3://bkt/cognito/dt=1/report.html",
			parent: "s3://bkt/cognito/", base: "dt=1", sibling: "s3://bkt/cognito/dt=2/", splitsAFile: true},
		// A template: placeholders are text until expanded.
		{in: "s3://bkt/account={account}/pool={pool}/dt={date}/", s3: true, join: "s3://bkt/account={account}/pool={pool}/dt={date}/diff/",
			file: "s3://bkt/account={account}/pool={pool}/dt={date}/report.html", parent: "s3://bkt/account={account}/pool={pool}/",
			base: "dt={date}", sibling: "s3://bkt/account={account}/pool={pool}/dt=2/", namesDirectory: true},
		// Spaces, unicode, and what URL syntax would take away: %, # and ?
		// are part of the key, as the AWS CLI takes them.
		{in: "s3://bkt/Prüfung 2026/50% #3?/", s3: true, join: "s3://bkt/Prüfung 2026/50% #3?/diff/", file: "s3://bkt/Prüfung 2026/50% #3?/report.html",
			parent: "s3://bkt/Prüfung 2026/", base: "50% #3?", sibling: "s3://bkt/Prüfung 2026/dt=2/", namesDirectory: true},
		// A backslash is a character of an S3 key, not a separator.
		{in: `s3://bkt/a\b/c\d`, s3: true, join: `s3://bkt/a\b/c\d/diff/`, file: `s3://bkt/a\b/c\d/report.html`,
			parent: `s3://bkt/a\b/`, base: `c\d`, sibling: `s3://bkt/a\b/dt=2/`, splitsAFile: true},
		// A bucket's root, either way: no parent, no name of its own.
		{in: "s3://bkt/", s3: true, join: "s3://bkt/diff/", file: "s3://bkt/report.html", parent: none, base: "", sibling: none, namesDirectory: true},
		{in: "s3://bkt", s3: true, join: "s3://bkt/diff/", file: "s3://bkt/report.html", parent: none, base: "", sibling: none, namesDirectory: true},
		// One level under the root.
		{in: "s3://bkt/x", s3: true, join: "s3://bkt/x/diff/", file: "s3://bkt/x/report.html", parent: "s3://bkt/", base: "x", sibling: "s3://bkt/dt=2/", splitsAFile: true},
		// Local: relative, absolute, with a trailing slash, dotted.
		{in: "out", join: "out/diff", file: "out/report.html", parent: ".", base: "out", sibling: "dt=2", splitsAFile: true},
		{in: "./exports/dt=1/", join: "exports/dt=1/diff", file: "exports/dt=1/report.html", parent: "exports", base: "dt=1", sibling: "exports/dt=2", namesDirectory: true},
		{in: "/data/x/../dt=1", join: "/data/dt=1/diff", file: "/data/dt=1/report.html", parent: "/data", base: "dt=1", sibling: "/data/dt=2", splitsAFile: true},
		{in: "/data/dt={date}", join: "/data/dt={date}/diff", file: "/data/dt={date}/report.html", parent: "/data", base: "dt={date}", sibling: "/data/dt=2", splitsAFile: true},
		{in: "/données/été 2026", join: "/données/été 2026/diff", file: "/données/été 2026/report.html", parent: "/données", base: "été 2026", sibling: "/données/dt=2", splitsAFile: true},
		{in: "/", join: "/diff", file: "/report.html", parent: none, base: "", sibling: none, namesDirectory: true},
	} {
		t.Run(tc.in, func(t *testing.T) {
			l, err := location.Parse(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if l.String() != tc.in || l.IsS3() != tc.s3 {
				t.Errorf("renders %q (S3 %v), want %q (S3 %v)", l, l.IsS3(), tc.in, tc.s3)
			}
			if got := l.Join("diff").String(); got != tc.join {
				t.Errorf("Join(diff) = %q, want %q", got, tc.join)
			}
			if got := l.File("report.html"); got != tc.file {
				t.Errorf("File(report.html) = %q, want %q", got, tc.file)
			}
			if got := render(l.Parent()); got != tc.parent {
				t.Errorf("Parent() = %q, want %q", got, tc.parent)
			}
			if got := l.Base(); got != tc.base {
				t.Errorf("Base() = %q, want %q", got, tc.base)
			}
			if got := render(l.Sibling("dt=2")); got != tc.sibling {
				t.Errorf("Sibling(dt=2) = %q, want %q", got, tc.sibling)
			}
			if got := l.NamesDirectory(); got != tc.namesDirectory {
				t.Errorf("NamesDirectory() = %v, want %v", got, tc.namesDirectory)
			}
			dir, name, ok := l.Split()
			if ok != tc.splitsAFile {
				t.Fatalf("Split() ok = %v, want %v", ok, tc.splitsAFile)
			}
			if ok && (dir.String() != tc.parent || name != tc.base) {
				t.Errorf("Split() = %q, %q; want %q, %q", dir, name, tc.parent, tc.base)
			}
			// What Join, Parent and Sibling make parses back as itself.
			for _, made := range []location.Location{l.Join("diff"), dir} {
				if made.IsZero() {
					continue
				}
				again, err := location.Parse(made.String())
				if err != nil || again != made {
					t.Errorf("%q parses back as %+v, %v", made, again, err)
				}
			}
		})
	}
}

// "." and ".." name the working directory and the one above it: their
// parent is the directory above them, not themselves, and their name is
// the directory's own.
func TestDotsAreResolved(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for in, dir := range map[string]string{".": wd, "./": wd, "..": filepath.Dir(wd), "a/..": wd} {
		l := location.MustParse(in)
		parent, ok := l.Parent()
		if !ok || parent.String() != filepath.Dir(dir) {
			t.Errorf("Parent(%q) = %q, %v; want %q", in, parent, ok, filepath.Dir(dir))
		}
		if l.Base() != filepath.Base(dir) {
			t.Errorf("Base(%q) = %q, want %q", in, l.Base(), filepath.Base(dir))
		}
		if _, _, ok := l.Split(); ok || !l.NamesDirectory() {
			t.Errorf("%q is taken for a file", in)
		}
	}
	// A relative path keeps being relative: messages show it as given.
	if p, _ := location.MustParse("exports/dt=1").Parent(); p.String() != "exports" {
		t.Errorf("parent of exports/dt=1 is %q", p)
	}
}

func TestParseRefusesWhatIsNoLocation(t *testing.T) {
	for _, bad := range []string{"", "s3://", "s3:///no-bucket", "s3://a b/x", "s3://bkt#frag/x", "s3://bkt/line\nbreak"} {
		if l, err := location.Parse(bad); err == nil {
			t.Errorf("Parse(%q) = %q, want an error", bad, l)
		} else if bad != "" && fault.KindOf(err) != fault.Usage {
			t.Errorf("Parse(%q): %v is not a usage error", bad, err)
		}
	}
	// Only the lower-case scheme is S3; anything else is a local path.
	if l := location.MustParse("S3://bkt/x"); l.IsS3() {
		t.Error("S3:// taken for S3")
	}
}

// An existing local directory is a directory even without the slash; a
// path that does not exist may be a file.
func TestNamesDirectoryLooksAtALocalPath(t *testing.T) {
	dir := t.TempDir()
	if !location.MustParse(dir).NamesDirectory() {
		t.Errorf("%s exists and is a directory", dir)
	}
	if location.MustParse(filepath.Join(dir, "report.html")).NamesDirectory() {
		t.Error("a path that does not exist is taken for a directory")
	}
}

func TestAboveAndCommon(t *testing.T) {
	marks := []string{"{pool}", "{account}", "{region}"}
	for _, tc := range []struct {
		in    []string
		above []string
		want  string
	}{
		{[]string{"s3://audit/cognito/account={account}/region={region}/pool={pool}/dt={date}/"}, []string{"s3://audit/cognito/"}, "s3://audit/cognito/"},
		{[]string{"s3://audit/c/{region}/{pool}", "s3://audit/c/x/{pool}"}, []string{"s3://audit/c/", "s3://audit/c/x/"}, "s3://audit/c/"},
		{[]string{"s3://audit/a/{pool}", "s3://audit/b/{pool}"}, []string{"s3://audit/a/", "s3://audit/b/"}, "s3://audit/"},
		{[]string{"s3://one/{pool}/", "s3://two/{pool}/"}, []string{"s3://one/", "s3://two/"}, none},
		{[]string{"s3://audit/{pool}/", "/local/{pool}"}, []string{"s3://audit/", "/local"}, none},
		{[]string{"s3://audit-{account}/{pool}/"}, []string{none}, none},
		{[]string{"/data/x/{pool}", "/data/y/pool={pool}/"}, []string{"/data/x", "/data/y"}, "/data"},
		{[]string{"/data/a", "/data/b/"}, []string{"/data", "/data"}, "/data"},
		{[]string{"/data/ab/{pool}", "/data/abc/{pool}"}, []string{"/data/ab", "/data/abc"}, "/data"}, // whole names, not characters
		{[]string{"out-{pool}"}, []string{"."}, "."},
		{[]string{"./a/{pool}", "b/{pool}"}, []string{"a", "b"}, "."},
		{[]string{"/data/{pool}", "data/{pool}"}, []string{"/data", "data"}, none},
		{[]string{"/"}, []string{none}, none},
	} {
		var dirs []location.Location
		for i, in := range tc.in {
			d, ok := location.MustParse(in).Above(marks...)
			if got := render(d, ok); got != tc.above[i] {
				t.Errorf("Above(%q) = %q, want %q", in, got, tc.above[i])
			}
			if !ok {
				dirs = nil
				break
			}
			dirs = append(dirs, d)
		}
		if got := render(location.Common(dirs...)); got != tc.want {
			t.Errorf("Common(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestOpenLocal: a directory is opened for reading only if it exists,
// and for writing it is made.
func TestOpenLocal(t *testing.T) {
	ctx := context.Background()
	missing := location.MustParse(filepath.Join(t.TempDir(), "not", "yet"))
	if _, err := missing.OpenRead(ctx, s3dest.Options{}); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("reading a missing directory: %v", err)
	}
	if _, err := os.Stat(missing.String()); !errors.Is(err, fs.ErrNotExist) {
		t.Fatal("opening for reading made the directory")
	}
	d, err := missing.OpenWrite(ctx, s3dest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Put(ctx, "manifest.json", []byte("{}")); err != nil {
		t.Fatal(err)
	}
	r, err := missing.OpenRead(ctx, s3dest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	readBack(t, r, "manifest.json", "{}")
}

// TestOpenS3 writes through one location and reads through another that
// names the same prefix differently (no trailing slash), with a key that
// URL syntax would have mangled.
func TestOpenS3(t *testing.T) {
	srv := s3server.Start(t)
	srv.Bucket(t, "loc")
	ctx := context.Background()
	opts := s3dest.Options{Region: srv.Region, EndpointURL: srv.Endpoint, Credentials: srv.Credentials()}
	w, err := location.MustParse("s3://loc/Prüfung 2026/50% #3/").OpenWrite(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Put(ctx, "manifest.json", []byte("{}")); err != nil {
		t.Fatal(err)
	}
	parent := location.MustParse("s3://loc/Prüfung 2026")
	r, err := parent.Join("50% #3").OpenRead(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	readBack(t, r, "manifest.json", "{}")
	p, err := parent.OpenRead(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	if dirs, err := p.Dirs(ctx); err != nil || strings.Join(dirs, ",") != "50% #3" {
		t.Fatalf("prefixes under %s: %q, %v", parent, dirs, err)
	}
}

func readBack(t *testing.T, d location.Dir, name, want string) {
	t.Helper()
	rc, err := d.Open(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	got, err := io.ReadAll(rc)
	if err != nil || string(got) != want {
		t.Fatalf("%s in %s: %q, %v; want %q", name, d, got, err, want)
	}
}
