package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cognito-export/cognito-export/internal/cognitoemu"
	"github.com/cognito-export/cognito-export/internal/s3server"
)

func TestS3OutputFailuresAreClearAndLeaveNothing(t *testing.T) {
	s3srv := s3server.Start(t)
	s3srv.Bucket(t, "exports")
	pool, url := startEmu(t, 2000, cognitoemu.Options{})
	limited := s3srv.LimitedUser(t)
	wrongSecret := append(s3srv.Env(), "AWS_SECRET_ACCESS_KEY=not-the-secret")
	tests := []struct {
		name string
		env  []string
		out  string
		msg  string
	}{
		{"missing bucket", s3srv.Env(), "s3://no-such-bucket/x/", `bucket "no-such-bucket" does not exist`},
		{"wrong credentials", wrongSecret, "s3://exports/x/", "S3 rejected the credentials"},
		{"no write permission", limited, "s3://exports/x/", "access denied"},
		{"bad url", s3srv.Env(), "s3:///x/", "want s3://bucket/prefix/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, cleanEnv(tt.env...), "export", "--endpoint-url", url, "--user-pool-id", pool.ID(), "--output", tt.out)
			if r.code != 2 || !strings.Contains(lastLine(r.stderr), tt.msg) {
				t.Fatalf("exit %d, last line %q; want exit 2 mentioning %q", r.code, lastLine(r.stderr), tt.msg)
			}
			if strings.Contains(r.stderr, "not-the-secret") {
				t.Fatal("the secret appeared in the output")
			}
		})
	}
	// Nothing was written and no upload was left open.
	c := s3srv.Client()
	objs, err := c.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String("exports")})
	if err != nil || len(objs.Contents) != 0 {
		t.Fatalf("bucket holds %d objects after failed runs (err %v)", len(objs.Contents), err)
	}
	ups, err := c.ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: aws.String("exports")})
	if err != nil || len(ups.Uploads) != 0 {
		t.Fatalf("%d uploads left open (err %v)", len(ups.Uploads), err)
	}
}

func TestS3ExportWithPlaceholdersAndSSE(t *testing.T) {
	s3srv := s3server.Start(t)
	s3srv.Bucket(t, "exports")
	pool, url := startEmu(t, 1500, cognitoemu.Options{})
	r := runCLI(t, cleanEnv(s3srv.Env()...), "export", "--endpoint-url", url, "--user-pool-id", pool.ID(),
		"--output", "s3://exports/cognito/pool={pool}/dt={date}/run={run_id}/", "--run-id", "r1", "--sse", "AES256",
		"--rate", "UserResourceRead=0", "--rate", "UserList=0")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	matches, _ := filepath.Glob(filepath.Join(s3srv.Dir, "exports", "cognito", "pool="+pool.ID(), "dt=*", "run=r1", "*"))
	var names []string
	for _, m := range matches {
		names = append(names, filepath.Base(m))
	}
	if strings.Join(names, ",") != "manifest.json,part-00000.parquet,summary.json" {
		t.Fatalf("objects under the expanded prefix: %v", names)
	}
	if _, err := os.Stat(matches[0]); err != nil {
		t.Fatal(err)
	}
}

// TestFullDiskFailsClearly fills a 1 MiB tmpfs: the run must fail with the
// disk's own error, leave no manifest and keep a checkpoint it can resume.
func TestFullDiskFailsClearly(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "small")
	os.Mkdir(dir, 0o755)
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", dir).CombinedOutput(); err != nil {
		if os.Getenv("COGNITO_EXPORT_REQUIRE_PEERS") == "1" && os.Geteuid() == 0 {
			t.Fatalf("mount a small tmpfs: %v %s", err, out)
		}
		t.Skipf("cannot mount a tmpfs here (needs root): %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", dir).Run() })
	pool, url := startEmu(t, 20000, cognitoemu.Options{})
	r := runCLI(t, cleanEnv(creds()...), "export", "--endpoint-url", url, "--user-pool-id", pool.ID(),
		"--output", dir, "--format", "csv", "--rate", "UserResourceRead=0", "--rate", "UserList=0")
	if r.code != 1 || !strings.Contains(lastLine(r.stderr), "no space left on device") {
		t.Fatalf("exit %d, last line %q; want exit 1 naming the full disk", r.code, lastLine(r.stderr))
	}
	if _, err := os.Stat(filepath.Join(dir, "manifest.json")); !os.IsNotExist(err) {
		t.Fatalf("manifest on a full disk: %v", err)
	}
}

// Defect 4 of issue 13: every failure to open the output was exit 2 ("fix
// your input"), so a scheduler never retried an S3 endpoint that was down
// for a minute. Exit 2 is for what the user must change; a refused
// connection or a 503 after the SDK's retries may pass: exit 1. Nothing is
// written and no Cognito call is made either way.
func TestOutputFailuresThatMayPassOnARetryExitOne(t *testing.T) {
	pool, url := startEmu(t, 100, cognitoemu.Options{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + ln.Addr().String()
	ln.Close() // nothing listens there now
	unavailable := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>ServiceUnavailable</Code><Message>Please reduce your request rate.</Message></Error>`)
	}))
	defer unavailable.Close()
	for _, tt := range []struct {
		name, endpoint, msg string
	}{
		{"connection refused", refused, "connection refused"},
		{"503 after the retries", unavailable.URL, "ServiceUnavailable"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			env := cleanEnv(append(creds(), "AWS_ENDPOINT_URL_S3="+tt.endpoint, "AWS_MAX_ATTEMPTS=2")...)
			r := runCLI(t, env, "export", "--endpoint-url", url, "--user-pool-id", pool.ID(), "--output", "s3://exports/x/")
			if r.code != 1 || !strings.Contains(lastLine(r.stderr), tt.msg) {
				t.Fatalf("exit %d, last line %q; want exit 1 mentioning %q", r.code, lastLine(r.stderr), tt.msg)
			}
			t.Logf("%s", lastLine(r.stderr))
		})
	}
}
