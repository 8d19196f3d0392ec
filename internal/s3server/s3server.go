// Package s3server starts a real S3-compatible server (versitygw) for tests,
// so that S3 output is proven against signatures, ETags, checksums and part
// sizes checked the way S3 checks them, not against a mock.
package s3server

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cognito-export/cognito-export/internal/peer"
)

// Version is the versitygw release scripts/install-test-deps.sh installs.
const Version = "v1.8.0"

// Binary is where the install script caches the versitygw binary.
func Binary() string {
	if p := os.Getenv("VERSITYGW"); p != "" {
		return p
	}
	cache := os.Getenv("XDG_CACHE_HOME")
	if cache == "" {
		home, _ := os.UserHomeDir()
		cache = filepath.Join(home, ".cache")
	}
	return filepath.Join(cache, "cognito-export", "bin", "versitygw-"+Version)
}

// Server is one running versitygw with a root user.
type Server struct {
	Endpoint  string
	AccessKey string
	SecretKey string
	Region    string
	Dir       string
}

// Start runs versitygw on a free loopback port with a fresh posix backend
// and stops it when the test ends. Without the binary, the test skips under
// -short and otherwise fails when COGNITO_EXPORT_REQUIRE_PEERS=1 (as in
// `make test`), so a missing peer is never silently skipped in CI.
func Start(t testing.TB) *Server {
	t.Helper()
	return start(t, false)
}

// StartVersioned is Start with bucket versioning, which Object Lock needs:
// a bucket made by LockedBucket keeps every version of its objects and
// refuses to delete a version under retention.
func StartVersioned(t testing.TB) *Server {
	t.Helper()
	return start(t, true)
}

func start(t testing.TB, versioned bool) *Server {
	t.Helper()
	peer.Start(t, "versitygw")
	bin := Binary()
	if _, err := os.Stat(bin); err != nil {
		peer.Missing(t, fmt.Errorf("versitygw not installed at %s: run scripts/install-test-deps.sh", bin))
		return nil
	}
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	s := &Server{Endpoint: "http://" + addr, AccessKey: "TESTROOTACCESSKEY", SecretKey: "test-root-secret-key", Region: "us-east-1", Dir: dir}
	// The internal IAM lets tests add users with less than root's rights.
	iamDir := t.TempDir()
	args := []string{"--port", addr, "--iam-dir", iamDir, "--quiet", "posix"}
	if versioned {
		// Outside the root directory, which versitygw refuses otherwise.
		args = append(args, "--versioning-dir", t.TempDir())
	}
	cmd := exec.Command(bin, append(args, dir)...)
	cmd.Env = append(os.Environ(), "ROOT_ACCESS_KEY="+s.AccessKey, "ROOT_SECRET_KEY="+s.SecretKey)
	logFile, _ := os.Create(filepath.Join(t.TempDir(), "versitygw.log"))
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatalf("start versitygw: %v", err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		logFile.Close()
	})
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(logFile.Name())
			t.Fatalf("versitygw did not start on %s: %s", addr, log)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return s
}

// LimitedUser creates an account with the plain "user" role, which may not
// write to buckets it does not own (every bucket Bucket creates), and
// returns the environment that uses it.
func (s *Server) LimitedUser(t testing.TB) []string {
	t.Helper()
	access, secret := "LIMITEDUSERKEY", "limited-user-secret"
	cmd := exec.Command(Binary(), "admin", "--access", s.AccessKey, "--secret", s.SecretKey, "--endpoint-url", s.Endpoint,
		"create-user", "--access", access, "--secret", secret, "--role", "user")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("create a limited versitygw user: %v\n%s", err, out)
	}
	return []string{"AWS_ACCESS_KEY_ID=" + access, "AWS_SECRET_ACCESS_KEY=" + secret,
		"AWS_REGION=" + s.Region, "AWS_ENDPOINT_URL_S3=" + s.Endpoint}
}

// Credentials are the root user's.
func (s *Server) Credentials() aws.CredentialsProvider {
	return credentials.NewStaticCredentialsProvider(s.AccessKey, s.SecretKey, "")
}

// Client is an S3 client for checking what the code under test wrote.
func (s *Server) Client() *s3.Client {
	return s3.New(s3.Options{
		Region: s.Region, Credentials: s.Credentials(), BaseEndpoint: aws.String(s.Endpoint), UsePathStyle: true,
	})
}

// Bucket creates a bucket and returns its name.
func (s *Server) Bucket(t testing.TB, name string) string {
	t.Helper()
	_, err := s.Client().CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(name)})
	if err != nil {
		t.Fatalf("create bucket %s: %v", name, err)
	}
	return name
}

// LockedBucket creates a bucket with Object Lock enabled (and so
// versioning), on a server from StartVersioned, and returns its name.
func (s *Server) LockedBucket(t testing.TB, name string) string {
	t.Helper()
	_, err := s.Client().CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(name), ObjectLockEnabledForBucket: aws.Bool(true)})
	if err != nil {
		t.Fatalf("create bucket %s with Object Lock: %v", name, err)
	}
	return name
}

// Env is the environment that points AWS tools at this server.
func (s *Server) Env() []string {
	return []string{"AWS_ACCESS_KEY_ID=" + s.AccessKey, "AWS_SECRET_ACCESS_KEY=" + s.SecretKey,
		"AWS_REGION=" + s.Region, "AWS_ENDPOINT_URL_S3=" + s.Endpoint}
}
