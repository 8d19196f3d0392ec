// Package desttest is the one contract test suite that every destination of
// the sink passes: local directory, S3 prefix and memory alike.
package desttest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"io/fs"
	"slices"
	"testing"

	"github.com/cognito-export/cognito-export/sink"
)

// Destination is what the suite exercises: what the sink's Writer and the
// export call.
type Destination interface {
	Create(ctx context.Context, name string) (sink.Part, error)
	Put(ctx context.Context, name string, data []byte) error
	Get(ctx context.Context, name string) ([]byte, error) // (nil, nil) when absent
	Delete(ctx context.Context, name string) error
	Prune(ctx context.Context, remove func(name string) bool) error
	// Open streams a file; a missing one is an error wrapping
	// fs.ErrNotExist.
	Open(ctx context.Context, name string) (io.ReadCloser, error)
	// List returns the committed names directly under the location.
	List(ctx context.Context) ([]string, error)
}

// chunk is S3's smallest multipart chunk, the size the S3 run is opened
// with: the suite writes more than two of them where a part must span
// several chunks.
const chunk = 5 << 20

// Run runs the contract against fresh destinations that open returns, one
// per subtest.
func Run(t *testing.T, open func(t *testing.T) Destination) {
	t.Run("CommitMakesPartVisible", func(t *testing.T) { commitMakesPartVisible(t, open(t)) })
	t.Run("CommitAfterCreatingContextCancelled", func(t *testing.T) { commitAfterCreatingContextCancelled(t, open(t)) })
	t.Run("AbortWithCancelledContextLeavesNothing", func(t *testing.T) { abortWithCancelledContext(t, open(t)) })
	t.Run("TornWriteIsNeverVisible", func(t *testing.T) { tornWriteIsNeverVisible(t, open(t)) })
	t.Run("PutGetDelete", func(t *testing.T) { putGetDelete(t, open(t)) })
	t.Run("PruneRemovesOnlyWhatRemoveAccepts", func(t *testing.T) { pruneRemovesOnlyAccepted(t, open(t)) })
	t.Run("OpenStreamsWhatWasCommitted", func(t *testing.T) { openStreams(t, open(t)) })
	t.Run("ListShowsOnlyCommittedDirectChildren", func(t *testing.T) { listCommitted(t, open(t)) })
}

// data returns n bytes that differ from chunk to chunk, so that a chunk
// lost, repeated or reordered shows.
func data(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i/4099 + i%251)
	}
	return b
}

func write(t *testing.T, ctx context.Context, p sink.Part, b []byte) {
	t.Helper()
	for len(b) > 0 {
		n := min(len(b), 1<<20+17) // pieces that do not align with chunks
		if err := p.Write(ctx, b[:n]); err != nil {
			t.Fatalf("write: %v", err)
		}
		b = b[n:]
	}
}

func mustGet(t *testing.T, d Destination, name string) []byte {
	t.Helper()
	got, err := d.Get(context.Background(), name)
	if err != nil {
		t.Fatalf("get %s: %v", name, err)
	}
	return got
}

func same(t *testing.T, name string, got, want []byte) {
	t.Helper()
	if !bytes.Equal(got, want) {
		t.Fatalf("%s holds %d bytes (sha256 %x), want %d bytes (sha256 %x)",
			name, len(got), sha256.Sum256(got), len(want), sha256.Sum256(want))
	}
}

func commitMakesPartVisible(t *testing.T, d Destination) {
	ctx := context.Background()
	p, err := d.Create(ctx, "part-00000.csv")
	if err != nil {
		t.Fatal(err)
	}
	want := data(1000)
	write(t, ctx, p, want[:10])
	write(t, ctx, p, want[10:])
	if got := mustGet(t, d, "part-00000.csv"); got != nil {
		t.Fatalf("part visible before Commit (%d bytes)", len(got))
	}
	if err := p.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	same(t, "part-00000.csv", mustGet(t, d, "part-00000.csv"), want)
	// An empty part is a file too.
	p, _ = d.Create(ctx, "part-00001.csv")
	if err := p.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if got := mustGet(t, d, "part-00001.csv"); got == nil || len(got) != 0 {
		t.Fatalf("empty part: Get = %v, want an empty, non-nil slice", got)
	}
}

// commitAfterCreatingContextCancelled is issue 13's defect 1 at unit level:
// the context a part was created with (the workers') ends while the part
// spans several chunks; its later writes and Commit run under their own
// contexts and must succeed.
func commitAfterCreatingContextCancelled(t *testing.T, d Destination) {
	workers, stop := context.WithCancel(context.Background())
	p, err := d.Create(workers, "part-00007.csv")
	if err != nil {
		t.Fatal(err)
	}
	want := data(2*chunk + chunk/2 + 12345)
	half := len(want) / 2
	write(t, workers, p, want[:half])
	stop()
	flush := context.Background()
	write(t, flush, p, want[half:])
	if err := p.Commit(flush); err != nil {
		t.Fatalf("commit after the creating context was cancelled: %v", err)
	}
	same(t, "part-00007.csv", mustGet(t, d, "part-00007.csv"), want)
}

func abortWithCancelledContext(t *testing.T, d Destination) {
	ctx, cancel := context.WithCancel(context.Background())
	p, err := d.Create(ctx, "part-00002.csv")
	if err != nil {
		t.Fatal(err)
	}
	write(t, ctx, p, data(chunk+1)) // an S3 part has started its upload
	cancel()
	p.Abort(ctx)
	if got := mustGet(t, d, "part-00002.csv"); got != nil {
		t.Fatalf("aborted part visible (%d bytes)", len(got))
	}
	// The name is free for a new part.
	p, _ = d.Create(context.Background(), "part-00002.csv")
	write(t, context.Background(), p, []byte("again"))
	if err := p.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	same(t, "part-00002.csv", mustGet(t, d, "part-00002.csv"), []byte("again"))
}

