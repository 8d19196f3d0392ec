package reader_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/cognito-export/cognito-export/internal/fuzzcheck"
	"github.com/cognito-export/cognito-export/reader"
	"github.com/cognito-export/cognito-export/sink"
	"github.com/cognito-export/cognito-export/sink/localdest"
	"github.com/cognito-export/cognito-export/sink/memdest"
)

// printable reports whether s is one line a terminal shows as it is: no
// control character, no bidirectional override, nothing unprintable.
func printable(s string) bool {
	for _, r := range s {
		if !strconv.IsPrint(r) {
			return false
		}
	}
	return true
}

// FuzzReadManifest reads a manifest.json of any bytes, as verify, diff,
// report and a resume find it in an output anyone with write access may
// have changed: an error that names the manifest and where it is, in one
// printable line, never a panic, within the allocation bound; one that
// reads carries the SHA-256 of exactly these bytes.
func FuzzReadManifest(f *testing.F) {
	for _, e := range fuzzcheck.Exports(f) {
		f.Add(e.Manifest)
		f.Add(e.Manifest[:len(e.Manifest)/2])
	}
	f.Add([]byte(`{"format": "csv", "schema_version": 2, "parts": [{}, {}, {}], "parameters": {"a": "b"}}`))
	f.Add([]byte(`{"format": "csv", "schema_version": 2, "parameters": {"\u202e": 1}}`))
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, data []byte) {
		d := memdest.New()
		if err := d.Put(ctx, reader.ManifestName, data); err != nil {
			t.Fatal(err)
		}
		var m reader.Manifest
		var err error
		// A structure per JSON value (an empty part, {}, is a PartInfo of
		// 64 bytes kept twice while its slice grows), and the bytes read
		// once more while io.ReadAll's buffer grows.
		fuzzcheck.Bound{PerByte: 256, Fixed: 1 << 20}.Check(t, len(data), func() { m, err = reader.ReadManifest(ctx, d) })
		if err != nil {
			var bad *reader.ManifestError
			if !errors.As(err, &bad) {
				t.Fatalf("a manifest that is there but does not read is not a ManifestError: %v", err)
			}
			if msg := err.Error(); !strings.Contains(msg, reader.ManifestName) || !strings.Contains(msg, d.String()) || !printable(msg) {
				t.Fatalf("the error is not one printable line naming %s at %s: %q", reader.ManifestName, d, msg)
			}
			return
		}
		sum := sha256.Sum256(data)
		if m.SHA256 != hex.EncodeToString(sum[:]) {
			t.Fatalf("SHA-256 %s of a manifest whose bytes hash to %x", m.SHA256, sum)
		}
	})
}

// FuzzVerify verifies an export of one part, its manifest and the part
// both of any bytes (the part written under the name the manifest gives
// its first part, so that a real manifest and its part start intact):
// every problem is about the manifest or a file there, in one printable
// line; verify stops with an error only when a file cannot be read, and
// says which; never a panic, within the allocation bound. A small tail
// sends a Parquet footer through the second read of the part.
func FuzzVerify(f *testing.F) {
	for _, e := range fuzzcheck.Exports(f) {
		var m sink.Manifest
		if err := json.Unmarshal(e.Manifest, &m); err != nil {
			f.Fatal(err)
		}
		f.Add(e.Manifest, e.Parts[0].Data, false)
		// The export cut to its first part, intact.
		m.Parts = m.Parts[:1]
		m.Totals.Parts, m.Totals.Rows, m.Totals.Bytes = 1, m.Parts[0].Rows, m.Parts[0].Bytes
		one, err := json.MarshalIndent(m, "", "  ")
		if err != nil {
			f.Fatal(err)
		}
		f.Add(one, e.Parts[0].Data, true)
	}
	// Names a terminal would act on, listed twice and not there.
	f.Add([]byte(`{"format": "csv", "schema_version": 2, "parts": [{"name": "part-1"}, {"name": "part-\u001b[2J\nOK"}, {"name": "part-\u001b[2J\nOK"}, {"name": "part-\u202egnp"}]}`), []byte("a\n"), false)
	dir := f.TempDir()
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, manifest, part []byte, smallTail bool) {
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			os.Remove(filepath.Join(dir, e.Name()))
		}
		name := reader.PartPrefix + "00000"
		var m sink.Manifest
		if json.Unmarshal(manifest, &m) == nil && len(m.Parts) > 0 && reader.IsPart(m.Parts[0].Name) && len(m.Parts[0].Name) < 200 {
			name = m.Parts[0].Name
		}
		for n, data := range map[string][]byte{reader.ManifestName: manifest, name: part} {
			if err := os.WriteFile(filepath.Join(dir, n), data, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		src, err := localdest.OpenExisting(dir)
		if err != nil {
			t.Fatal(err)
		}
		if smallTail {
			defer reader.SetTailSize(64)()
		}
		var res reader.Result
		var problems []reader.Problem
		// The part streams through a 1 MiB buffer, its last 1 MiB kept for
		// the footer, a CSV part through a 1 MiB bufio.Reader; the footer
		// costs a structure per Thrift value.
		fuzzcheck.Bound{PerByte: 256, Fixed: 6 << 20}.Check(t, len(manifest)+len(part), func() {
			res, err = reader.Verify(ctx, src, func(p reader.Problem) { problems = append(problems, p) })
		})
		if err != nil {
			if !strings.Contains(err.Error(), name) && !strings.Contains(err.Error(), reader.ManifestName) {
				t.Fatalf("verify stopped with an error that names no file: %v", err)
			}
			return
		}
		if res.Problems != len(problems) {
			t.Fatalf("%d problems counted, %d reported", res.Problems, len(problems))
		}
		known := map[string]bool{reader.ManifestName: true, name: true}
		for _, p := range res.Manifest.Parts {
			known[p.Name] = true
		}
		for _, p := range problems {
			if !known[p.Name] {
				t.Errorf("a problem about %q, which is neither the manifest, a part it lists, nor the part there: %s", p.Name, p)
			}
			if !printable(p.String()) {
				t.Errorf("a problem is not one printable line: %q", p.String())
			}
		}
		if res.Intact() {
			sum := sha256.Sum256(part)
			if len(res.Manifest.Parts) != 1 || res.Manifest.Parts[0].SHA256 != hex.EncodeToString(sum[:]) || res.Manifest.Parts[0].Name != name {
				t.Fatalf("intact, but the manifest does not vouch for the one part there: %+v", res.Manifest.Parts)
			}
		}
	})
}
