// Package s3dest writes an export's files under an S3 prefix, streaming
// each part through a multipart upload that becomes visible only when it
// completes. It is the only destination that imports the S3 SDK.
//
// The upload is ours, not the SDK's transfer manager
// (feature/s3/transfermanager, or the older feature/s3/manager). Their
// UploadObject pulls from an io.Reader under one context for the whole
// object, while the sink's encoders push bytes through Write calls that
// each carry their own context: using it would need an io.Pipe, a
// goroutine per part and a single context held across every write, which is
// the shape of issue 13's defect 1 (a part that kept its creator's context).
// Its memory is bounded too, but at Concurrency+1 part buffers (48 MiB at
// the defaults) against one chunk here, and transfermanager is still v0.x.
// A part here holds one chunk (Options.PartSize) and uploads it
// sequentially when it fills; what we give up is parallel chunk uploads
// within a part, which a job bound by Cognito's quotas does not need.
package s3dest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"sync/atomic"
	"time"
	"unicode"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/cognito-export/cognito-export/fault"
	"github.com/cognito-export/cognito-export/sink"
)

// Options says how to reach and write the bucket.
type Options struct {
	Region      string
	EndpointURL string // default: the SDK's chain, e.g. AWS_ENDPOINT_URL_S3
	SSE         string // "", "AES256" or "aws:kms"
	KMSKeyID    string
	// PartSize is the multipart chunk: the most a part upload holds in memory.
	PartSize int64
	// Credentials, when set, replace the SDK's default chain.
	Credentials aws.CredentialsProvider
	// Retention, when on, locks every object written but the working
	// files it names; Open first checks that the bucket has Object Lock.
	Retention Retention
}

// MinPartSize is S3's smallest allowed multipart chunk (but the last).
const MinPartSize = 5 << 20

// probePrefix names the object Open writes and deletes to prove the prefix
// writable; Prune removes one that a killed run left.
const probePrefix = ".probe-"

// Prefix writes parts and small files under s3://bucket/prefix/. Each part
// streams through a multipart upload, one chunk in memory at a time; a part
// becomes visible only when its upload completes, and a failed upload is
// aborted so that no orphan parts are billed.
type Prefix struct {
	client *s3.Client
	bucket string
	prefix string // "" or ending in "/"
	opts   Options
	// versioned is whether the bucket keeps versions, as a write's
	// answer showed: there Remove keeps what it would delete.
	versioned atomic.Bool
}

// ParseURL splits s3://bucket/prefix into bucket and a prefix ending in "/".
// The key prefix is taken as written, as the AWS CLI takes it: a space,
// a %, a # or a ? is part of the key, not URL syntax, so that a prefix
// named "50% off/" or "run #3/" is the one written to. It is the S3 half
// of package location, which every other caller goes through.
func ParseURL(raw string) (bucket, prefix string, err error) {
	rest, ok := strings.CutPrefix(raw, "s3://")
	bucket, prefix, _ = strings.Cut(rest, "/")
	if !ok || bucket == "" || strings.ContainsAny(bucket, " ?#\\") || strings.ContainsFunc(raw, unicode.IsControl) {
		return "", "", fault.Usagef(fmt.Sprintf("output %q: want s3://bucket/prefix/", raw))
	}
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	return bucket, prefix, nil
}

