package reader_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cognito-export/cognito-export/reader"
	"github.com/cognito-export/cognito-export/sink"
	"github.com/cognito-export/cognito-export/sink/localdest"
	"github.com/cognito-export/cognito-export/sink/memdest"
	"github.com/cognito-export/cognito-export/sink/s3dest"
)

// store is a location a test writes an export into and then damages.
type store interface {
	reader.Source
	sink.Destination
	Put(ctx context.Context, name string, data []byte) error
	Get(ctx context.Context, name string) ([]byte, error)
	Delete(ctx context.Context, name string) error
}

func row(i int) sink.Row {
	desc := fmt.Sprintf("line 1\r\nline 2, \"quoted\" %d", i) // a quoted newline in CSV
	return sink.Row{
		UserPoolID: "us-east-1_X", Username: fmt.Sprintf("user-%d", i), UserSub: "sub",
		UserStatus: "CONFIRMED", UserEnabled: true,
		UserCreateDate: time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC),
		GroupName:      "admins", GroupDescription: &desc,
		ExportedAt: time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC),
	}
}

// writeExport writes three parts of rowsPerPart rows and the manifest, as
// the export does.
func writeExport(t *testing.T, d store, format string, rowsPerPart int) sink.Manifest {
	t.Helper()
	ctx := context.Background()
	w, err := sink.NewWriter(d, sink.WriterOptions{
		Format: format, PartRows: int64(rowsPerPart),
		Name: func(seq int) string { return fmt.Sprintf("%s%05d.%s", reader.PartPrefix, seq, format) },
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 * rowsPerPart {
		if err := w.Write(ctx, []sink.Row{row(i)}); err != nil {
			t.Fatal(err)
		}
		if w.Full() {
			if err := w.Flush(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	m := sink.Manifest{Format: format, Parts: w.Parts()}
	for _, p := range m.Parts {
		m.Totals.Rows += p.Rows
		m.Totals.Bytes += p.Bytes
	}
	m.Totals.Parts = len(m.Parts)
	if m.Totals.Parts != 3 {
		t.Fatalf("wrote %d parts, want 3", m.Totals.Parts)
	}
	if err := sink.WriteManifest(ctx, d, reader.ManifestName, m); err != nil {
		t.Fatal(err)
	}
	return m
}

func verify(t *testing.T, d reader.Source) (reader.Result, []reader.Problem) {
	t.Helper()
	var got []reader.Problem
	res, err := reader.Verify(context.Background(), d, func(p reader.Problem) { got = append(got, p) })
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if res.Problems != len(got) {
		t.Fatalf("Result.Problems = %d, reported %d", res.Problems, len(got))
	}
	return res, got
}

// kinds lists the problems as "name kind", sorted.
func kinds(ps []reader.Problem) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Name+" "+string(p.Kind))
	}
	slices.Sort(out)
	return out
}

func mustGet(t *testing.T, d store, name string) []byte {
	t.Helper()
	b, err := d.Get(context.Background(), name)
	if err != nil || b == nil {
		t.Fatalf("get %s: %v (nil: %v)", name, err, b == nil)
	}
	return b
}

func put(t *testing.T, d store, name string, b []byte) {
	t.Helper()
	if err := d.Put(context.Background(), name, b); err != nil {
		t.Fatal(err)
	}
}

var stores = map[string]func(t *testing.T) store{
	"mem": func(*testing.T) store { return memdest.New() },
	"local": func(t *testing.T) store {
		d, err := localdest.Open(filepath.Join(t.TempDir(), "export"))
		if err != nil {
			t.Fatal(err)
		}
		return d
	},
}

func TestVerify(t *testing.T) {
	ctx := context.Background()
	damage := []struct {
		name string
		do   func(t *testing.T, d store, m sink.Manifest, part string)
		want []string // "name kind" for part-00001.<format>
	}{
		{"Intact", func(*testing.T, store, sink.Manifest, string) {}, nil},
		{"FlippedByte", func(t *testing.T, d store, _ sink.Manifest, part string) {
			b := mustGet(t, d, part)
			b[len(b)/2] ^= 0x01
			put(t, d, part, b)
		}, []string{"changed"}},
		{"Truncated", func(t *testing.T, d store, _ sink.Manifest, part string) {
			b := mustGet(t, d, part)
			put(t, d, part, b[:len(b)-7])
		}, []string{"changed", "size", "unreadable|rows|"}},
		{"Missing", func(t *testing.T, d store, _ sink.Manifest, part string) {
			if err := d.Delete(ctx, part); err != nil {
				t.Fatal(err)
			}
		}, []string{"missing"}},
		{"Extra", func(t *testing.T, d store, _ sink.Manifest, part string) {
			put(t, d, strings.Replace(part, "00001", "00003", 1), mustGet(t, d, part))
		}, []string{"extra@00003"}},
		{"ManifestEditedToMatchSize", func(t *testing.T, d store, m sink.Manifest, part string) {
			// The part changes (same size: one byte replaced, and a
			// trailing byte added) and the manifest is edited to the new
			// size: only the SHA-256 still tells.
			b := mustGet(t, d, part)
			b[len(b)/3] ^= 0x20
			b = append(b, '\n')
			put(t, d, part, b)
			m.Parts[1].Bytes = int64(len(b))
			m.Totals.Bytes++
			if err := sink.WriteManifest(ctx, d, reader.ManifestName, m); err != nil {
				t.Fatal(err)
			}
		}, []string{"changed", "unreadable|rows|"}},
	}
	for sname, open := range stores {
		for _, format := range []string{"csv", "parquet"} {
			for _, c := range damage {
				t.Run(sname+"/"+format+"/"+c.name, func(t *testing.T) {
					d := open(t)
					m := writeExport(t, d, format, 50)
					part := m.Parts[1].Name
					c.do(t, d, m, part)
					res, got := verify(t, d)
					if err := match(got, part, c.want); err != nil {
						t.Fatalf("%v\nproblems:\n%s", err, lines(got))
					}
					if res.Parts != 3 || len(res.Manifest.SHA256) != 64 {
						t.Errorf("Result = %+v", res)
					}
					if c.want == nil && (!res.Intact() || res.Rows != 150) {
						t.Errorf("intact export: Result %+v, want 150 rows and no problem", res)
					}
				})
			}
		}
	}
}

// match checks the problems against want: each entry is a kind of part
// (or, with "@seq", of the part so numbered), alternatives separated by
// "|" (an empty alternative: may be absent).
func match(got []reader.Problem, part string, want []string) error {
	left := slices.Clone(got)
	for _, w := range want {
		name := part
		if k, seq, ok := strings.Cut(w, "@"); ok {
			w, name = k, strings.Replace(part, "00001", seq, 1)
		}
		alts := strings.Split(w, "|")
		i := slices.IndexFunc(left, func(p reader.Problem) bool { return p.Name == name && slices.Contains(alts, string(p.Kind)) })
		if i < 0 {
			if slices.Contains(alts, "") {
				continue
			}
			return fmt.Errorf("no %s problem for %s", w, name)
		}
		left = slices.Delete(left, i, i+1)
	}
	// Damage to one part may also show as a second symptom of that part
	// (a truncated Parquet part loses its footer), never as another file.
	for _, p := range left {
		if p.Name != part {
			return fmt.Errorf("unexpected problem: %v", p)
		}
	}
	if len(want) == 0 && len(left) > 0 {
		return fmt.Errorf("unexpected problems")
	}
	return nil
}

func lines(ps []reader.Problem) string {
	var b strings.Builder
	for _, p := range ps {
		fmt.Fprintln(&b, " ", p)
	}
	return b.String()
}

func TestVerifyNoManifest(t *testing.T) {
	for sname, open := range stores {
		t.Run(sname, func(t *testing.T) {
			d := open(t)
			writeExport(t, d, "csv", 5)
			if err := d.Delete(context.Background(), reader.ManifestName); err != nil {
				t.Fatal(err)
			}
			_, err := reader.Verify(context.Background(), d, func(p reader.Problem) { t.Errorf("problem reported: %v", p) })
			if !errors.Is(err, reader.ErrNoExport) || !strings.Contains(err.Error(), "no manifest.json") {
				t.Fatalf("Verify without a manifest: %v, want ErrNoExport naming manifest.json", err)
			}
		})
	}
	_, err := reader.Open(context.Background(), filepath.Join(t.TempDir(), "nowhere"), s3Options)
	if !errors.Is(err, reader.ErrNoExport) {
		t.Fatalf("Open of a missing directory: %v, want ErrNoExport", err)
	}
}

func TestVerifyUnreadableManifest(t *testing.T) {
	d := memdest.New()
	writeExport(t, d, "parquet", 5)
	put(t, d, reader.ManifestName, []byte(`{"format": "parquet", "parts": [`))
	_, got := verify(t, d)
	if k := kinds(got); !slices.Equal(k, []string{"manifest.json manifest"}) {
		t.Fatalf("problems %q, want the manifest's alone", k)
	}
}

// A manifest that names a file outside the location (an edited one) is a
// problem; the file is never opened.
func TestVerifyManifestNamesOutsidePart(t *testing.T) {
	d := memdest.New()
	m := writeExport(t, d, "csv", 5)
	put(t, d, "../secret", []byte("x"))
	m.Parts[0].Name = "../secret"
	if err := sink.WriteManifest(context.Background(), d, reader.ManifestName, m); err != nil {
		t.Fatal(err)
	}
	_, got := verify(t, d)
	want := []string{"manifest.json manifest", "part-00000.csv extra"}
	if k := kinds(got); !slices.Equal(k, want) {
		t.Fatalf("problems %q, want %q", k, want)
	}
}

// A Parquet footer larger than the tail kept is read with a second read.
func TestVerifyParquetFooterBeyondTail(t *testing.T) {
	defer reader.SetTailSize(64)()
	d := memdest.New()
	writeExport(t, d, "parquet", 40)
	res, got := verify(t, d)
	if len(got) != 0 || res.Rows != 120 {
		t.Fatalf("rows %d, problems:\n%s", res.Rows, lines(got))
	}
}

var s3Options = s3dest.Options{}
