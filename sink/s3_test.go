package sink

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cognito-export/cognito-export/internal/s3server"
)

func openTestS3(t *testing.T, srv *s3server.Server, url string) (*S3Prefix, error) {
	t.Helper()
	return OpenS3(context.Background(), url, S3Options{
		Region: srv.Region, EndpointURL: srv.Endpoint, Credentials: srv.Credentials(), PartSize: MinS3PartSize,
	})
}

func getObject(t *testing.T, c *s3.Client, bucket, key string) []byte {
	t.Helper()
	out, err := c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: &bucket, Key: &key})
	if err != nil {
		t.Fatalf("get %s: %v", key, err)
	}
	defer out.Body.Close()
	data, _ := io.ReadAll(out.Body)
	return data
}

func openUploads(t *testing.T, c *s3.Client, bucket string) int {
	t.Helper()
	out, err := c.ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: &bucket})
	if err != nil {
		t.Fatal(err)
	}
	return len(out.Uploads)
}

func TestS3PartsStreamThroughMultipartUploads(t *testing.T) {
	srv := s3server.Start(t)
	bucket := srv.Bucket(t, "exports")
	dest, err := openTestS3(t, srv, "s3://exports/cognito/pool=X/dt=2026-11-24")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	w, _ := NewWriter(dest, WriterOptions{Format: "csv", Name: testName("csv"), PartBytes: 12 << 20})
	rows := 0
	for w.Parts() == nil || len(w.Parts()) < 2 {
		batch := make([]Row, 1000)
		for i := range batch {
			batch[i] = hostileRow(rows % 50)
			rows++
		}
		if err := w.Write(ctx, batch); err != nil {
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
	if err := WriteManifest(ctx, dest, "manifest.json", Manifest{Format: "csv", Parts: w.Parts()}); err != nil {
		t.Fatal(err)
	}
	c := srv.Client()
	for _, p := range w.Parts() {
		data := getObject(t, c, bucket, "cognito/pool=X/dt=2026-11-24/"+p.Name)
		sum := sha256.Sum256(data)
		if hex.EncodeToString(sum[:]) != p.SHA256 || int64(len(data)) != p.Bytes {
			t.Fatalf("%s: object differs from what was written (%d bytes, want %d)", p.Name, len(data), p.Bytes)
		}
	}
	if m := getObject(t, c, bucket, "cognito/pool=X/dt=2026-11-24/manifest.json"); !bytes.Contains(m, []byte(`"part-00001.csv"`)) {
		t.Fatalf("manifest: %s", m)
	}
	if n := openUploads(t, c, bucket); n != 0 {
		t.Fatalf("%d multipart uploads left open", n)
	}
}

func TestS3AbortLeavesNoOrphanUpload(t *testing.T) {
	srv := s3server.Start(t)
	bucket := srv.Bucket(t, "aborts")
	dest, err := openTestS3(t, srv, "s3://aborts/p/")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	part, _ := dest.Create(ctx, "part-00000.csv")
	chunk := bytes.Repeat([]byte("x"), MinS3PartSize+1)
	if err := part.Write(ctx, chunk); err != nil {
		t.Fatal(err)
	}
	if n := openUploads(t, srv.Client(), bucket); n != 1 {
		t.Fatalf("want one upload in progress, got %d", n)
	}
	cancel() // the job was stopped: the abort must still go through
	part.Abort(ctx)
	if n := openUploads(t, srv.Client(), bucket); n != 0 {
		t.Fatalf("%d multipart uploads left after abort", n)
	}
	// Prune also aborts uploads a killed process left.
	part2, _ := dest.Create(context.Background(), "part-00001.csv")
	part2.Write(context.Background(), chunk)
	if err := dest.Prune(context.Background(), func(string) bool { return true }); err != nil {
		t.Fatal(err)
	}
	if n := openUploads(t, srv.Client(), bucket); n != 0 {
		t.Fatalf("%d multipart uploads left after Prune", n)
	}
}

func TestS3BadOutputsFailClearly(t *testing.T) {
	srv := s3server.Start(t)
	srv.Bucket(t, "real")
	if _, err := openTestS3(t, srv, "s3://missing-bucket/x/"); err == nil || !strings.Contains(err.Error(), `bucket "missing-bucket" does not exist`) {
		t.Errorf("missing bucket: %v", err)
	}
	_, err := OpenS3(context.Background(), "s3://real/x/", S3Options{
		Region: srv.Region, EndpointURL: srv.Endpoint,
		Credentials: credentials.NewStaticCredentialsProvider(srv.AccessKey, "wrong-secret", ""),
	})
	if err == nil || !strings.Contains(err.Error(), "rejected the credentials") && !strings.Contains(err.Error(), "access denied") {
		t.Errorf("wrong credentials: %v", err)
	}
	for _, bad := range []string{"s3://", "http://x/y", "s3:///nobucket"} {
		if _, _, err := ParseS3URL(bad); err == nil {
			t.Errorf("ParseS3URL(%q): want an error", bad)
		}
	}
	if _, err := OpenS3(context.Background(), "s3://real/x/", S3Options{SSE: "rot13"}); err == nil || !strings.Contains(err.Error(), "--sse") {
		t.Errorf("bad sse: %v", err)
	}
}

// TestS3PartOutlivesTheContextItWasCreatedWith pins issue 13's defect 1: a
// part created under the workers' context, which is cancelled when they
// finish, must still upload its remaining chunks and complete under the
// flush's own context.
func TestS3PartOutlivesTheContextItWasCreatedWith(t *testing.T) {
	srv := s3server.Start(t)
	bucket := srv.Bucket(t, "outlive")
	dest, err := openTestS3(t, srv, "s3://outlive/p/")
	if err != nil {
		t.Fatal(err)
	}
	workers, stop := context.WithCancel(context.Background())
	w, _ := NewWriter(dest, WriterOptions{Format: "csv", Name: testName("csv")})
	rows := 0
	for w.cur == nil || w.cur.count.n < 2*MinS3PartSize+MinS3PartSize/2 {
		batch := make([]Row, 1000)
		for i := range batch {
			batch[i] = hostileRow(rows % 50)
			rows++
		}
		if err := w.Write(workers, batch); err != nil {
			t.Fatal(err)
		}
	}
	stop() // the workers are done; the committer flushes on its own context
	if err := w.Flush(context.Background()); err != nil {
		t.Fatalf("flush after the creating context ended: %v", err)
	}
	p := w.Parts()[0]
	data := getObject(t, srv.Client(), bucket, "p/"+p.Name)
	if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != p.SHA256 {
		t.Fatalf("%s differs from what was written", p.Name)
	}
	if n := openUploads(t, srv.Client(), bucket); n != 0 {
		t.Fatalf("%d multipart uploads left open", n)
	}
}
