package s3dest

import (
	"bytes"
	"context"
	"errors"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// Conditional writes, for a lease: S3 conditional writes (PutObject with
// If-None-Match: * or If-Match: ETag) make an object that is created only
// if absent, and replaced only at the version last read. They need no
// permission beyond s3:PutObject. A condition that does not hold is S3's
// PreconditionFailed (or ConditionalRequestConflict), which package fault
// classifies.

// Read returns a small object and its ETag; (nil, "", nil) when absent.
func (d *Prefix) Read(ctx context.Context, name string) ([]byte, string, error) {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	out, err := d.client.GetObject(ctx, &s3.GetObjectInput{Bucket: &d.bucket, Key: aws.String(d.key(name))})
	var api smithy.APIError
	if errors.As(err, &api) && (api.ErrorCode() == "NoSuchKey" || api.ErrorCode() == "NotFound") {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", d.explain("read "+name+" from", err)
	}
	defer out.Body.Close()
	data, err := io.ReadAll(out.Body)
	if err != nil {
		return nil, "", d.explain("read "+name+" from", err)
	}
	return data, aws.ToString(out.ETag), nil
}

// Swap writes data as name only if its ETag is match, or only if it is
// absent when match is "", and returns the new ETag.
func (d *Prefix) Swap(ctx context.Context, name string, data []byte, match string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	sse, kms := d.sse()
	in := &s3.PutObjectInput{
		Bucket: &d.bucket, Key: aws.String(d.key(name)), Body: bytes.NewReader(data),
		ContentLength: aws.Int64(int64(len(data))), ChecksumAlgorithm: types.ChecksumAlgorithmSha256,
		ServerSideEncryption: sse, SSEKMSKeyId: kms,
	}
	if match == "" {
		in.IfNoneMatch = aws.String("*")
	} else {
		in.IfMatch = aws.String(match)
	}
	out, err := d.client.PutObject(ctx, in)
	if err != nil {
		return "", d.explain("write "+name+" (conditionally) to", err)
	}
	if v := aws.ToString(out.VersionId); v != "" && v != "null" {
		d.versioned.Store(true)
	}
	return aws.ToString(out.ETag), nil
}

// Remove deletes name if its ETag is match. The check and the delete are
// two calls: the holder of a live lease removes it, and no other writer
// replaces a live lease in between.
//
// In a versioned bucket (every Object Lock bucket is one), seen from the
// version id of a conditional write, it deletes nothing: a delete there
// only hides the object behind a delete marker, and some servers
// (versitygw) then refuse If-None-Match as if the object were there, so
// no run could create the lease again. The lease released before its
// removal stays, saying so.
func (d *Prefix) Remove(ctx context.Context, name, match string) error {
	if d.versioned.Load() {
		return nil
	}
	data, etag, err := d.Read(ctx, name)
	if err != nil || data == nil {
		return err
	}
	if etag != match {
		return d.explain("remove "+name+" from", &smithy.GenericAPIError{Code: "PreconditionFailed", Message: "the object changed"})
	}
	return d.Delete(ctx, name)
}
