package archtest

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// maxTracked is the largest file the repository may hold: anything bigger
// is a build output, a profile or data that belongs elsewhere.
const maxTracked = 1 << 20

// builtReason says why a tracked file looks built (an executable of a known
// format) or too big, or "" when it looks like source. head is the file's
// first bytes (at least 64 when the file has them).
func builtReason(size int64, head []byte) string {
	switch {
	case size > maxTracked:
		return fmt.Sprintf("%d bytes, over the %d-byte limit for tracked files", size, maxTracked)
	case bytes.HasPrefix(head, []byte("\x7fELF")):
		return "an ELF executable"
	case len(head) >= 4 && isMachO(binary.BigEndian.Uint32(head)):
		return "a Mach-O executable"
	case isPE(head):
		return "a PE (Windows) executable"
	}
	return ""
}

// isMachO is true for the magic numbers of thin (32-, 64-bit, either byte
// order) and fat Mach-O files. 0xcafebabe is also a Java class file's magic;
// neither belongs in this tree.
func isMachO(magic uint32) bool {
	switch magic {
	case 0xfeedface, 0xfeedfacf, 0xcefaedfe, 0xcffaedfe, 0xcafebabe, 0xbebafeca:
		return true
	}
	return false
}

// isPE is true for an MZ header whose e_lfanew points at a "PE\0\0"
// signature within head: a text file that happens to start with "MZ" is not
// taken for one.
func isPE(head []byte) bool {
	if len(head) < 0x40 || !bytes.HasPrefix(head, []byte("MZ")) {
		return false
	}
	off := int(binary.LittleEndian.Uint32(head[0x3c:]))
	return off+4 <= len(head) && bytes.Equal(head[off:off+4], []byte("PE\x00\x00"))
}

// headSize is how much of each file the check reads: enough for a PE
// header's e_lfanew to point into it in any real executable.
const headSize = 4096

// TestNothingBuiltIsTracked keeps compiled programs and large files out of
// the repository: a 20 MB binary once rode along in every clone and, through
// `COPY . .`, in every image build.
func TestNothingBuiltIsTracked(t *testing.T) {
	root, err := exec.Command("git", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		t.Skip("not in a git work tree: nothing is tracked")
	}
	top := strings.TrimSpace(string(root))
	out, err := exec.Command("git", "-C", top, "ls-files", "-z").Output()
	if err != nil {
		t.Fatalf("git ls-files: %v", err)
	}
	var bad []string
	for _, name := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		path := filepath.Join(top, name)
		st, err := os.Lstat(path)
		if err != nil || !st.Mode().IsRegular() {
			continue // deleted in the work tree, or a symlink
		}
		f, err := os.Open(path)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		head := make([]byte, headSize)
		n, _ := io.ReadFull(f, head)
		f.Close()
		if why := builtReason(st.Size(), head[:n]); why != "" {
			bad = append(bad, name+": "+why)
		}
	}
	if len(bad) > 0 {
		t.Fatalf("tracked files that look built or too big; remove them (git rm --cached) and ignore them in .gitignore and .dockerignore:\n  %s", strings.Join(bad, "\n  "))
	}
}

func TestBuiltReasonKnowsExecutables(t *testing.T) {
	pe := make([]byte, 0x100)
	copy(pe, "MZ")
	binary.LittleEndian.PutUint32(pe[0x3c:], 0x80)
	copy(pe[0x80:], "PE\x00\x00")
	mz := append([]byte("MZ is how this note starts"), make([]byte, 64)...)
	for _, c := range []struct {
		name  string
		size  int64
		head  []byte
		built bool
	}{
		{"ELF", 100, []byte("\x7fELF\x02\x01\x01"), true},
		{"Mach-O 64 little-endian", 100, []byte{0xcf, 0xfa, 0xed, 0xfe, 7, 0, 0, 1}, true},
		{"Mach-O 32 big-endian", 100, []byte{0xfe, 0xed, 0xfa, 0xce}, true},
		{"Mach-O fat", 100, []byte{0xca, 0xfe, 0xba, 0xbe}, true},
		{"PE", int64(len(pe)), pe, true},
		{"text starting with MZ", int64(len(mz)), mz, false},
		{"Go source", 30, []byte("package main\n\nfunc main() {}\n"), false},
		{"PNG", 1000, []byte("\x89PNG\r\n\x1a\n"), false},
		{"one byte over 1 MiB", maxTracked + 1, []byte("# a large text file"), true},
		{"exactly 1 MiB", maxTracked, []byte("# a large text file"), false},
		{"empty", 0, nil, false},
	} {
		if got := builtReason(c.size, c.head) != ""; got != c.built {
			t.Errorf("%s: built = %v, want %v", c.name, got, c.built)
		}
	}
}
