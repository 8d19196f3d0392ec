package s3dest_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/cognito-export/cognito-export/internal/s3server"
	"github.com/cognito-export/cognito-export/sink"
	"github.com/cognito-export/cognito-export/sink/desttest"
	"github.com/cognito-export/cognito-export/sink/s3dest"
	"golang.org/x/sync/errgroup"
)

func openTestS3(t *testing.T, srv *s3server.Server, url string) (*s3dest.Prefix, error) {
	t.Helper()
	return s3dest.Open(context.Background(), url, s3dest.Options{
		Region: srv.Region, EndpointURL: srv.Endpoint, Credentials: srv.Credentials(), PartSize: s3dest.MinPartSize,
	})
}

func TestContract(t *testing.T) {
	srv := s3server.Start(t)
	n := 0
	desttest.Run(t, func(t *testing.T) desttest.Destination {
		n++
		bucket := srv.Bucket(t, fmt.Sprintf("contract-%d", n))
		d, err := openTestS3(t, srv, "s3://"+bucket+"/cognito/pool=X/")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			// Whatever the subtest did, no multipart upload is left open
			// but those of parts it deliberately left unfinished, which
			// Prune aborts.
			if err := d.Prune(context.Background(), func(string) bool { return true }); err != nil {
				t.Error(err)
			}
			if n := openUploads(t, srv.Client(), bucket); n != 0 {
				t.Errorf("%d multipart uploads left open after prune", n)
			}
		})
		return d
	})
}

func testName(seq int) string { return fmt.Sprintf("part-%05d.csv", seq) }

func hostileRow(i int) sink.Row {
	desc := fmt.Sprintf("group, \"quoted\"\nline %d", i)
	return sink.Row{
		UserPoolID: "us-east-1_X", Username: fmt.Sprintf("user-%d", i), UserSub: "sub", UserStatus: "CONFIRMED",
		UserEnabled: true, UserCreateDate: time.Unix(1700000000, 0), GroupName: fmt.Sprintf("g%d", i%7),
		GroupDescription: &desc, ExportedAt: time.Unix(1700000000, 0),
	}
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
	w, _ := sink.NewWriter(dest, sink.WriterOptions{Format: "csv", Name: testName, PartBytes: 12 << 20})
	rows := 0
	for w.Parts() == nil || len(w.Parts()) < 2 {
		batch := make([]sink.Row, 1000)
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
	if err := sink.WriteManifest(ctx, dest, "manifest.json", sink.Manifest{Format: "csv", Parts: w.Parts()}); err != nil {
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
	chunk := bytes.Repeat([]byte("x"), s3dest.MinPartSize+1)
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
	_, err := openTestS3(t, srv, "s3://missing-bucket/x/")
	if err == nil || !strings.Contains(err.Error(), `bucket "missing-bucket" does not exist`) {
		t.Errorf("missing bucket: %v", err)
	}
	// The message is one line of advice; the SDK's error stays the cause.
	var api smithy.APIError
	var s3err *s3dest.Error
	if !errors.As(err, &api) || api.ErrorCode() != "NoSuchBucket" || !errors.As(err, &s3err) {
		t.Errorf("missing bucket: the cause is not kept in the chain: %#v", err)
	}
	_, err = s3dest.Open(context.Background(), "s3://real/x/", s3dest.Options{
		Region: srv.Region, EndpointURL: srv.Endpoint,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{}, errors.New("no credentials in this test")
		}),
	})
	if err == nil || !strings.Contains(err.Error(), "no AWS credentials found") || !strings.Contains(fmt.Sprint(errors.Unwrap(err)), "no credentials in this test") {
		t.Errorf("no credentials: %v", err)
	}
	_, err = s3dest.Open(context.Background(), "s3://real/x/", s3dest.Options{
		Region: srv.Region, EndpointURL: srv.Endpoint,
		Credentials: credentials.NewStaticCredentialsProvider(srv.AccessKey, "wrong-secret", ""),
	})
	if err == nil || !strings.Contains(err.Error(), "rejected the credentials") && !strings.Contains(err.Error(), "access denied") {
		t.Errorf("wrong credentials: %v", err)
	}
	for _, bad := range []string{"s3://", "http://x/y", "s3:///nobucket"} {
		if _, _, err := s3dest.ParseURL(bad); err == nil {
			t.Errorf("ParseURL(%q): want an error", bad)
		}
	}
	if _, err := s3dest.Open(context.Background(), "s3://real/x/", s3dest.Options{SSE: "rot13"}); err == nil || !strings.Contains(err.Error(), "--sse") {
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
	w, _ := sink.NewWriter(dest, sink.WriterOptions{Format: "csv", Name: testName, PartBytes: 2*s3dest.MinPartSize + s3dest.MinPartSize/2})
	rows := 0
	for !w.Full() {
		batch := make([]sink.Row, 1000)
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

// TestS3DeleteOfAGoneObjectIsDone: S3 answers a delete of a missing key
// with success, and so must Delete, Prune and the probe: two runs on one
// output meet it when the lease holder prunes the probe of a run still
// checking the output, which then deletes it itself and must go on to ask
// for the lease (and be told who holds it). versitygw answered NoSuchKey
// to such a delete once in TestExportsStartedTogetherOnOneOutputLeaveOneWriter;
// deletes racing here have not reproduced that answer, so this holds the
// contract, and deleteKey the answer.
func TestS3DeleteOfAGoneObjectIsDone(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the S3 server")
	}
	srv := s3server.Start(t)
	srv.Bucket(t, "gone")
	d, err := openTestS3(t, srv, "s3://gone/out/")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for round := range 30 {
		if err := d.Put(ctx, "x.json", []byte("{}")); err != nil {
			t.Fatal(err)
		}
		var g errgroup.Group
		for range 4 {
			g.Go(func() error { return d.Delete(ctx, "x.json") })
		}
		g.Go(func() error { return d.Prune(ctx, func(n string) bool { return n == "x.json" }) })
		if err := g.Wait(); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
	}
}
