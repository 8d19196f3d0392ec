package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cognito-export/cognito-export/checkpoint"
	"github.com/cognito-export/cognito-export/export"
	"github.com/cognito-export/cognito-export/internal/cognitoemu"
	"github.com/cognito-export/cognito-export/internal/duckdb"
	"github.com/cognito-export/cognito-export/internal/exportcheck"
	fp "github.com/cognito-export/cognito-export/internal/faultproxy"
	"github.com/cognito-export/cognito-export/internal/s3server"
	"github.com/cognito-export/cognito-export/sink/s3dest"
)

// faultEnv is versitygw with one bucket, reached directly or through fault
// proxies.
type faultEnv struct {
	s3     *s3server.Server
	bucket string
}

func newFaultEnv(t *testing.T) *faultEnv {
	t.Helper()
	duckdb.Require(t)
	s := s3server.Start(t)
	return &faultEnv{s3: s, bucket: s.Bucket(t, "faults")}
}

// env points the binary's S3 client at endpoint.
func (e *faultEnv) env(endpoint string) []string {
	return cleanEnv(append(e.s3.Env(), "AWS_ENDPOINT_URL_S3="+endpoint)...)
}

// dir is where versitygw keeps the objects under prefix.
func (e *faultEnv) dir(prefix string) string { return filepath.Join(e.s3.Dir, e.bucket, prefix) }

func (e *faultEnv) url(prefix string) string { return "s3://" + e.bucket + "/" + prefix + "/" }

func (e *faultEnv) uploadsLeft(t *testing.T) int {
	t.Helper()
	ups, err := e.s3.Client().ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: &e.bucket})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range ups.Uploads {
		parts, _ := e.s3.Client().ListParts(context.Background(), &s3.ListPartsInput{Bucket: &e.bucket, Key: u.Key, UploadId: u.UploadId})
		n := -1
		if parts != nil {
			n = len(parts.Parts)
		}
		t.Logf("upload left open: %s %s, started %v, %d chunks", *u.Key, *u.UploadId, u.Initiated, n)
	}
	return len(ups.Uploads)
}

// emuPool is a pool served by an emulator of its own.
type emuPool struct {
	pool *cognitoemu.Pool
	srv  *cognitoemu.Server
	url  string
}

func servePool(t *testing.T, pool *cognitoemu.Pool, opts cognitoemu.Options) emuPool {
	srv := cognitoemu.NewServer(opts, pool)
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	return emuPool{pool, srv, hs.URL}
}

// exportArgs export p to prefix in the smallest chunks S3 allows, so that
// each part spans several; Parquet is not compressed, so that its parts
// are as large as CSV's.
func (e *faultEnv) exportArgs(p emuPool, prefix, format string, partSize int64) []string {
	args := []string{"export", "--endpoint-url", p.url, "--user-pool-id", p.pool.ID(), "--strategy", "by-group",
		"--output", e.url(prefix), "--format", format, "--part-size", strconv.FormatInt(partSize, 10),
		"--s3-chunk-size", strconv.Itoa(s3dest.MinPartSize), "--checkpoint-interval", "1h", "--page-size", "60",
		"--attributes", strings.Join(diffAttributes, ","), "--rate", "UserResourceRead=0", "--rate", "UserList=0",
		"--rate", "UserPoolResourceRead=0", "--rate", "UserPoolRead=0"}
	if format == "parquet" {
		args = append(args, "--compression", "none")
	}
	return args
}

// exportTable is the DuckDB table of the parts under prefix.
func (e *faultEnv) exportTable(prefix, format string) string {
	glob := duckdb.Quote(filepath.Join(e.dir(prefix), "part-*."+format))
	if format == "csv" {
		return fmt.Sprintf("read_csv(%s, header=true, all_varchar=true, types={'group_precedence':'INTEGER'})", glob)
	}
	return fmt.Sprintf("read_parquet(%s, hive_partitioning=false)", glob)
}

