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
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cognito-export/cognito-export/checkpoint"
	"github.com/cognito-export/cognito-export/export"
	"github.com/cognito-export/cognito-export/internal/cognitoemu"
	"github.com/cognito-export/cognito-export/internal/duckdb"
	"github.com/cognito-export/cognito-export/internal/exportcheck"
	fp "github.com/cognito-export/cognito-export/internal/faultproxy"
	"github.com/cognito-export/cognito-export/internal/s3server"
	"github.com/cognito-export/cognito-export/lease"
	"github.com/cognito-export/cognito-export/sink/s3dest"
)

// faultShares is about 5% of requests failed, of every kind the proxy
// draws; the latency stays far below the SDK's timeouts.
var faultShares = fp.Shares{
	fp.InternalError: 0.01, fp.SlowDown: 0.01, fp.ResetRequest: 0.01, fp.LoseResponse: 0.01,
	fp.ResetResponse: 0.005, fp.Delay: 0.005,
}

const faultLatency = time.Second

// writeFaults are placed on the writes of every export, beside the drawn
// ones: an export makes a few dozen S3 requests, too few for 5% to be
// sure to hit each way a write can break.
var writeFaults = []fp.Planned{
	{Op: fp.ListObjectsV2, N: 1, Kind: fp.SlowDown},
	{Op: fp.ListObjectsV2, N: 2, Kind: fp.ResetResponse},
	{Op: fp.CreateMultipartUpload, N: 1, Kind: fp.LoseResponse},
	{Op: fp.UploadPart, N: 2, Kind: fp.ResetRequest},
	{Op: fp.UploadPart, N: 3, Kind: fp.InternalError},
	{Op: fp.UploadPart, N: 5, Kind: fp.LoseResponse},
	{Op: fp.CompleteMultipartUpload, N: 1, Kind: fp.LoseResponse},
	{Op: fp.CompleteMultipartUpload, N: 2, Kind: fp.NoSuchUpload},
	{Op: fp.PutObject, Suffix: export.CheckpointName, N: 1, Kind: fp.SlowDown},
	{Op: fp.PutObject, Suffix: export.ManifestName, N: 1, Kind: fp.ResetRequest},
	{Op: fp.PutObject, Suffix: export.SummaryName, N: 1, Kind: fp.Delay},
}

// readFaults are placed on the reads of verify, diff and report: the first
// read of each part is cut in the middle, as is the manifest's answer.
var readFaults = []fp.Planned{
	{Op: fp.ListObjectsV2, N: 1, Kind: fp.InternalError},
	{Op: fp.GetObject, Suffix: export.ManifestName, N: 1, Kind: fp.LoseResponse},
	{Op: fp.GetObject, Suffix: "part-00000.csv", N: 1, Kind: fp.ResetResponse},
	{Op: fp.GetObject, Suffix: "part-00000.parquet", N: 1, Kind: fp.ResetResponse},
	{Op: fp.GetObject, Suffix: "part-00001.csv", N: 1, Kind: fp.SlowDown},
	{Op: fp.GetObject, Suffix: "part-00001.parquet", N: 1, Kind: fp.ResetRequest},
}

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

