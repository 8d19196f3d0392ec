package s3dest_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	fp "github.com/cognito-export/cognito-export/internal/faultproxy"
	"github.com/cognito-export/cognito-export/internal/s3server"
	"github.com/cognito-export/cognito-export/sink/s3dest"
)

// throughProxy opens s3://bucket/p/ through a fault proxy in front of srv.
func throughProxy(t *testing.T, srv *s3server.Server, bucket string, cfg fp.Config) (*s3dest.Prefix, *fp.Proxy) {
	t.Helper()
	p := fp.Start(t, srv.Endpoint, cfg)
	d, err := s3dest.Open(context.Background(), "s3://"+bucket+"/p/", s3dest.Options{
		Region: srv.Region, EndpointURL: p.URL, Credentials: srv.Credentials(), PartSize: s3dest.MinPartSize,
	})
	if err != nil {
		t.Fatalf("open through the proxy: %v\n%s", err, p)
	}
	return d, p
}

// writePart writes data as one part named name and commits it.
func writePart(ctx context.Context, d *s3dest.Prefix, name string, data []byte) error {
	part, err := d.Create(ctx, name)
	if err != nil {
		return err
	}
	// In pieces, as the encoders write.
	for b := data; len(b) > 0; {
		n := min(len(b), 1<<20)
		if err := part.Write(ctx, b[:n]); err != nil {
			part.Abort(ctx)
			return err
		}
		b = b[n:]
	}
	return part.Commit(ctx)
}

// randomBytes of n: a chunk sent again in place of another shows.
func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// TestS3ChunkRetriesKeepTheBytes: chunks whose upload was cut, failed or
// lost its answer are sent again by the SDK; the object is the bytes
// written, and a small part's single PUT survives the same.
func TestS3ChunkRetriesKeepTheBytes(t *testing.T) {
	srv := s3server.Start(t)
	bucket := srv.Bucket(t, "chunks")
	d, p := throughProxy(t, srv, bucket, fp.Config{Plan: []fp.Planned{
		{Op: fp.UploadPart, N: 1, Kind: fp.ResetRequest},
		{Op: fp.UploadPart, N: 3, Kind: fp.LoseResponse},
		{Op: fp.UploadPart, N: 4, Kind: fp.InternalError},
		{Op: fp.UploadPart, N: 6, Kind: fp.ResetRequest},
		{Op: fp.PutObject, Suffix: "small.csv", N: 1, Kind: fp.ResetRequest},
		{Op: fp.PutObject, Suffix: "small.csv", N: 2, Kind: fp.LoseResponse},
	}})
	ctx := context.Background()
	big, small := randomBytes(3*s3dest.MinPartSize+12345), randomBytes(1<<20)
	if err := writePart(ctx, d, "big.csv", big); err != nil {
		t.Fatalf("big part: %v\n%s", err, p)
	}
	if err := writePart(ctx, d, "small.csv", small); err != nil {
		t.Fatalf("small part: %v\n%s", err, p)
	}
	for name, want := range map[string][]byte{"big.csv": big, "small.csv": small} {
		if got := getObject(t, srv.Client(), bucket, "p/"+name); !bytes.Equal(got, want) {
			t.Fatalf("%s: %d bytes that differ from the %d written", name, len(got), len(want))
		}
	}
	if n := openUploads(t, srv.Client(), bucket); n != 0 {
		t.Fatalf("%d multipart uploads left open", n)
	}
	if p.Count(fp.UploadPart, fp.ResetRequest) != 2 || p.Count(fp.UploadPart, fp.LoseResponse) != 1 || p.Count(fp.PutObject, fp.LoseResponse) != 1 {
		t.Fatalf("the planned faults did not all happen:\n%s", p)
	}
}

