package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cognito-export/cognito-export/internal/cognitoemu"
	"github.com/cognito-export/cognito-export/internal/s3server"
)

// TestDryRunChecksAndExportsNothing: against the emulator and a local
// directory, a dry run calls each operation once, prints the estimate of
// both strategies and leaves the output empty.
func TestDryRunChecksAndExportsNothing(t *testing.T) {
	t.Parallel() // waits on paced calls and child processes, not the CPU
	pool := cognitoemu.NewPool(cognitoemu.PoolSpec{Users: 2000, Groups: 25, Seed: 3})
	srv := cognitoemu.NewServer(cognitoemu.Options{}, pool)
	url := startServer(t, srv)
	out := filepath.Join(t.TempDir(), "out")
	r := runCLI(t, cleanEnv(creds()...), "export", "--dry-run", "--rate", "UserResourceRead=2000", "--endpoint-url", url, "--user-pool-id", pool.ID(), "--output", out)
	if r.code != 0 {
		t.Fatalf("exit %d:\n%s", r.code, r.stderr)
	}
	for _, want := range []string{
		"output " + out + ": writable",
		"cognito-idp:DescribeUserPool: allowed", "cognito-idp:ListUsers: allowed", "cognito-idp:AdminListGroupsForUser: allowed",
		"cognito-idp:ListGroups: allowed", "cognito-idp:ListUsersInGroup: allowed",
		"estimated users: 2000",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Fatalf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
	// Both strategies with their calls and a duration at Cognito's default
	// rates, one of them chosen.
	cost := regexp.MustCompile(`strategy (per-user|by-group)( \(the run would use this\))?: (\d+) calls \(.*\), about \S+ at the configured rates`)
	found := cost.FindAllStringSubmatch(r.stdout, -1)
	if len(found) != 2 || found[0][2]+found[1][2] == "" {
		t.Fatalf("want both strategies' cost, one chosen:\n%s", r.stdout)
	}
	entries, _ := os.ReadDir(out)
	if len(entries) != 0 {
		t.Fatalf("a dry run left %d files in the output", len(entries))
	}
	// The estimate samples 300 users; an export would have asked for all.
	if n := srv.Calls("AdminListGroupsForUser"); n > 302 {
		t.Fatalf("%d AdminListGroupsForUser calls: the dry run exported", n)
	}

	// A denied operation of the chosen strategy fails the dry run and is named.
	denied := startServer(t, cognitoemu.NewServer(cognitoemu.Options{Deny: map[string]string{"ListUsersInGroup": "AccessDeniedException"}}, pool))
	r = runCLI(t, cleanEnv(creds()...), "export", "--dry-run", "--rate", "UserResourceRead=2000", "--strategy", "by-group", "--endpoint-url", denied, "--user-pool-id", pool.ID(), "--output", out)
	if r.code != 1 || !strings.Contains(lastLine(r.stderr), "cognito-idp:ListUsersInGroup") {
		t.Fatalf("exit %d, last line %q: want exit 1 naming the missing permission", r.code, lastLine(r.stderr))
	}
	// per-user does not use it: the same pool passes.
	r = runCLI(t, cleanEnv(creds()...), "export", "--dry-run", "--rate", "UserResourceRead=2000", "--strategy", "per-user", "--endpoint-url", denied, "--user-pool-id", pool.ID(), "--output", out)
	if r.code != 0 || strings.Contains(r.stdout, "ListUsersInGroup: allowed") {
		t.Fatalf("per-user dry run: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	// auto cannot use it either, and says it would export per-user, as a
	// run with such a policy does.
	r = runCLI(t, cleanEnv(creds()...), "export", "--dry-run", "--rate", "UserResourceRead=2000", "--endpoint-url", denied, "--user-pool-id", pool.ID(), "--output", out)
	if r.code != 0 || !strings.Contains(r.stdout, "cognito-idp:ListUsersInGroup: denied: auto would export per-user") || strings.Contains(r.stdout, "strategy by-group") {
		t.Fatalf("auto dry run with ListUsersInGroup denied: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	// An empty pool: the probe names stand in for a user and a group.
	empty := cognitoemu.NewPool(cognitoemu.PoolSpec{ID: "us-east-1_Empty", Users: 0, Groups: 0, Seed: 1})
	r = runCLI(t, cleanEnv(creds()...), "export", "--dry-run", "--rate", "UserResourceRead=2000", "--endpoint-url", startServer(t, cognitoemu.NewServer(cognitoemu.Options{}, empty)), "--user-pool-id", empty.ID(), "--output", out)
	if r.code != 0 || !strings.Contains(r.stdout, "AdminListGroupsForUser: allowed") {
		t.Fatalf("empty pool: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	// No credentials: said in one line.
	r = runCLI(t, cleanEnv("AWS_REGION=us-east-1"), "export", "--dry-run", "--rate", "UserResourceRead=2000", "--endpoint-url", url, "--user-pool-id", pool.ID(), "--output", out)
	if r.code != 1 || !strings.Contains(lastLine(r.stderr), "no AWS credentials found") {
		t.Fatalf("no credentials: exit %d, last line %q", r.code, lastLine(r.stderr))
	}
}

// TestDryRunAndSummaryOnS3: against versitygw, a dry run leaves the bucket
// as it was, a prefix the credentials cannot write fails it, and a real run
// writes summary.json beside the manifest with no credential in any object.
func TestDryRunAndSummaryOnS3(t *testing.T) {
	s3srv := s3server.Start(t)
	s3srv.Bucket(t, "exports")
	pool := cognitoemu.NewPool(cognitoemu.PoolSpec{Users: 1200, Groups: 25, Seed: 4})
	url := startServer(t, cognitoemu.NewServer(cognitoemu.Options{}, pool))
	ctx := context.Background()
	c := s3srv.Client()
	objects := func(prefix string) map[string]string {
		t.Helper()
		res, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("exports"), Prefix: aws.String(prefix)})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, o := range res.Contents {
			obj, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("exports"), Key: o.Key})
			if err != nil {
				t.Fatal(err)
			}
			data, _ := io.ReadAll(obj.Body)
			obj.Body.Close()
			got[strings.TrimPrefix(aws.ToString(o.Key), prefix)] = string(data)
		}
		return got
	}

	r := runCLI(t, cleanEnv(s3srv.Env()...), "export", "--dry-run", "--rate", "UserResourceRead=2000", "--endpoint-url", url, "--user-pool-id", pool.ID(), "--output", "s3://exports/dry/")
	if r.code != 0 || !strings.Contains(r.stdout, "output s3://exports/dry/: writable") {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if objs := objects(""); len(objs) != 0 {
		t.Fatalf("a dry run left objects: %v", objs)
	}
	ups, err := c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String("exports")})
	if err != nil || len(ups.Uploads) != 0 {
		t.Fatalf("uploads left open: %v %v", ups, err)
	}
	r = runCLI(t, cleanEnv(s3srv.LimitedUser(t)...), "export", "--dry-run", "--rate", "UserResourceRead=2000", "--endpoint-url", url, "--user-pool-id", pool.ID(), "--output", "s3://exports/dry/")
	if r.code != 2 || !strings.Contains(lastLine(r.stderr), "access denied") {
		t.Fatalf("no write permission: exit %d, last line %q", r.code, lastLine(r.stderr))
	}

	r = runCLI(t, cleanEnv(s3srv.Env()...), "export", "--endpoint-url", url, "--user-pool-id", pool.ID(), "--output", "s3://exports/run/", "--rate", "UserResourceRead=0")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	objs := objects("run/")
	if _, ok := objs["manifest.json"]; !ok {
		t.Fatalf("objects: %v", objs)
	}
	if !strings.Contains(objs["summary.json"], `"status": "complete"`) || !strings.Contains(objs["summary.json"], `"users": 1200`) {
		t.Fatalf("summary.json on S3: %s", objs["summary.json"])
	}
	for name, data := range objs {
		if strings.Contains(data, s3srv.SecretKey) {
			t.Fatalf("the S3 secret key is in %s", name)
		}
	}
	if strings.Contains(r.stderr+r.stdout, s3srv.SecretKey) {
		t.Fatal("the S3 secret key is in the output")
	}
}
