package main

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/cognito-export/cognito-export/internal/cognitoemu"
	"github.com/cognito-export/cognito-export/internal/duckdb"
	"github.com/cognito-export/cognito-export/internal/s3server"
	"github.com/cognito-export/cognito-export/internal/sshkeygen"
)

// lockArgs are an export's flags for a small pool at full speed.
var lockArgs = []string{"--rate", "UserList=0", "--rate", "UserResourceRead=0", "--rate", "UserPoolResourceRead=0", "--rate", "UserPoolRead=0"}

// TestObjectLockedExportCannotBeDeleted is issue 21's item 3 on versitygw:
// two days' signed exports under compliance retention, the second with its
// diff and report. Every version of every file of both (parts, manifests,
// their signatures, summaries, the diff, the report) is under retention until two days from
// its writing, and deleting it is refused, even with the governance
// bypass; the run's working files (checkpoint, hash files, the output's
// probe) are under none and go. verify --require-retention says so, and
// lists each file of an export written without retention.
func TestObjectLockedExportCannotBeDeleted(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the S3 server")
	}
	sshkeygen.Require(t)
	ctx := context.Background()
	s3srv := s3server.StartVersioned(t)
	bucket := s3srv.LockedBucket(t, "evidence")
	// Signed evidence: the signature is held like the manifest it signs.
	keys := t.TempDir()
	key := sshkeygen.Generate(t, keys, "auditkey")
	allowed := sshkeygen.AllowedSigners(t, keys, "audit@example.com", key)
	spec := cognitoemu.PoolSpec{ID: "eu-west-1_Locked", Users: 400, Groups: 12, Seed: 5}
	s := newSnapshots(t, spec, cognitoemu.RandomMutations(cognitoemu.NewPool(spec), 29, 0.05))
	prefix := "s3://" + bucket + "/cognito/pool=" + spec.ID + "/"
	env := cleanEnv(s3srv.Env()...)
	dry := runCLI(t, env, append([]string{"export", "--dry-run", "--endpoint-url", s.beforeURL, "--user-pool-id", spec.ID, "--output", prefix + "dt=0/",
		"--object-lock-mode", "compliance", "--object-lock-retain-days", "2"}, lockArgs...)...)
	if dry.code != 0 || !strings.Contains(dry.stdout, "bucket has Object Lock: every file of the export would be retained (compliance 2d)") {
		t.Fatalf("dry run: exit %d\n%s%s", dry.code, dry.stdout, dry.stderr)
	}
	started := time.Now().UTC()
	for _, day := range []struct{ url, dt string }{{s.beforeURL, "dt=1"}, {s.afterURL, "dt=2"}} {
		args := append([]string{"export", "--endpoint-url", day.url, "--user-pool-id", spec.ID, "--output", prefix + day.dt + "/",
			"--format", "csv", "--part-rows", "300", "--checkpoint-interval", "1ms",
			"--object-lock-mode", "compliance", "--object-lock-retain-days", "2", "--diff-against", "latest", "--report",
			"--signing-key", key.Private}, lockArgs...)
		if r := runCLI(t, env, args...); r.code != 0 {
			t.Fatalf("export %s: exit %d: %s", day.dt, r.code, r.stderr)
		}
	}
	for _, where := range []string{prefix + "dt=2/", prefix + "dt=2/diff/"} {
		r := runCLI(t, env, "verify", "--require-retention", "--allowed-signers", allowed, "--signer-identity", "audit@example.com", where)
		if r.code != 0 || !strings.Contains(r.stdout, "verify: retained:") || !strings.Contains(r.stdout, "COMPLIANCE") ||
			!strings.Contains(r.stdout, "verify: signed by key ") {
			t.Fatalf("verify --require-retention %s: exit %d\n%s%s", where, r.code, r.stdout, r.stderr)
		}
	}

	c := s3srv.Client()
	vs, err := c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: &bucket})
	if err != nil {
		t.Fatal(err)
	}
	evidence := map[string]int{}
	for _, v := range vs.Versions {
		key, id := aws.ToString(v.Key), aws.ToString(v.VersionId)
		name := filepath.Base(key)
		ret, err := c.GetObjectRetention(ctx, &s3.GetObjectRetentionInput{Bucket: &bucket, Key: &key, VersionId: &id})
		if strings.HasPrefix(name, "_") || strings.HasPrefix(name, ".probe-") {
			// A working file: no retention, and it can be deleted.
			if err == nil && ret.Retention != nil && ret.Retention.Mode != "" {
				t.Errorf("working file %s (version %s) is under retention %+v", key, id, *ret.Retention)
			}
			if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &bucket, Key: &key, VersionId: &id}); err != nil {
				t.Errorf("delete working file %s (version %s): %v", key, id, err)
			}
			continue
		}
		evidence[name]++
		low := started.Add(48 * time.Hour).Truncate(time.Second)
		if err != nil || ret.Retention == nil || ret.Retention.Mode != "COMPLIANCE" || aws.ToTime(ret.Retention.RetainUntilDate).Before(low) {
			t.Errorf("%s (version %s): retention %+v (%v), want COMPLIANCE until after %v", key, id, ret, err, low)
		}
		_, err = c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &bucket, Key: &key, VersionId: &id, BypassGovernanceRetention: aws.Bool(true)})
		var api smithy.APIError
		if !errors.As(err, &api) || api.ErrorCode() != "AccessDenied" {
			t.Errorf("delete %s (version %s) under retention: %v, want AccessDenied", key, id, err)
		}
	}
	// Every kind of file was there to be held: both exports' parts and
	// manifests, the diff's, the summaries, the report.
	for _, name := range []string{"part-00000.csv", "part-00001.csv", "manifest.json", "manifest.json.sig", "summary.json", "diff-summary.json", "report.html", "report.json"} {
		if evidence[name] == 0 {
			t.Errorf("no version of %s was written: %v", name, evidence)
		}
	}
	if t.Failed() {
		return
	}
	// The exports are still whole after every delete was tried.
	if r := runCLI(t, env, "verify", "--require-retention", prefix+"dt=1/"); r.code != 0 {
		t.Fatalf("verify dt=1 after the deletes: exit %d\n%s", r.code, r.stdout)
	}
}