// proxy starts a proxy in front of versitygw failing faultShares of the
// requests, drawn from seed, and the planned faults.
func (e *faultEnv) proxy(t *testing.T, seed uint64, plan []fp.Planned) *fp.Proxy {
	return fp.Start(t, e.s3.Endpoint, fp.Config{Seed: seed, Shares: faultShares, Latency: faultLatency, Plan: plan})
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
	m, biggest := spanningParts(t, e.dir(prefix))
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

// requireFaults fails the test unless the proxy answered at least one
// request of each op with a fault: a run that met none proves nothing.
func requireFaults(t *testing.T, p *fp.Proxy, ops ...fp.Op) {
	t.Helper()
	for _, op := range ops {
		if p.Requests(op) == p.Count(op, fp.Pass) {
			t.Errorf("no fault hit %s:\n%s", op, p)
		}
	}
}

// faultTotal sums the faults of every kind.
func faultTotal(p *fp.Proxy) int {
	n := 0
	for _, k := range []fp.Kind{fp.InternalError, fp.SlowDown, fp.ResetRequest, fp.LoseResponse, fp.ResetResponse, fp.Delay, fp.Outage} {
		n += p.Faults(k)
	}
	return n
}

// TestS3UnderFaults: exports whose parts span several chunks, in both
// formats, complete exact through a proxy that fails about 5% of the
// requests and the planned ones besides; verify, diff and report, reading
// through such a proxy, give what they give without it.
func TestS3UnderFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("exports tens of megabytes to versitygw")
	}
	e := newFaultEnv(t)
	spec := cognitoemu.PoolSpec{ID: "eu-west-1_Faults", Users: 50000, Groups: 70, Seed: 13}
	before := cognitoemu.NewPool(spec)
	after, err := before.Mutate(cognitoemu.RandomMutations(before, 29, 0.03))
	if err != nil {
		t.Fatal(err)
	}
	pools := map[string]emuPool{"csv": servePool(t, before, cognitoemu.Options{}), "parquet": servePool(t, after, cognitoemu.Options{})}
	for i, format := range []string{"csv", "parquet"} {
		t.Run("export "+format, func(t *testing.T) {
			p := e.proxy(t, uint64(100+i), writeFaults)
			r := runCLI(t, e.env(p.URL), e.exportArgs(pools[format], format, format, 1e9)...)
			t.Logf("proxy, %d requests, %d faults:\n%s", p.Requests(""), faultTotal(p), p)
			if r.code != 0 {
				t.Fatalf("export: exit %d\n%s", r.code, r.stderr)
			}
			requireFaults(t, p, fp.UploadPart, fp.CompleteMultipartUpload, fp.PutObject, fp.CreateMultipartUpload)
			e.checkExact(t, pools[format], format, format)
		})
	}
	t.Run("export of many small parts", func(t *testing.T) {
		// Only the drawn faults, over the hundreds of requests of an export
		// that commits a part every 2,000 rows: each a PUT, a checkpoint
		// and a file of member hashes.
		p := fp.Start(t, e.s3.Endpoint, fp.Config{Seed: 105, Shares: faultShares, Latency: faultLatency})
		args := append(e.exportArgs(pools["csv"], "small", "csv", 1e9), "--part-rows", "2000")
		r := runCLI(t, e.env(p.URL), args...)
		t.Logf("proxy, %d requests, %d faults:\n%s", p.Requests(""), faultTotal(p), p)
		if r.code != 0 {
			t.Fatalf("export: exit %d\n%s", r.code, r.stderr)
		}
		if n := faultTotal(p); n < 5 {
			t.Fatalf("%d faults in %d requests: too few to prove anything", n, p.Requests(""))
		}
		rows := exportcheck.Compare(t, e.exportTable("small", "csv"), exportcheck.WriteTruth(t, before, pools["csv"].srv, true))
		if r := runCLI(t, e.env(e.s3.Endpoint), "verify", e.url("small")); r.code != 0 {
			t.Fatalf("verify: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		t.Logf("%d rows exact", rows)
	})
	if t.Failed() {
		return
	}

	t.Run("verify", func(t *testing.T) {
		for i, prefix := range []string{"csv", "parquet"} {
			want := runCLI(t, e.env(e.s3.Endpoint), "verify", e.url(prefix))
			p := e.proxy(t, uint64(200+i), readFaults)
			got := runCLI(t, e.env(p.URL), "verify", e.url(prefix))
			t.Logf("verify %s through the proxy, %d requests, %d faults:\n%s", prefix, p.Requests(""), faultTotal(p), p)
			if got.code != 0 || got.code != want.code || got.stdout != want.stdout {
				t.Fatalf("verify %s: exit %d through the proxy, %d without\n%s%s\nwithout:\n%s", prefix, got.code, want.code, got.stdout, got.stderr, want.stdout)
			}
			// Nothing else on stderr: no notice of the SDK's in the
			// middle of the tool's own lines.
			if got.stderr != "" || want.stderr != "" {
				t.Fatalf("verify %s wrote to stderr:\n%s\nwithout the proxy:\n%s", prefix, got.stderr, want.stderr)
			}
			requireFaults(t, p, fp.GetObject, fp.ListObjectsV2)
		}
	})

	t.Run("diff", func(t *testing.T) {
		// Without the proxy, diff gives exactly the oracle's changes
		// (TestDiffHoldsEveryChangeOfTheMutationList, TestDiffOnS3).
		p := e.proxy(t, 300, readFaults)
		out := filepath.Join(t.TempDir(), "diff")
		r := runCLI(t, e.env(p.URL), "diff", e.url("csv"), e.url("parquet"), "--output", out, "--format", "csv")
		t.Logf("diff through the proxy, %d requests, %d faults:\n%s", p.Requests(""), faultTotal(p), p)
		if r.code != 0 {
			t.Fatalf("diff: exit %d\n%s", r.code, r.stderr)
		}
		want := expectedChanges(snapshots{before: before, after: after})
		sameChanges(t, "diff through the proxy", readChanges(t, out, "csv"), want)
		requireFaults(t, p, fp.GetObject, fp.ListObjectsV2)
		t.Logf("%d change rows, as the oracle says", len(want))
	})

	t.Run("report", func(t *testing.T) {
		var reports [2]map[string]any
		for i, via := range []string{"direct", "proxy"} {
			endpoint := e.s3.Endpoint
			var p *fp.Proxy
			if via == "proxy" {
				p = e.proxy(t, 400, readFaults)
				endpoint = p.URL
			}
			out := t.TempDir()
			r := runCLI(t, e.env(endpoint), "report", e.url("parquet"), "--previous", e.url("csv"), "--output", out)
			if p != nil {
				t.Logf("report through the proxy, %d requests, %d faults:\n%s", p.Requests(""), faultTotal(p), p)
			}
			if r.code != 0 {
				t.Fatalf("report %s: exit %d\n%s", via, r.code, r.stderr)
			}
			data, err := os.ReadFile(filepath.Join(out, "report.json"))
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(data, &reports[i]); err != nil {
				t.Fatal(err)
			}
			if p != nil {
				requireFaults(t, p, fp.GetObject, fp.ListObjectsV2)
			}
		}
		a, _ := json.Marshal(withoutTimes(reports[0]))
		b, _ := json.Marshal(withoutTimes(reports[1]))
		if string(a) != string(b) {
			t.Fatalf("report.json differs through the proxy:\n%.2000s\nwithout:\n%.2000s", b, a)
		}
	})
}

// withoutTimes drops the top-level fields that say when a report was made.
func withoutTimes(m map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		if !strings.Contains(k, "generated") && !strings.HasSuffix(k, "_at") {
			out[k] = v
		}
	}
	return out
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
	// The outage keeps the run from releasing its lease too. A TTL longer
	// than the SDK's retries (so the run fails on what S3 answered, not on
	// the lease running out) and shorter than the default lets the next
	// run take it over soon.
	args := append(e.exportArgs(p, "out", "csv", 11<<20), "--lease-ttl", "8s")
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
	if data, err := os.ReadFile(filepath.Join(e.dir("out"), lease.Name)); err == nil {
		h, err := lease.Parse(data)
		if err != nil {
			t.Fatalf("the lease left by the outage: %v", err)
		}
		time.Sleep(time.Until(h.Expires))
	}
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
