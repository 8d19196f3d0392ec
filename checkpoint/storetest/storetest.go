// Package storetest is the one contract test suite that every backing of a
// checkpoint.Store passes: local file, S3 object and memory alike.
package storetest

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cognito-export/cognito-export/checkpoint"
)

// Run runs the contract against fresh blobs that open returns, one per
// subtest; the checkpoint is kept in each under name.
func Run(t *testing.T, open func(t *testing.T) checkpoint.Blob) {
	const name = "_checkpoint.json"
	ctx := context.Background()
	t.Run("MissingIsNil", func(t *testing.T) {
		st, err := checkpoint.NewStore(open(t), name, "test").Load(ctx)
		if st != nil || err != nil {
			t.Fatalf("Load of a missing checkpoint = %v, %v; want nil, nil", st, err)
		}
	})
	t.Run("SaveLoadRoundTrip", func(t *testing.T) {
		s := checkpoint.NewStore(open(t), name, "test")
		want := sample()
		for range 2 { // the second save replaces the first
			want.Rows++
			if err := s.Save(ctx, want); err != nil {
				t.Fatal(err)
			}
			got, err := s.Load(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("loaded %+v\nsaved  %+v", got, want)
			}
		}
	})
	t.Run("TornIsCorrupt", func(t *testing.T) {
		blob := open(t)
		s := checkpoint.NewStore(blob, name, "test")
		if err := s.Save(ctx, sample()); err != nil {
			t.Fatal(err)
		}
		data, _ := blob.Get(ctx, name)
		if err := blob.Put(ctx, name, data[:len(data)/2]); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Load(ctx); !errors.Is(err, checkpoint.ErrCorrupt) {
			t.Fatalf("Load of a torn checkpoint: err = %v, want ErrCorrupt", err)
		}
	})
	t.Run("TamperedIsCorrupt", func(t *testing.T) {
		blob := open(t)
		s := checkpoint.NewStore(blob, name, "test")
		if err := s.Save(ctx, sample()); err != nil {
			t.Fatal(err)
		}
		data, _ := blob.Get(ctx, name)
		edited := strings.Replace(string(data), `"rows": 42`, `"rows": 43`, 1)
		if edited == string(data) {
			t.Fatalf("the saved checkpoint does not hold the rows as expected:\n%s", data)
		}
		if err := blob.Put(ctx, name, []byte(edited)); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Load(ctx); !errors.Is(err, checkpoint.ErrCorrupt) {
			t.Fatalf("Load of a tampered checkpoint: err = %v, want ErrCorrupt", err)
		}
	})
	t.Run("Delete", func(t *testing.T) {
		s := checkpoint.NewStore(open(t), name, "test")
		if err := s.Save(ctx, sample()); err != nil {
			t.Fatal(err)
		}
		for range 2 { // deleting what is gone is no error
			if err := s.Delete(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if st, err := s.Load(ctx); st != nil || err != nil {
			t.Fatalf("Load after Delete = %v, %v; want nil, nil", st, err)
		}
	})
}

func sample() *checkpoint.State {
	return &checkpoint.State{
		Params: map[string]string{"user_pool_id": "us-east-1_X", "format": "parquet"}, Watermark: "tok",
		Pages: 3, Parts: []checkpoint.Part{{Name: "part-00000.parquet", Rows: 41, Bytes: 1234, SHA256: "ab"}},
		Users: 40, Rows: 42, Started: time.Date(2026, 11, 24, 1, 2, 3, 0, time.UTC),
		Saved: time.Date(2026, 11, 24, 1, 3, 3, 0, time.UTC), DoneFiles: []string{"_done-00000000.bin"},
		Groups: []checkpoint.GroupCursor{{Name: "admins", Token: "t", Pages: 2}},
	}
}
