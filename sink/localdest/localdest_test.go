package localdest_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cognito-export/cognito-export/sink/desttest"
	"github.com/cognito-export/cognito-export/sink/localdest"
)

func TestContract(t *testing.T) {
	desttest.Run(t, func(t *testing.T) desttest.Destination {
		d, err := localdest.Open(filepath.Join(t.TempDir(), "out"))
		if err != nil {
			t.Fatal(err)
		}
		return d
	})
}

// Prune removes the temporary files of writes that never committed when
// their final name is one to remove, and leaves the rest alone.
func TestPruneRemovesStaleTemporaryFiles(t *testing.T) {
	dir := t.TempDir()
	d, err := localdest.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{".tmp-part-00001.csv-123456", ".tmp-part-00002.csv-99", ".probe-42", "notes.txt", ".tmp-notes.txt-1"} {
		os.WriteFile(filepath.Join(dir, n), []byte("x"), 0o644)
	}
	os.Mkdir(filepath.Join(dir, "part-00009.csv"), 0o755) // a directory is never a file to prune
	err = d.Prune(context.Background(), func(name string) bool { return strings.HasPrefix(name, "part-") })
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		left = append(left, e.Name())
	}
	if got := strings.Join(left, ","); got != ".tmp-notes.txt-1,notes.txt,part-00009.csv" {
		t.Fatalf("left after prune: %s", got)
	}
}

func TestOpenRejectsBadOutputs(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	os.WriteFile(file, nil, 0o644)
	if _, err := localdest.Open(file); err == nil || !strings.Contains(err.Error(), "is a file") {
		t.Errorf("file as output: err = %v", err)
	}
	if os.Geteuid() != 0 { // root writes anywhere
		ro := filepath.Join(dir, "ro")
		os.Mkdir(ro, 0o555)
		if _, err := localdest.Open(ro); err == nil || !strings.Contains(err.Error(), "not writable") {
			t.Errorf("read-only output: err = %v", err)
		}
	}
	if _, err := localdest.Open("/proc/cognito-export-test"); err == nil {
		t.Error("output under /proc: want an error")
	}
}
