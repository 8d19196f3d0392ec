package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cognito-export/cognito-export/internal/cognitoemu"
	"github.com/cognito-export/cognito-export/internal/duckdb"
	"github.com/cognito-export/cognito-export/internal/s3server"
)

// TestDiffOnS3 is the scheduled review on S3: each day's export goes to
// its own prefix and diffs itself against the newest earlier one beside
// it; diff also reads one export from S3 and one from disk.
func TestDiffOnS3(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the S3 server")
	}
	duckdb.Require(t)
	s3srv := s3server.Start(t)
	s3srv.Bucket(t, "reviews")
	spec := cognitoemu.PoolSpec{ID: "eu-west-1_DiffS3", Users: 500, Groups: 10, Seed: 17}
	before := cognitoemu.NewPool(spec)
	s := newSnapshots(t, spec, cognitoemu.RandomMutations(before, 23, 0.03))
	want := expectedChanges(s)
	prefix := "s3://reviews/cognito/pool=" + spec.ID + "/"
	export := func(url, day string, extra ...string) {
		t.Helper()
		env := cleanEnv(s3srv.Env()...)
		args := append([]string{"export", "--endpoint-url", url, "--user-pool-id", spec.ID, "--output", prefix + "dt=" + day + "/",
			"--attributes", strings.Join(diffAttributes, ","), "--rate", "UserList=0", "--rate", "UserResourceRead=0",
			"--rate", "UserPoolResourceRead=0", "--rate", "UserPoolRead=0"}, extra...)
		if r := runCLI(t, env, args...); r.code != 0 {
			t.Fatalf("export %s: exit %d: %s", day, r.code, r.stderr)
		}
	}
	export(s.beforeURL, "2026-12-01", "--diff-against", "latest")
	export(s.afterURL, "2026-12-02", "--diff-against", "latest", "--format", "csv")
	sameChanges(t, "S3, against latest", readChanges(t, download(t, s3srv, "reviews", "cognito/pool="+spec.ID+"/dt=2026-12-02/diff/"), "csv"), want)

	// One side on disk, the other on S3, the diff to S3.
	local := filepath.Join(t.TempDir(), "old")
	env := cleanEnv(append(creds(), "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER="+s.beforeURL)...)
	if r := runCLI(t, env, "export", "--user-pool-id", spec.ID, "--output", local, "--attributes", strings.Join(diffAttributes, ","),
		"--rate", "UserList=0", "--rate", "UserResourceRead=0"); r.code != 0 {
		t.Fatalf("local export: %s", r.stderr)
	}
	r := runCLI(t, cleanEnv(s3srv.Env()...), "diff", local, prefix+"dt=2026-12-02/", "--output", "s3://reviews/adhoc/d1/")
	if r.code != 0 {
		t.Fatalf("diff disk → S3: exit %d: %s", r.code, r.stderr)
	}
	sameChanges(t, "disk and S3", readChanges(t, download(t, s3srv, "reviews", "adhoc/d1/"), "parquet"), want)
	if v := runCLI(t, cleanEnv(s3srv.Env()...), "verify", "s3://reviews/adhoc/d1/"); v.code != 0 {
		t.Fatalf("the diff on S3 does not verify: %s", v.stdout)
	}
}

// download copies the objects directly under prefix to a directory.
func download(t *testing.T, s3srv *s3server.Server, bucket, prefix string) string {
	t.Helper()
	ctx := context.Background()
	c := s3srv.Client()
	dir := t.TempDir()
	list, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix), Delimiter: aws.String("/")})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Contents) == 0 {
		t.Fatalf("nothing under s3://%s/%s", bucket, prefix)
	}
	for _, o := range list.Contents {
		obj, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: o.Key})
		if err != nil {
			t.Fatal(err)
		}
		f, err := os.Create(filepath.Join(dir, filepath.Base(aws.ToString(o.Key))))
		if err != nil {
			t.Fatal(err)
		}
		_, err = io.Copy(f, obj.Body)
		obj.Body.Close()
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	return dir
}