// Open checks that the bucket exists and that the prefix is writable (a
// probe object is written and deleted), and with a Retention that the
// bucket has Object Lock enabled, so a bad output fails before any Cognito
// call is spent.
func Open(ctx context.Context, rawURL string, opts Options) (*Prefix, error) {
	d, err := connect(ctx, rawURL, opts)
	if err != nil {
		return nil, err
	}
	if err := d.probe(ctx); err != nil {
		return nil, err
	}
	if opts.Retention.On() {
		if err := d.checkObjectLock(ctx); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// OpenRead opens a prefix for reading only: it checks that the bucket can
// be listed and writes nothing, so that a reader (an auditor's verify)
// needs no write permission.
func OpenRead(ctx context.Context, rawURL string, opts Options) (*Prefix, error) {
	d, err := connect(ctx, rawURL, opts)
	if err != nil {
		return nil, err
	}
	if err := d.checkList(ctx); err != nil {
		return nil, err
	}
	return d, nil
}

func connect(ctx context.Context, rawURL string, opts Options) (*Prefix, error) {
	bucket, prefix, err := ParseURL(rawURL)
	if err != nil {
		return nil, err
	}
	switch opts.SSE {
	case "", "AES256", "aws:kms":
	default:
		return nil, fault.Usagef(fmt.Sprintf("--sse %q: use AES256 or aws:kms", opts.SSE))
	}
	if opts.KMSKeyID != "" && opts.SSE != "aws:kms" {
		return nil, fault.Usagef("--sse-kms-key-id needs --sse aws:kms")
	}
	if err := opts.Retention.Check(); err != nil {
		return nil, err
	}
	if opts.PartSize == 0 {
		opts.PartSize = 16 << 20
	}
	if opts.PartSize < MinPartSize {
		return nil, fault.Usagef(fmt.Sprintf("--s3-chunk-size %d: S3 needs at least %d bytes", opts.PartSize, MinPartSize))
	}
	var loadOpts []func(*config.LoadOptions) error
	if opts.Region != "" {
		loadOpts = append(loadOpts, config.WithRegion(opts.Region))
	}
	if opts.Credentials != nil {
		loadOpts = append(loadOpts, config.WithCredentialsProvider(opts.Credentials))
	}
	cfg, err := config.LoadDefaultConfig(ctx, loadOpts...)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration for S3: %w", err)
	}
	cfg.Credentials = fault.MarkCredentials(cfg.Credentials)
	if cfg.Region == "" {
		return nil, fault.Usagef("no AWS region for S3: pass --region or set AWS_REGION")
	}
	client := s3.NewFromConfig(cfg, func(o *s3.Options) {
		if opts.EndpointURL != "" {
			o.BaseEndpoint = aws.String(opts.EndpointURL)
		}
		// S3-compatible servers on custom endpoints rarely resolve
		// bucket.host names; path-style works everywhere.
		o.UsePathStyle = o.BaseEndpoint != nil
		// Set here, not with config.WithRetryer, which would make the
		// SDK ignore AWS_MAX_ATTEMPTS.
		o.Retryer = newRetryer()
		// The SDK would print a notice on stderr for every object it
		// reads without checking a checksum (a multipart object, a
		// ranged GET): the reader checks each part's SHA-256 against the
		// manifest, and the tool's stderr is its own log and error lines.
		o.DisableLogOutputChecksumValidationSkipped = true
	})
	return &Prefix{client: client, bucket: bucket, prefix: prefix, opts: opts}, nil
}

func (d *Prefix) String() string { return "s3://" + d.bucket + "/" + d.prefix }

func (d *Prefix) key(name string) string { return d.prefix + name }

func (d *Prefix) checkList(ctx context.Context) error {
	// A GET, not HeadBucket: a HEAD answer has no body, so a bad signature
	// and a denied permission would both read as a bare 403.
	if _, err := d.client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &d.bucket, Prefix: aws.String(d.prefix), MaxKeys: aws.Int32(1)}); err != nil {
		return d.explain("check bucket", err)
	}
	return nil
}

func (d *Prefix) probe(ctx context.Context) error {
	if err := d.checkList(ctx); err != nil {
		return err
	}
	var rnd [6]byte
	rand.Read(rnd[:])
	name := probePrefix + hex.EncodeToString(rnd[:])
	if err := d.Put(ctx, name, nil); err != nil {
		return err
	}
	if err := d.deleteKey(ctx, aws.String(d.key(name))); err != nil {
		return d.explain("delete probe object", err)
	}
	return nil
}

