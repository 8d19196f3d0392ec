package s3dest_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/cognito-export/cognito-export/fault"
	"github.com/cognito-export/cognito-export/internal/s3server"
	"github.com/cognito-export/cognito-export/sink/s3dest"
)

func retainedOptions(srv *s3server.Server, r s3dest.Retention) s3dest.Options {
	return s3dest.Options{Region: srv.Region, EndpointURL: srv.Endpoint, Credentials: srv.Credentials(), PartSize: s3dest.MinPartSize, Retention: r}
}

// TestRetentionLocksEvidenceNotWorkingFiles writes a small file, a part
// of several chunks and a working file under compliance retention on
// versitygw: the two pieces of evidence carry the retention asked, and no
// version of them can be deleted, while the working file is under none and
// goes.
func TestRetentionLocksEvidenceNotWorkingFiles(t *testing.T) {
	ctx := context.Background()
	srv := s3server.StartVersioned(t)
	bucket := srv.LockedBucket(t, "locked")
	r := s3dest.Retention{Mode: "compliance", Days: 3, Working: func(name string) bool { return strings.HasPrefix(name, "_") }}
	before := time.Now().UTC()
	d, err := s3dest.Open(ctx, "s3://"+bucket+"/x/", retainedOptions(srv, r))
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Put(ctx, "manifest.json", []byte("{}\n")); err != nil {
		t.Fatal(err)
	}
	part, err := d.Create(ctx, "part-00000.csv")
	if err != nil {
		t.Fatal(err)
	}
	big := bytes.Repeat([]byte("0123456789abcdef"), (s3dest.MinPartSize+1000)/16)
	if err := part.Write(ctx, big); err != nil {
		t.Fatal(err)
	}
	if err := part.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := d.Put(ctx, "_checkpoint.json", []byte("{}")); err != nil {
		t.Fatal(err)
	}

	for _, name := range []string{"manifest.json", "part-00000.csv"} {
		got, err := d.RetentionOf(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		low, high := before.Add(72*time.Hour).Truncate(time.Second), time.Now().UTC().Add(72*time.Hour)
		if got.Mode != "COMPLIANCE" || got.Until.Before(low) || got.Until.After(high) {
			t.Errorf("%s: retention %+v, want COMPLIANCE until within [%v, %v]", name, got, low, high)
		}
		for _, v := range versions(t, srv.Client(), bucket, "x/"+name) {
			_, err := srv.Client().DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &bucket, Key: aws.String("x/" + name), VersionId: &v, BypassGovernanceRetention: aws.Bool(true)})
			var api smithy.APIError
			if !errors.As(err, &api) || api.ErrorCode() != "AccessDenied" {
				t.Errorf("delete version %s of %s: %v, want AccessDenied", v, name, err)
			}
		}
	}
	if got, err := d.RetentionOf(ctx, "_checkpoint.json"); err != nil || got.Mode != "" {
		t.Fatalf("the working file is under retention %+v (%v)", got, err)
	}
	for _, v := range versions(t, srv.Client(), bucket, "x/_checkpoint.json") {
		if _, err := srv.Client().DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &bucket, Key: aws.String("x/_checkpoint.json"), VersionId: &v}); err != nil {
			t.Fatalf("delete a version of the working file: %v", err)
		}
	}
}

// TestGovernanceRetentionRefusesAPlainDelete: under governance, a delete
// of a version without the bypass is refused as under compliance.
func TestGovernanceRetentionRefusesAPlainDelete(t *testing.T) {
	ctx := context.Background()
	srv := s3server.StartVersioned(t)
	bucket := srv.LockedBucket(t, "governed")
	d, err := s3dest.Open(ctx, "s3://"+bucket+"/x/", retainedOptions(srv, s3dest.Retention{Mode: "GOVERNANCE", Days: 1}))
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Put(ctx, "manifest.json", []byte("{}")); err != nil {
		t.Fatal(err)
	}
	if got, err := d.RetentionOf(ctx, "manifest.json"); err != nil || got.Mode != "GOVERNANCE" {
		t.Fatalf("retention %+v (%v), want GOVERNANCE", got, err)
	}
	for _, v := range versions(t, srv.Client(), bucket, "x/manifest.json") {
		_, err := srv.Client().DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &bucket, Key: aws.String("x/manifest.json"), VersionId: &v})
		var api smithy.APIError
		if !errors.As(err, &api) || api.ErrorCode() != "AccessDenied" {
			t.Errorf("delete version %s without the bypass: %v, want AccessDenied", v, err)
		}
	}
}

// versions lists the version ids of exactly key.
func versions(t *testing.T, c *s3.Client, bucket, key string) []string {
	t.Helper()
	out, err := c.ListObjectVersions(context.Background(), &s3.ListObjectVersionsInput{Bucket: &bucket, Prefix: &key})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, v := range out.Versions {
		if aws.ToString(v.Key) == key {
			ids = append(ids, aws.ToString(v.VersionId))
		}
	}
	if len(ids) == 0 {
		t.Fatalf("no version of %s", key)
	}
	return ids
}

// TestRetentionNeedsObjectLock: a bucket without Object Lock is refused
// before anything is written, as a usage problem (exit 2); a half-given
// or unknown retention is refused before S3 is asked at all.
func TestRetentionNeedsObjectLock(t *testing.T) {
	ctx := context.Background()
	srv := s3server.StartVersioned(t)
	bucket := srv.Bucket(t, "plain")
	_, err := s3dest.Open(ctx, "s3://"+bucket+"/x/", retainedOptions(srv, s3dest.Retention{Mode: "governance", Days: 1}))
	if fault.KindOf(err) != fault.Usage || !strings.Contains(err.Error(), "does not have Object Lock enabled") {
		t.Fatalf("Open on a bucket without Object Lock: %v", err)
	}
	for _, r := range []s3dest.Retention{{Mode: "governance"}, {Days: 3}, {Mode: "legal-hold", Days: 3}, {Mode: "compliance", Days: -1}} {
		_, err := s3dest.Open(ctx, "s3://"+bucket+"/x/", retainedOptions(srv, r))
		if fault.KindOf(err) != fault.Usage || !strings.Contains(err.Error(), "--object-lock-") {
			t.Errorf("retention %+v: %v, want a usage error naming the flag", r, err)
		}
	}
	// Without retention, an object is reported under none.
	d, err := s3dest.Open(ctx, "s3://"+bucket+"/x/", retainedOptions(srv, s3dest.Retention{}))
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Put(ctx, "manifest.json", []byte("{}")); err != nil {
		t.Fatal(err)
	}
	if got, err := d.RetentionOf(ctx, "manifest.json"); err != nil || got.Mode != "" {
		t.Fatalf("retention of an unlocked object: %+v, %v", got, err)
	}
}
