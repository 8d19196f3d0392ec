package checkpoint_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cognito-export/cognito-export/checkpoint"
	"github.com/cognito-export/cognito-export/internal/fuzzcheck"
	"github.com/cognito-export/cognito-export/sink/memdest"
)

const (
	fuzzName = "_checkpoint.json"
	fuzzDesc = "s3://bucket/exports/_checkpoint.json"
)

// hostileState is a checkpoint as a by-group run under way saves it, with
// the text a pool may hold in its tokens and group names.
func hostileState() *checkpoint.State {
	return &checkpoint.State{
		Params:    map[string]string{"user_pool_id": "us-east-1_X", "format": "csv", "filter": `email ^= "a\"b"`},
		Watermark: "eyJ0b2tlbiI6ICJcdTAwMDAifQ==\u2028", Pages: 3,
		Parts: []checkpoint.Part{{Name: "part-00000.csv", Rows: 10, Bytes: 1234, SHA256: strings.Repeat("ab", 32)}},
		Users: 7, Rows: 10, Skipped: 1,
		Started: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), Saved: time.Date(2026, 12, 1, 0, 5, 0, 0, time.FixedZone("x", 3600)),
		DoneFiles: []string{"_done-00000.bin"},
		Groups: []checkpoint.GroupCursor{{Name: "=cmd|' /C calc'!A0", Token: "t\x00k", Pages: 2},
			{Name: "名前", Done: true}, {Name: "a,b\r\nc", Restarted: true}},
		MemberFiles: []string{"_members-00000.bin"},
	}
}

// FuzzCheckpointLoad loads a checkpoint from bytes found in the output: a
// torn, tampered or hostile one is an ErrCorrupt that names the checkpoint,
// never a panic; one that loads saves and loads again to the same state.
func FuzzCheckpointLoad(f *testing.F) {
	ctx := context.Background()
	seeds := memdest.New()
	s := checkpoint.NewStore(seeds, fuzzName, fuzzDesc)
	for _, st := range []*checkpoint.State{hostileState(), {Params: map[string]string{}}} {
		if err := s.Save(ctx, st); err != nil {
			f.Fatal(err)
		}
		good, _ := seeds.Get(ctx, fuzzName)
		f.Add(good)
		f.Add(good[:len(good)/2])
		f.Add(bytes.Replace(good, []byte(`"pages": 3`), []byte(`"pages": 4`), 1))
	}
	f.Add([]byte{})
	f.Add([]byte(`{"version": 1, "parts": [{}, {}, {}], "groups": [{}], "done_files": ["", ""]}`))
	f.Add([]byte("{\"started\": \"202\x7f-12-01T00:00:00Z\u2028\"}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		blob := memdest.New()
		if err := blob.Put(ctx, fuzzName, data); err != nil {
			t.Fatal(err)
		}
		s := checkpoint.NewStore(blob, fuzzName, fuzzDesc)
		var st *checkpoint.State
		var err error
		// A structure per JSON value: an empty part ({}, 3 bytes with its
		// comma) is a 48-byte Part, kept twice over while the slice grows,
		// and 43 bytes of JSON when it is marshalled again for the checksum:
		// 136 bytes a byte measured for a checkpoint of 30,000 of them.
		fuzzcheck.Bound{PerByte: 256, Fixed: 1 << 20}.Check(t, len(data), func() { st, err = s.Load(ctx) })
		if err != nil {
			if !errors.Is(err, checkpoint.ErrCorrupt) || !strings.Contains(err.Error(), fuzzDesc) {
				t.Fatalf("error does not say the checkpoint %s is corrupt: %v", fuzzDesc, err)
			}
			if strings.ContainsFunc(err.Error(), func(r rune) bool { return !strconv.IsPrint(r) }) {
				t.Fatalf("the error is not one printable line: %q", err)
			}
			return
		}
		if st == nil {
			t.Fatal("a checkpoint that is there loaded as none")
		}
		if err := s.Save(ctx, st); err != nil {
			t.Fatal(err)
		}
		again, err := s.Load(ctx)
		if err != nil {
			t.Fatalf("a checkpoint that loaded, saved again, does not load: %v", err)
		}
		a, _ := json.Marshal(st)
		b, _ := json.Marshal(again)
		if !bytes.Equal(a, b) {
			t.Fatalf("saved and loaded again:\n%s\nwas\n%s", b, a)
		}
	})
}

// FuzzDecodeHashes reads done and members files, which the checkpoint
// names but anyone who can write the output can change: a length that is
// not whole entries is ErrCorrupt, and every whole entry is read.
func FuzzDecodeHashes(f *testing.F) {
	f.Add(checkpoint.EncodeDone([]uint64{checkpoint.UserHash("a"), checkpoint.UserHash("名前")}))
	f.Add(checkpoint.EncodeDone([]uint64{checkpoint.MemberHash("g"), checkpoint.UserHash("a")}))
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, data []byte) {
		set := map[uint64]struct{}{}
		pairs := 0
		var doneErr, pairsErr error
		fuzzcheck.Default.Check(t, len(data), func() {
			doneErr = checkpoint.DecodeDone(data, set)
			pairsErr = checkpoint.DecodePairs(data, func(uint64, uint64) { pairs++ })
		})
		if (doneErr == nil) != (len(data)%8 == 0) || doneErr != nil && !errors.Is(doneErr, checkpoint.ErrCorrupt) {
			t.Fatalf("done file of %d bytes: %v", len(data), doneErr)
		}
		if (pairsErr == nil) != (len(data)%16 == 0) || pairsErr != nil && !errors.Is(pairsErr, checkpoint.ErrCorrupt) {
			t.Fatalf("members file of %d bytes: %v", len(data), pairsErr)
		}
		if doneErr == nil && len(set) > len(data)/8 || pairsErr == nil && pairs != len(data)/16 {
			t.Fatalf("%d bytes read as %d hashes and %d pairs", len(data), len(set), pairs)
		}
	})
}