// deleteKey deletes an object; one already gone is deleted. S3 answers so
// itself; versitygw answers NoSuchKey, which a run meets when the holder
// of the output's lease prunes the probe of a run that is still checking
// the output before it asks for the lease.
func (d *Prefix) deleteKey(ctx context.Context, key *string) error {
	_, err := d.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &d.bucket, Key: key})
	var api smithy.APIError
	if errors.As(err, &api) && (api.ErrorCode() == "NoSuchKey" || api.ErrorCode() == "NotFound") {
		return nil
	}
	return err
}

func (d *Prefix) sse() (types.ServerSideEncryption, *string) {
	var kms *string
	if d.opts.KMSKeyID != "" {
		kms = aws.String(d.opts.KMSKeyID)
	}
	return types.ServerSideEncryption(d.opts.SSE), kms
}

// Put writes a small object, such as the manifest, with a single PUT,
// under the prefix's retention unless name is a working file. The SHA-256
// checksum is also what S3 requires of a PUT that sets a retention.
func (d *Prefix) Put(ctx context.Context, name string, data []byte) error {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	sse, kms := d.sse()
	mode, until := d.lock(name)
	_, err := d.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket: &d.bucket, Key: aws.String(d.key(name)), Body: bytes.NewReader(data),
		ContentLength: aws.Int64(int64(len(data))), ChecksumAlgorithm: types.ChecksumAlgorithmSha256,
		ServerSideEncryption: sse, SSEKMSKeyId: kms,
		ObjectLockMode: mode, ObjectLockRetainUntilDate: until,
	})
	if err != nil {
		return d.explain("write "+name+" to", err)
	}
	return nil
}

// Prune removes the objects directly under the prefix that remove accepts,
// and aborts every unfinished multipart upload whose name it accepts: those
// are orphans of a run that was killed, billed and invisible. Leftover
// probe objects go too. Nothing else is touched.
func (d *Prefix) Prune(ctx context.Context, remove func(name string) bool) error {
	pages := s3.NewListObjectsV2Paginator(d.client, &s3.ListObjectsV2Input{
		Bucket: &d.bucket, Prefix: aws.String(d.prefix), Delimiter: aws.String("/"),
	})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return d.explain("list", err)
		}
		for _, o := range page.Contents {
			name := strings.TrimPrefix(aws.ToString(o.Key), d.prefix)
			if strings.Contains(name, "/") || !remove(name) && !strings.HasPrefix(name, probePrefix) {
				continue
			}
			if err := d.deleteKey(ctx, o.Key); err != nil {
				return d.explain("delete "+name+" from", err)
			}
		}
	}
	return d.abortUploads(ctx, remove)
}

func (d *Prefix) abortUploads(ctx context.Context, remove func(name string) bool) error {
	var keyMarker, idMarker *string
	for {
		out, err := d.client.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{
			Bucket: &d.bucket, Prefix: aws.String(d.prefix), KeyMarker: keyMarker, UploadIdMarker: idMarker,
		})
		if err != nil {
			return d.explain("list unfinished uploads in", err)
		}
		for _, u := range out.Uploads {
			name := strings.TrimPrefix(aws.ToString(u.Key), d.prefix)
			if strings.Contains(name, "/") || !remove(name) {
				continue
			}
			if _, err := d.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: &d.bucket, Key: u.Key, UploadId: u.UploadId}); err != nil {
				return d.explain("abort unfinished upload in", err)
			}
		}
		if !aws.ToBool(out.IsTruncated) {
			return nil
		}
		keyMarker, idMarker = out.NextKeyMarker, out.NextUploadIdMarker
	}
}

// Create starts a part. The multipart upload begins with the first full
// chunk; a part smaller than one chunk is sent with a single PUT on Commit.
// The part keeps no context: each Write, Commit and Abort runs under its own.
func (d *Prefix) Create(_ context.Context, name string) (sink.Part, error) {
	return &s3Part{d: d, name: name, buf: make([]byte, 0, d.opts.PartSize)}, nil
}

