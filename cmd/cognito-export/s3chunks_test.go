package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cognito-export/cognito-export/checkpoint"
	"github.com/cognito-export/cognito-export/export"
	"github.com/cognito-export/cognito-export/internal/cognitoemu"
	"github.com/cognito-export/cognito-export/internal/duckdb"
	"github.com/cognito-export/cognito-export/internal/exportcheck"
	"github.com/cognito-export/cognito-export/internal/s3server"
	"github.com/cognito-export/cognito-export/sink/s3dest"
)

// chunkEnv is a CSV export to versitygw in the smallest chunks S3 allows,
// so that a pool of a few tens of thousands of users makes parts that span
// several chunks: the shape of issue 13's defect 1, where every part past
// one chunk failed its final commit.
type chunkEnv struct {
	pool   *cognitoemu.Pool
	srv    *cognitoemu.Server
	s3     *s3server.Server
	dir    string // the prefix in versitygw's posix backend
	args   []string
	env    []string
	bucket string
}

const chunkPrefix = "cognito/"

// newChunkEnv paces UserList in the emulator and the job alike when rps > 0,
// so that a run lasts long enough to be stopped in the middle of a part.
func newChunkEnv(t *testing.T, users int, strategy string, rps float64) *chunkEnv {
	t.Helper()
	duckdb.Require(t)
	s3srv := s3server.Start(t)
	c := &chunkEnv{s3: s3srv, bucket: s3srv.Bucket(t, "chunks"), env: cleanEnv(s3srv.Env()...)}
	c.dir = filepath.Join(s3srv.Dir, c.bucket, chunkPrefix)
	c.pool = cognitoemu.NewPool(cognitoemu.PoolSpec{Users: users, Groups: 70, Seed: 13})
	opts := cognitoemu.Options{}
	rate := "UserList=0"
	if rps > 0 {
		opts = cognitoemu.Options{CategoryQuotas: map[string]float64{"UserList": rps}, QuotaBurst: 10}
		rate = fmt.Sprintf("UserList=%g", rps)
	}
	c.srv = cognitoemu.NewServer(opts, c.pool)
	hs := httptest.NewServer(c.srv)
	t.Cleanup(hs.Close)
	c.args = []string{"export", "--endpoint-url", hs.URL, "--user-pool-id", c.pool.ID(), "--strategy", strategy,
		"--output", "s3://" + c.bucket + "/" + chunkPrefix, "--format", "csv", "--part-size", "1000000000",
		"--s3-chunk-size", strconv.Itoa(s3dest.MinPartSize), "--checkpoint-interval", "1h", "--page-size", "60",
		"--rate", "UserResourceRead=0", "--rate", rate}
	return c
}

func (c *chunkEnv) command() *exec.Cmd {
	cmd := exec.Command(binary, c.args...)
	cmd.Env = c.env
	return cmd
}

// run runs the export to its end.
func (c *chunkEnv) run(t *testing.T) {
	t.Helper()
	var stderr bytes.Buffer
	cmd := c.command()
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("export: %v\n%s", err, stderr.String())
	}
}

// check proves the finished export exact with DuckDB, and that it is made
// of parts that span several chunks.
func (c *chunkEnv) check(t *testing.T) {
	t.Helper()
	m, biggest := spanningParts(t, c.dir)
	table := fmt.Sprintf("read_csv(%s, header=true, all_varchar=true, types={'group_precedence':'INTEGER'})", duckdb.Quote(c.dir+"/part-*.csv"))
	rows := exportcheck.Compare(t, table, exportcheck.WriteTruth(t, c.pool, c.srv, true))
	t.Logf("%d rows exact in %d parts, the largest %d bytes (%d chunks)", rows, len(m.Parts), biggest, (biggest+s3dest.MinPartSize-1)/s3dest.MinPartSize)
}

// partsManifest is the part of a manifest these tests read.
type partsManifest struct {
	Parts []struct {
		Name   string `json:"name"`
		Bytes  int64  `json:"bytes"`
		SHA256 string `json:"sha256"`
	} `json:"parts"`
}

// spanningParts reads the manifest in dir (versitygw's backend directory
// of a prefix) and fails the test unless its largest part spans more than
// two chunks.
func spanningParts(t *testing.T, dir string) (m partsManifest, biggest int64) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, export.ManifestName))
	if err != nil {
		t.Fatalf("no manifest: %v", err)
	}
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	for _, p := range m.Parts {
		biggest = max(biggest, p.Bytes)
	}
	if biggest <= 2*s3dest.MinPartSize {
		t.Fatalf("the largest part has %d bytes: the test needs parts of more than two chunks", biggest)
	}
	return m, biggest
}

// openUpload waits until the export has a multipart upload in progress
// with at least chunks chunks uploaded, and returns its key.
func (c *chunkEnv) openUpload(t *testing.T, chunks int) string {
	t.Helper()
	client := c.s3.Client()
	ctx := context.Background()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		ups, err := client.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: &c.bucket})
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range ups.Uploads {
			parts, err := client.ListParts(ctx, &s3.ListPartsInput{Bucket: &c.bucket, Key: u.Key, UploadId: u.UploadId})
			if err == nil && len(parts.Parts) >= chunks {
				return aws.ToString(u.Key)
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no upload reached %d chunks in time", chunks)
	return ""
}

func (c *chunkEnv) uploadsLeft(t *testing.T) int {
	t.Helper()
	ups, err := c.s3.Client().ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: &c.bucket})
	if err != nil {
		t.Fatal(err)
	}
	return len(ups.Uploads)
}