// checkExact proves the export under prefix complete and exact against
// the pool, made of parts that span several chunks, with no upload left
// open, and intact by verify.
func (e *faultEnv) checkExact(t *testing.T, p emuPool, prefix, format string) partsManifest {
	t.Helper()
	var m partsManifest
	data, err := os.ReadFile(filepath.Join(e.dir(prefix), export.ManifestName))
	if err != nil {
		t.Fatalf("no manifest: %v", err)
	}
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	var biggest int64
	for _, part := range m.Parts {
		biggest = max(biggest, part.Bytes)
	}
	if biggest <= 2*s3dest.MinPartSize {
		t.Fatalf("the largest part has %d bytes: the test needs parts of more than two chunks", biggest)
	}
	rows := exportcheck.Compare(t, e.exportTable(prefix, format), exportcheck.WriteTruth(t, p.pool, p.srv, true))
	if n := e.uploadsLeft(t); n != 0 {
		t.Fatalf("%d multipart uploads left open", n)
	}
	if r := runCLI(t, e.env(e.s3.Endpoint), "verify", e.url(prefix)); r.code != 0 {
		t.Fatalf("verify: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	t.Logf("%s: %d rows exact in %d parts, the largest %d bytes (%d chunks)", prefix, rows, len(m.Parts), biggest,
		(biggest+s3dest.MinPartSize-1)/s3dest.MinPartSize)
	return m
}

// partsManifest is the part of a manifest these tests read.
type partsManifest struct {
	Parts []struct {
		Name   string `json:"name"`
		Bytes  int64  `json:"bytes"`
		SHA256 string `json:"sha256"`
	} `json:"parts"`
}

// TestS3OutageOutlastsTheRetries: once the first part is committed, every
// S3 request fails. The run exits 1 with one line, its checkpoint intact;
// the next run, S3 back, resumes exact without writing the committed part
// again.
func TestS3OutageOutlastsTheRetries(t *testing.T) {
	if testing.Short() {
		t.Skip("exports tens of megabytes to versitygw")
	}
	e := newFaultEnv(t)
	p := servePool(t, cognitoemu.NewPool(cognitoemu.PoolSpec{Users: 40000, Groups: 70, Seed: 13}), cognitoemu.Options{})
	proxy := fp.Start(t, e.s3.Endpoint, fp.Config{OutageAfter: &fp.Trigger{Op: fp.PutObject, Suffix: export.CheckpointName, N: 1}})
	args := e.exportArgs(p, "out", "csv", 11<<20)
	r := runCLI(t, e.env(proxy.URL), args...)
	t.Logf("first run through the proxy:\n%s", proxy)
	if line := lastLine(r.stderr); r.code != 1 || !strings.Contains(line, "SlowDown") || !strings.Contains(line, "running again resumes") {
		t.Fatalf("exit %d, last line %q; want exit 1 saying what S3 answered and what to do\n%s", r.code, line, r.stderr)
	}
	t.Logf("the run stopped with: %s", lastLine(r.stderr))
	if proxy.Faults(fp.Outage) == 0 {
		t.Fatal("the outage never started")
	}
	if _, err := os.Stat(filepath.Join(e.dir("out"), export.ManifestName)); err == nil {
		t.Fatal("a manifest after a failed run")
	}
	data, err := os.ReadFile(filepath.Join(e.dir("out"), export.CheckpointName))
	if err != nil {
		t.Fatalf("no checkpoint: %v", err)
	}
	var st checkpoint.State
	if err := json.Unmarshal(data, &st); err != nil {
		t.Fatalf("the checkpoint does not decode: %v", err)
	}
	if len(st.Parts) != 1 || st.Parts[0].Bytes <= 2*s3dest.MinPartSize || st.Rows == 0 || st.Parts[0].Rows != st.Rows {
		t.Fatalf("the checkpoint does not name the committed part: %+v", st.Parts)
	}
	committed := filepath.Join(e.dir("out"), st.Parts[0].Name)
	info, err := os.Stat(committed)
	if err != nil || info.Size() != st.Parts[0].Bytes {
		t.Fatalf("the committed part: %v, %d bytes, the checkpoint says %d", err, info.Size(), st.Parts[0].Bytes)
	}

	proxy.Heal()
	before := p.srv.Calls("ListUsersInGroup")
	r = runCLI(t, e.env(proxy.URL), args...)
	if r.code != 0 {
		t.Fatalf("the run after the outage: exit %d\n%s", r.code, r.stderr)
	}
	m := e.checkExact(t, p, "out", "csv")
	var sum export.Summary
	data, _ = os.ReadFile(filepath.Join(e.dir("out"), export.SummaryName))
	if err := json.Unmarshal(data, &sum); err != nil {
		t.Fatalf("summary.json: %v", err)
	}
	resumed, full := p.srv.Calls("ListUsersInGroup")-before, memberPages(p.pool, 60)
	if !sum.Resumed || resumed >= full {
		t.Fatalf("the second run started over: resumed %v, %d ListUsersInGroup calls; a full run makes %d", sum.Resumed, resumed, full)
	}
	if m.Parts[0].Name != st.Parts[0].Name || m.Parts[0].SHA256 != st.Parts[0].SHA256 {
		t.Fatalf("the committed part changed: manifest %+v, checkpoint %+v", m.Parts[0], st.Parts[0])
	}
	if again, err := os.Stat(committed); err != nil || !again.ModTime().Equal(info.ModTime()) {
		t.Fatalf("the committed part was written again (%v → %v, %v)", info.ModTime(), again.ModTime(), err)
	}
	t.Logf("stopped with %d rows in %d part; the resume made %d of a full run's %d ListUsersInGroup calls and ended with %d parts",
		st.Rows, len(st.Parts), resumed, full, len(m.Parts))
}
