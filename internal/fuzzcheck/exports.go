package fuzzcheck

import (
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
)

// Export is a real export the fuzz targets start from: the demo pool
// exported by the binary (scripts/fuzz-seeds.sh wrote them under
// testdata/exports), its hostile users included.
type Export struct {
	Name     string // e.g. "parquet-zstd", "csv-raw", "diff-csv"
	Manifest []byte
	Parts    []Part // in name order
}

// Part is one part of an Export.
type Part struct {
	Name string
	Data []byte
}

// Exports returns every seed export.
func Exports(tb testing.TB) []Export {
	tb.Helper()
	_, here, _, ok := runtime.Caller(0)
	if !ok {
		tb.Fatal("fuzzcheck: no source path to find testdata/exports by")
	}
	root := filepath.Join(filepath.Dir(here), "testdata", "exports")
	dirs, err := os.ReadDir(root)
	if err != nil {
		tb.Fatal(err)
	}
	var out []Export
	for _, d := range dirs {
		files, err := filepath.Glob(filepath.Join(root, d.Name(), "*"))
		if err != nil {
			tb.Fatal(err)
		}
		slices.Sort(files)
		e := Export{Name: d.Name()}
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				tb.Fatal(err)
			}
			if filepath.Base(f) == "manifest.json" {
				e.Manifest = data
			} else {
				e.Parts = append(e.Parts, Part{filepath.Base(f), data})
			}
		}
		if e.Manifest == nil || len(e.Parts) == 0 {
			tb.Fatalf("fuzzcheck: seed export %s has no manifest or no part: run scripts/fuzz-seeds.sh", d.Name())
		}
		out = append(out, e)
	}
	if len(out) == 0 {
		tb.Fatal("fuzzcheck: no seed exports: run scripts/fuzz-seeds.sh")
	}
	return out
}