// TestS3ExportOfPartsSpanningChunks pins issue 13's defect 1 end to end: a
// plain CSV export to S3 whose parts pass one chunk. Before the fix it
// exited 1 with "final checkpoint: upload chunk N of part-00000.csv ...:
// UploadPart, context canceled".
func TestS3ExportOfPartsSpanningChunks(t *testing.T) {
	c := newChunkEnv(t, 40000, "by-group", 0)
	c.run(t)
	c.check(t)
	if n := c.uploadsLeft(t); n != 0 {
		t.Fatalf("%d multipart uploads left open", n)
	}
}

// loadCheckpoint reads the checkpoint the export left under its prefix.
func (c *chunkEnv) loadCheckpoint(t *testing.T) *checkpoint.State {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(c.dir, export.CheckpointName))
	if err != nil {
		t.Fatalf("no checkpoint: %v", err)
	}
	var st checkpoint.State
	if err := json.Unmarshal(data, &st); err != nil {
		t.Fatal(err)
	}
	return &st
}

// TestS3SIGTERMInTheMiddleOfAMultiChunkPart: the part being written when the
// signal arrives spans several chunks; the final checkpoint commits it, and
// the resume continues from there instead of starting over. Before the
// fix the final commit failed (UploadPart, context canceled) and no
// checkpoint named any row.
func TestS3SIGTERMInTheMiddleOfAMultiChunkPart(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary against versitygw")
	}
	// About 1,000 member pages and 700 ListUsers pages at 200 a second:
	// the run lasts about 8 seconds, two chunks are in after about 4.
	c := newChunkEnv(t, 40000, "by-group", 200)
	// Without the lease: a killed run's lease would hold the next run off
	// for its TTL (TestSIGKILLedHolderIsTakenOverAfterItsTTL proves that).
	c.args = append(c.args, "--lease=off")
	cmd := c.command()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	key := c.openUpload(t, 2)
	cmd.Process.Signal(syscall.SIGTERM)
	err := cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 143 {
		t.Fatalf("exit %v, want 143\n%s", err, stderr.String())
	}
	st := c.loadCheckpoint(t)
	if len(st.Parts) != 1 || st.Parts[0].Name != filepath.Base(key) || st.Parts[0].Bytes <= 2*s3dest.MinPartSize ||
		st.Rows == 0 || st.Parts[0].Rows != st.Rows {
		t.Fatalf("the final checkpoint does not name the part that was being written (%s): %+v\n%s", key, st.Parts, stderr.String())
	}
	if _, err := os.Stat(filepath.Join(c.dir, filepath.Base(key))); err != nil {
		t.Fatalf("the part the checkpoint names is not there: %v", err)
	}
	if n := c.uploadsLeft(t); n != 0 {
		t.Fatalf("%d multipart uploads left open after the stop", n)
	}
	before := c.srv.Calls("ListUsersInGroup")
	c.run(t)
	var sum export.Summary
	data, _ := os.ReadFile(filepath.Join(c.dir, export.SummaryName))
	if err := json.Unmarshal(data, &sum); err != nil {
		t.Fatalf("summary.json: %v", err)
	}
	resumed, full := c.srv.Calls("ListUsersInGroup")-before, memberPages(c.pool, 60)
	if !sum.Resumed || resumed >= full || sum.Calls["ListUsersInGroup"] != resumed {
		t.Fatalf("the second run started over: resumed %v, %d ListUsersInGroup calls (summary %d); a full run makes %d",
			sum.Resumed, resumed, sum.Calls["ListUsersInGroup"], full)
	}
	t.Logf("stopped with %d rows committed; the resume made %d of a full run's %d ListUsersInGroup calls", st.Rows, resumed, full)
	c.check(t)
}

// TestS3SIGKILLInTheMiddleOfAMultiChunkPart: a killed run leaves a multipart
// upload open; the next run aborts it and finishes exactly.
func TestS3SIGKILLInTheMiddleOfAMultiChunkPart(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary against versitygw")
	}
	c := newChunkEnv(t, 40000, "by-group", 200)
	// Without the lease: a killed run's lease would hold the next run off
	// for its TTL (TestSIGKILLedHolderIsTakenOverAfterItsTTL proves that).
	c.args = append(c.args, "--lease=off")
	cmd := c.command()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c.openUpload(t, 2)
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	if n := c.uploadsLeft(t); n == 0 {
		t.Fatal("the killed run left no upload open: the test proves nothing")
	}
	c.run(t)
	if n := c.uploadsLeft(t); n != 0 {
		t.Fatalf("%d multipart uploads left open after the finished run", n)
	}
	c.check(t)
}

// memberPages is the number of ListUsersInGroup calls a full by-group run
// makes with pages of pageSize.
func memberPages(pool *cognitoemu.Pool, pageSize int) int64 {
	members := make([]int, len(pool.Groups()))
	var idx []int
	for i := range pool.NumUsers() {
		idx = pool.UserGroups(i, idx[:0])
		for _, g := range idx {
			members[g]++
		}
	}
	var pages int64
	for _, m := range members {
		pages += int64(max(1, (m+pageSize-1)/pageSize))
	}
	return pages
}