// TestObjectLockRefusedBeforeAnyCognitoCall: retention that cannot be had
// (a bucket without Object Lock, a directory, half the flags) is exit 2
// with one line, before any Cognito call and with nothing written; verify
// --require-retention lists each file of an export made without it and
// exits 1.
func TestObjectLockRefusedBeforeAnyCognitoCall(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the S3 server")
	}
	s3srv := s3server.StartVersioned(t)
	s3srv.Bucket(t, "plain")
	pool := cognitoemu.NewPool(cognitoemu.PoolSpec{Users: 150, Groups: 5, Seed: 3})
	srv := cognitoemu.NewServer(cognitoemu.Options{}, pool)
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	env := cleanEnv(s3srv.Env()...)
	export := func(args ...string) result {
		return runCLI(t, env, append([]string{"export", "--endpoint-url", hs.URL, "--user-pool-id", pool.ID()}, append(args, lockArgs...)...)...)
	}
	for _, tt := range []struct {
		name string
		args []string
		msg  string
	}{
		{"bucket without Object Lock", []string{"--output", "s3://plain/x/", "--object-lock-mode", "governance", "--object-lock-retain-days", "7"}, `bucket "plain" does not have Object Lock enabled`},
		{"dry run, bucket without Object Lock", []string{"--dry-run", "--output", "s3://plain/x/", "--object-lock-mode", "governance", "--object-lock-retain-days", "7"}, `bucket "plain" does not have Object Lock enabled`},
		{"a directory", []string{"--output", t.TempDir(), "--object-lock-mode", "compliance", "--object-lock-retain-days", "7"}, "is a directory, which has no Object Lock"},
		{"mode alone", []string{"--output", "s3://plain/x/", "--object-lock-mode", "compliance"}, "give both, or neither"},
		{"days alone", []string{"--output", "s3://plain/x/", "--object-lock-retain-days", "7"}, "give both, or neither"},
		{"unknown mode", []string{"--output", "s3://plain/x/", "--object-lock-mode", "forever", "--object-lock-retain-days", "7"}, "use governance or compliance"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := export(tt.args...)
			if r.code != 2 || !strings.Contains(lastLine(r.stderr), tt.msg) {
				t.Fatalf("exit %d, stderr %q; want exit 2 and a last line mentioning %q", r.code, r.stderr, tt.msg)
			}
		})
	}
	// Pools found by ListUserPools: the bucket is checked before the
	// search, from the output's template.
	r := runCLI(t, env, append([]string{"export", "--endpoint-url", hs.URL, "--all-pools", "--output", "s3://plain/pool={pool}/",
		"--object-lock-mode", "compliance", "--object-lock-retain-days", "7"}, lockArgs...)...)
	if r.code != 2 || !strings.Contains(lastLine(r.stderr), `bucket "plain" does not have Object Lock enabled`) {
		t.Fatalf("--all-pools into a bucket without Object Lock: exit %d, %q", r.code, r.stderr)
	}
	for _, op := range []string{"ListUserPools", "DescribeUserPool", "ListUsers", "ListGroups", "AdminListGroupsForUser", "ListUsersInGroup"} {
		if n := srv.Calls(op); n != 0 {
			t.Errorf("%d %s calls before the refusal", n, op)
		}
	}
	objs, err := s3srv.Client().ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String("plain")})
	if err != nil || len(objs.Contents) != 0 {
		t.Fatalf("the refused runs left %d objects (%v)", len(objs.Contents), err)
	}

	// An export without retention: verify lists each of its files.
	if r := export("--output", "s3://plain/y/", "--format", "csv"); r.code != 0 {
		t.Fatalf("export without retention: exit %d: %s", r.code, r.stderr)
	}
	r = runCLI(t, env, "verify", "--require-retention", "s3://plain/y/")
	for _, want := range []string{"verify: intact", "manifest.json: unretained", "part-00000.csv: unretained", "summary.json: unretained", "verify: NOT retained: 4 of 4 files"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("verify --require-retention lacks %q:\n%s", want, r.stdout)
		}
	}
	if r.code != 1 {
		t.Errorf("verify --require-retention of an unretained export: exit %d, want 1", r.code)
	}
	local := t.TempDir()
	if r := runCLI(t, env, "verify", "--require-retention", local); r.code != 2 || !strings.Contains(r.stderr, "a directory has none") {
		t.Errorf("verify --require-retention of a directory: exit %d, %q", r.code, r.stderr)
	}
}

// TestObjectLockedExportKilledAndResumedIsExact: a run under retention
// killed at random moments resumes exact. The parts a killed run wrote and
// no checkpoint named cannot be deleted, only hidden behind a delete
// marker, which the reader never lists; the working files are deleted as
// usual, and every file of the finished export is retained.
func TestObjectLockedExportKilledAndResumedIsExact(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary several times")
	}
	duckdb.Require(t)
	c := newCrashEnv(t, "s3-locked", "per-user")
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 11))
	for i := range 5 {
		cmd := c.command()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(c.plan.killMin + time.Duration(rng.IntN(c.plan.killSpread))*time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		if err := cmd.Wait(); err == nil {
			t.Fatalf("kill %d: the run finished before it was killed", i)
		}
	}
	c.finish(t)
	r := runCLI(t, c.env, "verify", "--require-retention", c.out)
	if r.code != 0 || !strings.Contains(r.stdout, "GOVERNANCE") {
		t.Fatalf("verify --require-retention after the resumes: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	t.Log(lastLine(r.stdout))
}