// callTimeout bounds each S3 call of a part (start, one chunk, complete).
// The committer writes under a context that a signal does not cancel, so
// that a chunk upload under way when the job stops finishes instead of
// poisoning the part; this bound keeps a hung connection from holding the
// job forever. Two minutes carries a 16 MiB chunk over a link of ~1 Mbit/s,
// retries of the SDK included.
const callTimeout = 2 * time.Minute

// abortTimeout bounds the abort of a multipart upload, which runs even
// after the job's context is cancelled.
const abortTimeout = 30 * time.Second

type s3Part struct {
	d        *Prefix
	name     string
	buf      []byte
	uploadID *string
	strays   bool // the start may have begun other uploads: see abortStrays
	done     []types.CompletedPart
	sent     int64 // the bytes of the chunks in done
	err      error
}

func (p *s3Part) Write(ctx context.Context, b []byte) error {
	if p.err != nil {
		return p.err
	}
	for len(b) > 0 {
		n := min(len(b), cap(p.buf)-len(p.buf))
		p.buf = append(p.buf, b[:n]...)
		b = b[n:]
		if len(p.buf) == cap(p.buf) {
			if p.err = p.uploadChunk(ctx); p.err != nil {
				return p.err
			}
		}
	}
	return nil
}

func (p *s3Part) uploadChunk(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	key := aws.String(p.d.key(p.name))
	if p.uploadID == nil {
		sse, kms := p.d.sse()
		// The object takes its retention when the upload completes; every
		// chunk carries the checksum S3 requires of a locked upload.
		mode, until := p.d.lock(p.name)
		out, err := p.d.client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{
			Bucket: &p.d.bucket, Key: key, ChecksumAlgorithm: types.ChecksumAlgorithmSha256,
			ServerSideEncryption: sse, SSEKMSKeyId: kms,
			ObjectLockMode: mode, ObjectLockRetainUntilDate: until,
		})
		p.strays = p.strays || strayed(out, err)
		if err != nil {
			return p.d.explain("start upload of "+p.name+" to", err)
		}
		p.uploadID = out.UploadId
		if err := p.abortStrays(ctx); err != nil {
			return err
		}
	}
	num := int32(len(p.done) + 1)
	out, err := p.d.client.UploadPart(ctx, &s3.UploadPartInput{
		Bucket: &p.d.bucket, Key: key, UploadId: p.uploadID, PartNumber: aws.Int32(num),
		Body: bytes.NewReader(p.buf), ContentLength: aws.Int64(int64(len(p.buf))),
		ChecksumAlgorithm: types.ChecksumAlgorithmSha256,
	})
	if err != nil {
		return p.d.explain(fmt.Sprintf("upload chunk %d of %s to", num, p.name), err)
	}
	p.done = append(p.done, types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(num), ChecksumSHA256: out.ChecksumSHA256})
	p.sent += int64(len(p.buf))
	p.buf = p.buf[:0]
	return nil
}

func (p *s3Part) Commit(ctx context.Context) error {
	if p.err != nil {
		p.Abort(ctx)
		return p.err
	}
	if p.uploadID == nil {
		return p.d.Put(ctx, p.name, p.buf)
	}
	if len(p.buf) > 0 {
		if err := p.uploadChunk(ctx); err != nil {
			p.Abort(ctx)
			return err
		}
	}
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	_, err := p.d.client.CompleteMultipartUpload(cctx, &s3.CompleteMultipartUploadInput{
		Bucket: &p.d.bucket, Key: aws.String(p.d.key(p.name)), UploadId: p.uploadID,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: p.done},
	})
	if noSuchUpload(err) && p.completedBefore(cctx) {
		err = nil
	}
	if err != nil {
		p.Abort(ctx)
		return p.d.explain("complete upload of "+p.name+" to", err)
	}
	p.uploadID = nil
	return nil
}