// TestS3LostStartLeavesNoOrphanUpload: the answer to CreateMultipartUpload
// is lost, the SDK starts another upload, and the first one, which nobody
// knows the id of, must not be left open, billed and invisible; nor when
// the part is aborted, nor when the start fails for good.
func TestS3LostStartLeavesNoOrphanUpload(t *testing.T) {
	srv := s3server.Start(t)
	bucket := srv.Bucket(t, "starts")
	d, p := throughProxy(t, srv, bucket, fp.Config{Plan: []fp.Planned{
		{Op: fp.CreateMultipartUpload, Suffix: "committed.csv", N: 1, Kind: fp.LoseResponse},
		{Op: fp.CreateMultipartUpload, Suffix: "aborted.csv", N: 1, Kind: fp.LoseResponse},
		{Op: fp.CreateMultipartUpload, Suffix: "failed.csv", N: 1, Kind: fp.LoseResponse},
		{Op: fp.CreateMultipartUpload, Suffix: "failed.csv", N: 2, Kind: fp.LoseResponse},
		{Op: fp.CreateMultipartUpload, Suffix: "failed.csv", N: 3, Kind: fp.LoseResponse},
	}})
	ctx := context.Background()
	data := randomBytes(s3dest.MinPartSize + 1)
	if err := writePart(ctx, d, "committed.csv", data); err != nil {
		t.Fatal(err)
	}
	if n := openUploads(t, srv.Client(), bucket); n != 0 {
		t.Fatalf("%d multipart uploads left open after a commit\n%s", n, p)
	}
	part, _ := d.Create(ctx, "aborted.csv")
	if err := part.Write(ctx, data); err != nil {
		t.Fatal(err)
	}
	part.Abort(ctx)
	if n := openUploads(t, srv.Client(), bucket); n != 0 {
		t.Fatalf("%d multipart uploads left open after an abort\n%s", n, p)
	}
	part, _ = d.Create(ctx, "failed.csv")
	if err := part.Write(ctx, data); err == nil {
		t.Fatal("every start lost its answer, yet the write passed")
	}
	part.Abort(ctx)
	if n := openUploads(t, srv.Client(), bucket); n != 0 {
		t.Fatalf("%d multipart uploads left open after a start that failed\n%s", n, p)
	}
	if p.Count(fp.CreateMultipartUpload, fp.LoseResponse) != 5 {
		t.Fatalf("the planned faults did not all happen:\n%s", p)
	}
}

// TestS3CompletionRetriedAfterALostAnswer: CompleteMultipartUpload's
// answer is lost after S3 completed the upload, and S3 answers the retry
// NoSuchUpload. The part is there, whole: the commit succeeds. A
// NoSuchUpload where the object is not the one uploaded (missing, or an
// older object of the same size under the key) still fails.
func TestS3CompletionRetriedAfterALostAnswer(t *testing.T) {
	srv := s3server.Start(t)
	bucket := srv.Bucket(t, "completes")
	d, p := throughProxy(t, srv, bucket, fp.Config{Plan: []fp.Planned{
		{Op: fp.CompleteMultipartUpload, Suffix: "lost.csv", N: 1, Kind: fp.LoseResponse},
		{Op: fp.CompleteMultipartUpload, Suffix: "lost.csv", N: 2, Kind: fp.NoSuchUpload},
		{Op: fp.CompleteMultipartUpload, Suffix: "never.csv", N: 1, Kind: fp.NoSuchUpload},
		{Op: fp.CompleteMultipartUpload, Suffix: "older.csv", N: 1, Kind: fp.NoSuchUpload},
	}})
	ctx := context.Background()
	data := randomBytes(2*s3dest.MinPartSize + 777)
	if err := writePart(ctx, d, "lost.csv", data); err != nil {
		t.Fatalf("a completion whose answer was lost: %v\n%s", err, p)
	}
	if got := getObject(t, srv.Client(), bucket, "p/lost.csv"); !bytes.Equal(got, data) {
		t.Fatal("the object differs from what was written")
	}
	if err := writePart(ctx, d, "never.csv", data); err == nil || !strings.Contains(err.Error(), "NoSuchUpload") {
		t.Fatalf("a completion that never happened: %v; want NoSuchUpload", err)
	}
	older := randomBytes(len(data))
	if _, err := srv.Client().PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: aws.String("p/older.csv"), Body: bytes.NewReader(older), ChecksumAlgorithm: "SHA256"}); err != nil {
		t.Fatal(err)
	}
	if err := writePart(ctx, d, "older.csv", data); err == nil || !strings.Contains(err.Error(), "NoSuchUpload") {
		t.Fatalf("a completion answered NoSuchUpload over an older object of the same size: %v; want NoSuchUpload", err)
	}
	if n := openUploads(t, srv.Client(), bucket); n != 0 {
		t.Fatalf("%d multipart uploads left open", n)
	}
	if p.Count(fp.CompleteMultipartUpload, fp.NoSuchUpload) != 3 || p.Count(fp.CompleteMultipartUpload, fp.LoseResponse) != 1 {
		t.Fatalf("the planned faults did not all happen:\n%s", p)
	}
}