func tornWriteIsNeverVisible(t *testing.T, d Destination) {
	ctx := context.Background()
	if err := d.Put(ctx, "part-00003.csv", []byte("committed")); err != nil {
		t.Fatal(err)
	}
	// A second write of the same name that never commits (a killed run's)
	// neither shows nor damages what is there.
	p, err := d.Create(ctx, "part-00003.csv")
	if err != nil {
		t.Fatal(err)
	}
	write(t, ctx, p, data(chunk+100))
	same(t, "part-00003.csv", mustGet(t, d, "part-00003.csv"), []byte("committed"))
	p2, _ := d.Create(ctx, "part-00004.csv")
	write(t, ctx, p2, data(100))
	if got := mustGet(t, d, "part-00004.csv"); got != nil {
		t.Fatalf("uncommitted part visible (%d bytes)", len(got))
	}
	p.Abort(ctx)
	p2.Abort(ctx)
}

func putGetDelete(t *testing.T, d Destination) {
	ctx := context.Background()
	if got, err := d.Get(ctx, "missing.json"); got != nil || err != nil {
		t.Fatalf("missing object: Get = %v, %v; want nil, nil", got, err)
	}
	for _, v := range [][]byte{[]byte(`{"v":1}`), []byte(`{"v":22}`), {}} {
		if err := d.Put(ctx, "_checkpoint.json", v); err != nil {
			t.Fatal(err)
		}
		got := mustGet(t, d, "_checkpoint.json")
		if got == nil {
			t.Fatal("Put object reads back as missing")
		}
		same(t, "_checkpoint.json", got, v)
	}
	if err := d.Delete(ctx, "_checkpoint.json"); err != nil {
		t.Fatal(err)
	}
	if got := mustGet(t, d, "_checkpoint.json"); got != nil {
		t.Fatalf("deleted object still there: %q", got)
	}
	if err := d.Delete(ctx, "_checkpoint.json"); err != nil {
		t.Fatalf("delete of a missing object: %v", err)
	}
}

func pruneRemovesOnlyAccepted(t *testing.T, d Destination) {
	ctx := context.Background()
	for _, n := range []string{"part-00000.csv", "part-00001.csv", "_members-00000000.bin", "notes.txt"} {
		if err := d.Put(ctx, n, []byte(n)); err != nil {
			t.Fatal(err)
		}
	}
	// A part a killed run left unfinished, and one still being written
	// under a name prune keeps.
	orphan, _ := d.Create(ctx, "part-00002.csv")
	write(t, ctx, orphan, data(chunk+1))
	live, _ := d.Create(ctx, "part-00003.csv")
	write(t, ctx, live, data(100))
	doomed := map[string]bool{"part-00001.csv": true, "_members-00000000.bin": true, "part-00002.csv": true}
	asked := map[string]bool{}
	err := d.Prune(ctx, func(name string) bool {
		asked[name] = true
		return doomed[name]
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"part-00001.csv", "_members-00000000.bin"} {
		if !asked[n] {
			t.Errorf("prune never asked about %s", n)
		}
		if got := mustGet(t, d, n); got != nil {
			t.Errorf("%s survived the prune", n)
		}
	}
	for _, n := range []string{"part-00000.csv", "notes.txt"} {
		same(t, n, mustGet(t, d, n), []byte(n))
	}
	if got := mustGet(t, d, "part-00002.csv"); got != nil {
		t.Error("the unfinished part became visible")
	}
	if err := live.Commit(ctx); err != nil {
		t.Fatalf("a part prune kept cannot commit: %v", err)
	}
	same(t, "part-00003.csv", mustGet(t, d, "part-00003.csv"), data(100))
	orphan.Abort(ctx)
}

func openStreams(t *testing.T, d Destination) {
	ctx := context.Background()
	p, err := d.Create(ctx, "part-00000.parquet")
	if err != nil {
		t.Fatal(err)
	}
	want := data(2*chunk + 777) // a multipart object on S3
	write(t, ctx, p, want)
	if _, err := d.Open(ctx, "part-00000.parquet"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Open of an uncommitted part: %v, want an error wrapping fs.ErrNotExist", err)
	}
	if err := p.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	r, err := d.Open(ctx, "part-00000.parquet")
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	same(t, "part-00000.parquet", got, want)
	if err := d.Put(ctx, "empty.json", nil); err != nil {
		t.Fatal(err)
	}
	if r, err = d.Open(ctx, "empty.json"); err != nil {
		t.Fatal(err)
	}
	if got, err = io.ReadAll(r); err != nil || len(got) != 0 {
		t.Fatalf("empty object reads as %d bytes, %v", len(got), err)
	}
	r.Close()
	if _, err := d.Open(ctx, "missing.json"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Open of a missing file: %v, want an error wrapping fs.ErrNotExist", err)
	}
}

func listCommitted(t *testing.T, d Destination) {
	ctx := context.Background()
	if names, err := d.List(ctx); err != nil || len(names) != 0 {
		t.Fatalf("List of an empty location = %q, %v", names, err)
	}
	for _, n := range []string{"part-00001.csv", "manifest.json", "part-00000.csv"} {
		if err := d.Put(ctx, n, []byte(n)); err != nil {
			t.Fatal(err)
		}
	}
	unfinished, _ := d.Create(ctx, "part-00002.csv")
	write(t, ctx, unfinished, data(chunk+1))
	defer unfinished.Abort(ctx)
	names, err := d.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(names)
	if want := []string{"manifest.json", "part-00000.csv", "part-00001.csv"}; !slices.Equal(names, want) {
		t.Fatalf("List = %q, want %q (committed files only)", names, want)
	}
}