// Abort ends the multipart upload even when ctx is already cancelled: a
// stopped job must not leave orphan chunks behind, billed and invisible.
func (p *s3Part) Abort(ctx context.Context) {
	p.buf = nil // the chunk buffer is the part's memory
	if p.err == nil {
		p.err = fmt.Errorf("%s: the upload was aborted", p.name)
	}
	if p.uploadID == nil && !p.strays {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), abortTimeout)
	defer cancel()
	if p.uploadID != nil {
		p.d.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{
			Bucket: &p.d.bucket, Key: aws.String(p.d.key(p.name)), UploadId: p.uploadID,
		})
		p.uploadID = nil
	}
	// What is left when this fails too, the next run's Prune aborts.
	p.abortStrays(ctx)
}

// Get reads a small object; a missing object is (nil, nil).
func (d *Prefix) Get(ctx context.Context, name string) ([]byte, error) {
	out, err := d.client.GetObject(ctx, &s3.GetObjectInput{Bucket: &d.bucket, Key: aws.String(d.key(name))})
	var api smithy.APIError
	if errors.As(err, &api) && (api.ErrorCode() == "NoSuchKey" || api.ErrorCode() == "NotFound") {
		return nil, nil
	}
	if err != nil {
		return nil, d.explain("read "+name+" from", err)
	}
	body := d.resumable(ctx, name, out)
	defer body.Close()
	data, err := io.ReadAll(body)
	if err != nil {
		return nil, d.explain("read "+name+" from", err)
	}
	if data == nil {
		data = []byte{}
	}
	return data, nil
}

// Delete removes an object; S3 does not mind a missing one.
func (d *Prefix) Delete(ctx context.Context, name string) error {
	if err := d.deleteKey(ctx, aws.String(d.key(name))); err != nil {
		return d.explain("delete "+name+" from", err)
	}
	return nil
}

// Open streams an object; a missing one is an error wrapping
// fs.ErrNotExist. The body is read as the caller reads, never held whole.
func (d *Prefix) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	out, err := d.client.GetObject(ctx, &s3.GetObjectInput{Bucket: &d.bucket, Key: aws.String(d.key(name))})
	var api smithy.APIError
	if errors.As(err, &api) && (api.ErrorCode() == "NoSuchKey" || api.ErrorCode() == "NotFound") {
		return nil, fmt.Errorf("open %s%s: %w", d, name, fs.ErrNotExist)
	}
	if err != nil {
		return nil, d.explain("read "+name+" from", err)
	}
	return d.resumable(ctx, name, out), nil
}

// Dirs returns the names of the prefixes directly under this one, without
// their trailing slash: the sibling exports of a scheduled job.
func (d *Prefix) Dirs(ctx context.Context) ([]string, error) {
	var names []string
	err := d.listPages(ctx, func(page *s3.ListObjectsV2Output) {
		for _, p := range page.CommonPrefixes {
			name := strings.TrimSuffix(strings.TrimPrefix(aws.ToString(p.Prefix), d.prefix), "/")
			if name != "" && !strings.Contains(name, "/") {
				names = append(names, name)
			}
		}
	})
	return names, err
}

// List returns the names of the objects directly under the prefix, sorted
// (S3 lists keys in order); unfinished uploads and probe objects are not
// listed.
func (d *Prefix) List(ctx context.Context) ([]string, error) {
	var names []string
	err := d.listPages(ctx, func(page *s3.ListObjectsV2Output) {
		for _, o := range page.Contents {
			name := strings.TrimPrefix(aws.ToString(o.Key), d.prefix)
			if name == "" || strings.Contains(name, "/") || strings.HasPrefix(name, probePrefix) {
				continue
			}
			names = append(names, name)
		}
	})
	return names, err
}

// listPages hands every page of the listing directly under the prefix to
// fn.
func (d *Prefix) listPages(ctx context.Context, fn func(*s3.ListObjectsV2Output)) error {
	pages := s3.NewListObjectsV2Paginator(d.client, &s3.ListObjectsV2Input{
		Bucket: &d.bucket, Prefix: aws.String(d.prefix), Delimiter: aws.String("/"),
	})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return d.explain("list", err)
		}
		fn(page)
	}
	return nil
}
