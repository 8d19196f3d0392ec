package diff

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cognito-export/cognito-export/internal/fuzzcheck"
)

// hostile are values a pool may hold: text a CSV must quote or
// neutralise, NULs, line breaks, non-ASCII, and the empty string.
var hostile = []string{"=cmd|' /C calc'!A0", "'quoted", "a,b\r\nc", "\"q\"", "名前", "", "\x00", "\xff\xfe", strings.Repeat("x", 300)}

func hostileRecord(i, attrs int) (username, sub string, r spillRecord) {
	r = spillRecord{status: []string{"CONFIRMED", "UNCONFIRMED", ""}[i%3], enabled: []string{"true", "false"}[i%2],
		group: hostile[i%len(hostile)], exportedAt: "2026-12-01T00:00:00.000Z"}
	for a := range attrs {
		r.attrs = append(r.attrs, hostile[(i+a+1)%len(hostile)])
	}
	return fmt.Sprintf("%s%d", hostile[(i+2)%len(hostile)], i), fmt.Sprintf("sub-%d", i), r
}

// spillOf spills rows into one partition under dir and returns its bytes
// and the spiller's dictionary.
func spillOf(t testing.TB, dir string, rows []spillRecord, users [][2]string) ([]byte, []string) {
	sp, err := newSpiller(dir, "seed", 1)
	if err != nil {
		t.Fatal(err)
	}
	defer sp.close()
	for i := range rows {
		if err := sp.add(users[i][0], users[i][1], &rows[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := sp.finish(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "seed-0000.spill"))
	if err != nil {
		t.Fatal(err)
	}
	return data, sp.dict
}

// FuzzReadPartition reads a spill file back as the diff does. Spill files
// are the diff's own, but they are read back from disk, where anything may
// have happened to them: one that is cut short or garbled is an error that
// names it, never a panic or a record pointing outside the file.
func FuzzReadPartition(f *testing.F) {
	var dict []string
	for _, attrs := range []int{0, 1, 3} {
		var rows []spillRecord
		var users [][2]string
		for i := range 40 {
			u, s, r := hostileRecord(i, attrs)
			rows, users = append(rows, r), append(users, [2]string{u, s})
		}
		data, d := spillOf(f, f.TempDir(), rows, users)
		dict = d
		f.Add(data, uint8(len(d)), uint8(attrs))
		f.Add(data[:len(data)-1], uint8(len(d)), uint8(attrs))
		f.Add(data, uint8(1), uint8(attrs+1))
	}
	f.Add([]byte{}, uint8(0), uint8(0))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, uint8(0), uint8(0))
	path := filepath.Join(f.TempDir(), "old-0007.spill")
	f.Fuzz(func(t *testing.T, data []byte, dictLen, attrs uint8) {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		d := dict[:min(int(dictLen), len(dict))]
		records := 0
		var err error
		fuzzcheck.Default.Check(t, len(data), func() {
			_, err = readPartition(path, nil, d, int(attrs), func(r *spillRecord) {
				records++
				// The key and attributes are the file's bytes; the other
				// values are the dictionary's, which is this process's.
				for _, s := range append([]string{r.key}, r.attrs...) {
					if len(s) > len(data) {
						t.Fatalf("a value of %d bytes read from a file of %d", len(s), len(data))
					}
				}
				for _, s := range []string{r.status, r.enabled, r.group, r.exportedAt} {
					if !slices.Contains(d, s) {
						t.Fatalf("%q read as a dictionary value; the dictionary has %q", s, d)
					}
				}
			})
		})
		if err != nil && !strings.Contains(err.Error(), filepath.Base(path)) {
			t.Fatalf("error does not name the spill file: %v", err)
		}
		if records > len(data) {
			t.Fatalf("%d records read from %d bytes", records, len(data))
		}
	})
}

// FuzzSpillRoundTrip spills rows of any text and reads them back: every
// value comes back as it went in, in order.
func FuzzSpillRoundTrip(f *testing.F) {
	for i := range 10 {
		u, s, r := hostileRecord(i, 2)
		f.Add(u, s, r.status, r.group, r.attrs[0], r.attrs[1])
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, username, sub, status, group, attr0, attr1 string) {
		// The row, then a copy with each value changed, then the row again:
		// the dictionary's numbers and the cache of the last value both
		// come into play.
		rows := []spillRecord{
			{status: status, enabled: "true", group: group, exportedAt: "x", attrs: []string{attr0, attr1}},
			{status: status + "'", enabled: "false", group: "g" + group, exportedAt: "x", attrs: []string{attr1, attr0}},
		}
		rows = append(rows, rows[0])
		users := [][2]string{{username, sub}, {sub, username}, {username, sub}}
		data, dict := spillOf(t, dir, rows, users)
		path := filepath.Join(dir, "seed-0000.spill")
		var got []spillRecord
		if _, err := readPartition(path, nil, dict, 2, func(r *spillRecord) {
			c := *r
			c.attrs = slices.Clone(r.attrs)
			got = append(got, c)
		}); err != nil {
			t.Fatalf("reading back a spill of %d bytes: %v", len(data), err)
		}
		if len(got) != len(rows) {
			t.Fatalf("read %d records back, spilled %d", len(got), len(rows))
		}
		for i, r := range rows {
			r.key = users[i][0] + "\x00" + users[i][1]
			if g := got[i]; g.key != r.key || g.status != r.status || g.enabled != r.enabled || g.group != r.group ||
				g.exportedAt != r.exportedAt || !slices.Equal(g.attrs, r.attrs) {
				t.Fatalf("record %d read back as %+v, spilled %+v", i, g, r)
			}
		}
	})
}
