package s3dest

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// maxResumes bounds how many times in a row a read is taken up again
// without a byte read in between.
const maxResumes = 3

// objectReader streams an object's body and, when the connection breaks
// in the middle of it, takes the read up where it stopped: a ranged GET of
// the rest, on the condition that the object is still the one it was
// (If-Match its ETag), so a replaced object is an error, never a mix of
// two. The SDK retries a GET that fails before its body, never a body cut
// while it is read, which would otherwise fail a verify, a diff or a
// report over one reset connection. Each GET again goes through the SDK's
// retryer on its own: this is not a retry around it.
type objectReader struct {
	ctx   context.Context
	d     *Prefix
	name  string
	etag  *string
	size  int64 // -1 when the server did not say
	off   int64
	body  io.ReadCloser
	fails int // resumes since the last byte read
}

func (d *Prefix) resumable(ctx context.Context, name string, out *s3.GetObjectOutput) io.ReadCloser {
	size := int64(-1)
	if out.ContentLength != nil {
		size = *out.ContentLength
	}
	return &objectReader{ctx: ctx, d: d, name: name, etag: out.ETag, size: size, body: out.Body}
}

func (r *objectReader) Read(b []byte) (int, error) {
	for {
		n, err := r.body.Read(b)
		r.off += int64(n)
		if n > 0 {
			// A read error comes back on the next Read, once the bytes
			// before it are taken.
			r.fails = 0
			if errors.Is(err, io.EOF) && r.off != r.size && r.size >= 0 {
				err = nil
			}
			return n, err
		}
		switch {
		case err == nil:
			return 0, nil
		case errors.Is(err, io.EOF) && (r.size < 0 || r.off == r.size):
			return 0, io.EOF
		case r.ctx.Err() != nil || r.etag == nil || r.fails >= maxResumes:
			return 0, fmt.Errorf("read %s from %s: %w", r.name, r.d, err)
		}
		r.fails++
		r.body.Close()
		out, gerr := r.d.client.GetObject(r.ctx, &s3.GetObjectInput{
			Bucket: &r.d.bucket, Key: aws.String(r.d.key(r.name)),
			Range: aws.String(fmt.Sprintf("bytes=%d-", r.off)), IfMatch: r.etag,
		})
		if gerr != nil {
			r.body = io.NopCloser(errReader{gerr})
			return 0, r.d.explain(fmt.Sprintf("read %s again from byte %d of", r.name, r.off), gerr)
		}
		r.body = out.Body
	}
}

func (r *objectReader) Close() error { return r.body.Close() }

// errReader keeps failing with err.
type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }
