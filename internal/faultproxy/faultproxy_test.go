package faultproxy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/cognito-export/cognito-export/internal/s3server"
)

// client talks to endpoint with the server's root keys and no retries, so
// that every fault reaches the test as the SDK classifies it.
func client(srv *s3server.Server, endpoint string) *s3.Client {
	return s3.New(s3.Options{
		Region: srv.Region, Credentials: srv.Credentials(), BaseEndpoint: aws.String(endpoint), UsePathStyle: true,
		Retryer: retry.AddWithMaxAttempts(retry.NewStandard(), 1),
	})
}

func TestEachKindAsTheSDKSeesIt(t *testing.T) {
	srv := s3server.Start(t)
	bucket := srv.Bucket(t, "faults")
	p := Start(t, srv.Endpoint, Config{
		Latency: 50 * time.Millisecond,
		Plan: []Planned{
			{Op: PutObject, Suffix: "500", N: 1, Kind: InternalError},
			{Op: PutObject, Suffix: "503", N: 1, Kind: SlowDown},
			{Op: PutObject, Suffix: "reset", N: 1, Kind: ResetRequest},
			{Op: PutObject, Suffix: "lost", N: 1, Kind: LoseResponse},
			{Op: PutObject, Suffix: "slow", N: 1, Kind: Delay},
			{Op: GetObject, Suffix: "cut", N: 1, Kind: ResetResponse},
		},
		OutageAfter: &Trigger{Op: PutObject, Suffix: "last", N: 1},
	})
	ctx := context.Background()
	c, direct := client(srv, p.URL), srv.Client()
	body := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	put := func(key string) error {
		_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: aws.String(key), Body: bytes.NewReader(body)})
		return err
	}
	exists := func(key string) bool {
		_, err := direct.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &bucket, Key: aws.String(key)})
		return err == nil
	}
	retryable := retry.NewStandard()

	for _, tt := range []struct {
		key    string
		code   string
		status int
	}{{"500", "InternalError", 500}, {"503", "SlowDown", 503}} {
		err := put(tt.key)
		var api smithy.APIError
		var resp interface{ HTTPStatusCode() int }
		if !errors.As(err, &api) || api.ErrorCode() != tt.code || !errors.As(err, &resp) || resp.HTTPStatusCode() != tt.status {
			t.Fatalf("put %s: %v; want %d %s", tt.key, err, tt.status, tt.code)
		}
		if !retryable.IsErrorRetryable(err) {
			t.Fatalf("put %s: the SDK would not retry %v", tt.key, err)
		}
		if throttle := retry.IsErrorThrottles(retry.DefaultThrottles).IsErrorThrottle(err).Bool(); throttle != (tt.code == "SlowDown") {
			t.Fatalf("put %s: the SDK takes %v for a throttle: %v", tt.key, err, throttle)
		}
		if exists(tt.key) {
			t.Fatalf("put %s: the failed request reached the server", tt.key)
		}
		if err := put(tt.key); err != nil {
			t.Fatalf("put %s again: %v", tt.key, err)
		}
	}
	if err := put("503-again"); err != nil {
		t.Fatalf("a key the plan does not name: %v", err)
	}

	err := put("reset")
	if err == nil || !retryable.IsErrorRetryable(err) || exists("reset") {
		t.Fatalf("put cut in the middle of its body: err %v (retryable %v), reached the server %v; want a retryable error and no object",
			err, err != nil && retryable.IsErrorRetryable(err), exists("reset"))
	}
	err = put("lost")
	if err == nil || !retryable.IsErrorRetryable(err) || !exists("lost") {
		t.Fatalf("put whose response was lost: err %v, object there %v; want a retryable error and the object written", err, exists("lost"))
	}
	if err := put("slow"); err != nil {
		t.Fatalf("delayed put: %v", err)
	}

	if err := put("cut"); err != nil {
		t.Fatal(err)
	}
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: aws.String("cut")})
	if err != nil {
		t.Fatalf("get: the headers should pass: %v", err)
	}
	got, err := io.ReadAll(out.Body)
	out.Body.Close()
	if err == nil || len(got) >= len(body) || !bytes.Equal(got, body[:len(got)]) {
		t.Fatalf("get cut in the middle: read %d of %d bytes, err %v; want a prefix and an error", len(got), len(body), err)
	}
	t.Logf("a response cut in the middle reads as: %v after %d bytes", err, len(got))

	if err := put("last"); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"after-1", "after-2"} {
		var api smithy.APIError
		if err := put(key); !errors.As(err, &api) || api.ErrorCode() != "SlowDown" {
			t.Fatalf("put %s in the outage: %v; want SlowDown", key, err)
		}
	}
	if _, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &bucket}); err == nil {
		t.Fatal("a listing passed in the outage")
	}
	p.Heal()
	if err := put("healed"); err != nil {
		t.Fatalf("put after Heal: %v", err)
	}

	for _, c := range []struct {
		op   Op
		kind Kind
		want int
	}{
		{PutObject, InternalError, 1}, {PutObject, SlowDown, 1}, {PutObject, ResetRequest, 1}, {PutObject, LoseResponse, 1},
		{PutObject, Delay, 1}, {GetObject, ResetResponse, 1}, {PutObject, Outage, 2}, {ListObjectsV2, Outage, 1},
	} {
		if got := p.Count(c.op, c.kind); got != c.want {
			t.Errorf("%s %s: %d, want %d\n%s", c.op, c.kind, got, c.want, p)
		}
	}
	t.Logf("\n%s", p)
}

// TestMultipartThroughTheProxy: the operations of a multipart upload are
// told apart, and their signatures (chunk checksums included) hold.
func TestMultipartThroughTheProxy(t *testing.T) {
	srv := s3server.Start(t)
	bucket := srv.Bucket(t, "multipart")
	p := Start(t, srv.Endpoint, Config{})
	ctx := context.Background()
	c := client(srv, p.URL)
	key := aws.String("dir/part-00000.csv")
	up, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &bucket, Key: key, ChecksumAlgorithm: "SHA256"})
	if err != nil {
		t.Fatal(err)
	}
	chunk := bytes.Repeat([]byte{'x'}, 5<<20)
	part, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: &bucket, Key: key, UploadId: up.UploadId, PartNumber: aws.Int32(1),
		Body: bytes.NewReader(chunk), ChecksumAlgorithm: "SHA256"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: &bucket}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: &bucket, Key: key, UploadId: up.UploadId,
		MultipartUpload: &s3types.CompletedMultipartUpload{Parts: []s3types.CompletedPart{{ETag: part.ETag, PartNumber: aws.Int32(1), ChecksumSHA256: part.ChecksumSHA256}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &bucket, Key: key}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &bucket, Key: key}); err != nil {
		t.Fatal(err)
	}
	up2, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &bucket, Key: key})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: &bucket, Key: key, UploadId: up2.UploadId}); err != nil {
		t.Fatal(err)
	}
	for _, op := range []Op{CreateMultipartUpload, UploadPart, ListMultipartUploads, CompleteMultipartUpload, HeadObject, DeleteObject, AbortMultipartUpload} {
		want := 1
		if op == CreateMultipartUpload {
			want = 2
		}
		if got := p.Count(op, Pass); got != want {
			t.Errorf("%s: %d passed, want %d\n%s", op, got, want, p)
		}
	}
	if p.Requests(Other) != 0 {
		t.Errorf("requests not classified:\n%s", p)
	}
}

// TestDrawsFollowTheSeed: the same seed fails the same requests; the
// shares are met.
func TestDrawsFollowTheSeed(t *testing.T) {
	srv := s3server.Start(t)
	bucket := srv.Bucket(t, "draws")
	shares := Shares{InternalError: 0.1, SlowDown: 0.1, ResetRequest: 0.1, LoseResponse: 0.1, ResetResponse: 0.1, Delay: 0.1}
	run := func(seed uint64) string {
		p := Start(t, srv.Endpoint, Config{Seed: seed, Shares: shares, Latency: time.Millisecond})
		c := client(srv, p.URL)
		var outcome strings.Builder
		for i := range 300 {
			_, err := c.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: &bucket, Prefix: aws.String(fmt.Sprint(i))})
			if err != nil {
				outcome.WriteByte('x')
			} else {
				outcome.WriteByte('.')
			}
		}
		for _, k := range drawn {
			if n := p.Faults(k); n < 10 || n > 55 {
				t.Errorf("seed %d: %d requests of 300 answered %s; want about 30\n%s", seed, n, k, p)
			}
		}
		// Go's transport sends a GET again by itself when a reused
		// connection breaks before an answer: more than 300 is normal.
		if p.Requests("") < 300 {
			t.Errorf("%d requests counted, want at least 300", p.Requests(""))
		}
		return outcome.String()
	}
	a, b, other := run(1), run(1), run(2)
	if a != b {
		t.Fatalf("the same seed failed other requests:\n%s\n%s", a, b)
	}
	if a == other {
		t.Fatal("another seed failed the same requests")
	}
}
