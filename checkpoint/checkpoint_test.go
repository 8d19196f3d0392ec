package checkpoint

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// memBlob is a map: the store's logic is what is under test here; the real
// local and S3 blobs are exercised by the export and crash tests.
type memBlob map[string][]byte

func (m memBlob) Put(_ context.Context, n string, d []byte) error { m[n] = d; return nil }
func (m memBlob) Get(_ context.Context, n string) ([]byte, error) { return m[n], nil }
func (m memBlob) Delete(_ context.Context, n string) error        { delete(m, n); return nil }

func TestSaveLoadAndCorruption(t *testing.T) {
	ctx := context.Background()
	blob := memBlob{}
	s := NewStore(blob, "_checkpoint.json", "mem")
	if st, err := s.Load(ctx); st != nil || err != nil {
		t.Fatalf("empty store: %v, %v", st, err)
	}
	want := &State{Params: map[string]string{"format": "csv"}, Watermark: "tok", Pages: 3, Rows: 10,
		Parts: []Part{{Name: "part-00000.csv", Rows: 10}}}
	if err := s.Save(ctx, want); err != nil {
		t.Fatal(err)
	}
	got, err := s.Load(ctx)
	if err != nil || got.Watermark != "tok" || got.Pages != 3 || len(got.Parts) != 1 {
		t.Fatalf("load: %+v, %v", got, err)
	}
	good := blob["_checkpoint.json"]
	for name, data := range map[string][]byte{
		"truncated": good[:len(good)/2],
		"edited":    []byte(strings.Replace(string(good), `"pages": 3`, `"pages": 4`, 1)),
		"empty":     {},
	} {
		blob["_checkpoint.json"] = data
		if _, err := s.Load(ctx); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: err = %v, want ErrCorrupt", name, err)
		}
	}
}

func TestMismatchNamesEveryDifference(t *testing.T) {
	saved := map[string]string{"format": "csv", "user_pool_id": "a"}
	if d := Mismatch(saved, map[string]string{"format": "csv", "user_pool_id": "a"}); d != "" {
		t.Fatalf("equal params: %q", d)
	}
	d := Mismatch(saved, map[string]string{"format": "parquet", "user_pool_id": "a", "strategy": "by-group"})
	if !strings.Contains(d, `format is "csv" in the checkpoint but "parquet" now`) || !strings.Contains(d, "strategy") {
		t.Fatalf("mismatch: %q", d)
	}
}

func TestDoneFilesRoundTrip(t *testing.T) {
	set := map[uint64]struct{}{}
	if err := DecodeDone(EncodeDone([]uint64{UserHash("a"), UserHash("b")}), set); err != nil || len(set) != 2 {
		t.Fatalf("%v %v", set, err)
	}
	if _, ok := set[UserHash("a")]; !ok {
		t.Fatal("hash of a missing")
	}
	if err := DecodeDone([]byte{1, 2, 3}, set); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("odd length: %v", err)
	}
}