// TestS3ReadsGoOnAfterACutResponse: a GET whose body is cut in the middle,
// and the GET that takes it up cut again, still reads the object whole, by
// Open as by Get. An object replaced between the cut and the rest is an
// error, never a mix of the two.
func TestS3ReadsGoOnAfterACutResponse(t *testing.T) {
	srv := s3server.Start(t)
	bucket := srv.Bucket(t, "reads")
	d, p := throughProxy(t, srv, bucket, fp.Config{Plan: []fp.Planned{
		{Op: fp.GetObject, Suffix: "big.csv", N: 1, Kind: fp.ResetResponse},
		{Op: fp.GetObject, Suffix: "big.csv", N: 2, Kind: fp.ResetResponse},
		{Op: fp.GetObject, Suffix: "big.csv", N: 4, Kind: fp.ResetResponse},
		{Op: fp.GetObject, Suffix: "replaced.csv", N: 1, Kind: fp.ResetResponse},
	}})
	ctx := context.Background()
	big := randomBytes(8 << 20)
	c := srv.Client()
	for _, key := range []string{"p/big.csv", "p/replaced.csv"} {
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: aws.String(key), Body: bytes.NewReader(big)}); err != nil {
			t.Fatal(err)
		}
	}
	r, err := d.Open(ctx, "big.csv")
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(r)
	r.Close()
	if err != nil || !bytes.Equal(got, big) {
		t.Fatalf("Open after two cuts: %d of %d bytes, equal %v, err %v\n%s", len(got), len(big), bytes.Equal(got, big), err, p)
	}
	got, err = d.Get(ctx, "big.csv")
	if err != nil || !bytes.Equal(got, big) {
		t.Fatalf("Get after a cut: %d of %d bytes, err %v\n%s", len(got), len(big), err, p)
	}
	if p.Count(fp.GetObject, fp.ResetResponse) != 3 {
		t.Fatalf("the planned cuts did not all happen:\n%s", p)
	}

	r, err = d.Open(ctx, "replaced.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := io.ReadFull(r, make([]byte, 1)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: aws.String("p/replaced.csv"), Body: bytes.NewReader(randomBytes(len(big)))}); err != nil {
		t.Fatal(err)
	}
	rest, err := io.ReadAll(r)
	if err == nil || !strings.Contains(err.Error(), "PreconditionFailed") {
		t.Fatalf("an object replaced in the middle of a read: %d bytes, err %v; want PreconditionFailed", len(rest)+1, err)
	}
	if !bytes.Equal(rest, big[1:1+len(rest)]) {
		t.Fatal("the bytes read before the error are not the first object's")
	}
	t.Logf("replaced in the middle: %v", err)
}

// TestS3RetriesDoNotRunOutOfQuota: the SDK's client-side retry quota (a
// token bucket shared by every call of the client) must not turn a long
// stretch of server errors into calls that fail at once, unretried, with
// "retry quota exceeded": each call gets its attempts whatever the others
// spent. Half of the GETs fail here, as in an S3 brownout.
func TestS3RetriesDoNotRunOutOfQuota(t *testing.T) {
	srv := s3server.Start(t)
	bucket := srv.Bucket(t, "brownout")
	d, p := throughProxy(t, srv, bucket, fp.Config{Seed: 7, PerOp: map[fp.Op]fp.Shares{fp.GetObject: {fp.InternalError: 0.5}}})
	ctx := context.Background()
	if err := d.Put(ctx, "small.json", []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	const calls = 300
	failed, quota := 0, 0
	for range calls {
		if _, err := d.Get(ctx, "small.json"); err != nil {
			failed++
			if strings.Contains(err.Error(), "retry quota exceeded") {
				quota++
			}
		}
	}
	// A call fails when its three attempts do: one in eight.
	t.Logf("%d of %d calls failed, %d for the retry quota; %d requests answered InternalError, %d passed",
		failed, calls, quota, p.Count(fp.GetObject, fp.InternalError), p.Count(fp.GetObject, fp.Pass))
	if quota != 0 {
		t.Fatalf("%d calls failed unretried for the SDK's retry quota", quota)
	}
	if failed == 0 || failed > calls/4 {
		t.Fatalf("%d of %d calls failed; with three attempts at 50%% about one in eight should", failed, calls)
	}
}

// TestS3AttemptsFollowAWSMaxAttempts: the retryer s3dest sets keeps the
// SDK's attempts (3) and AWS_MAX_ATTEMPTS, as in every AWS tool.
func TestS3AttemptsFollowAWSMaxAttempts(t *testing.T) {
	srv := s3server.Start(t)
	bucket := srv.Bucket(t, "attempts")
	for _, tt := range []struct {
		env  string
		want int
	}{{"", 3}, {"2", 2}, {"5", 5}} {
		t.Setenv("AWS_MAX_ATTEMPTS", tt.env)
		var plan []fp.Planned
		for n := 1; n <= 5; n++ {
			plan = append(plan, fp.Planned{Op: fp.PutObject, Suffix: "x.json", N: n, Kind: fp.InternalError})
		}
		d, p := throughProxy(t, srv, bucket, fp.Config{Plan: plan})
		if err := d.Put(context.Background(), "x.json", nil); err == nil || !strings.Contains(err.Error(), "InternalError") {
			t.Fatalf("AWS_MAX_ATTEMPTS=%q: %v; want InternalError", tt.env, err)
		}
		if got := p.Count(fp.PutObject, fp.InternalError); got != tt.want {
			t.Errorf("AWS_MAX_ATTEMPTS=%q: %d attempts, want %d", tt.env, got, tt.want)
		}
	}
}
