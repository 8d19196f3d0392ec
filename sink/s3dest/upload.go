package s3dest

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// strayed says whether a CreateMultipartUpload may have begun uploads
// besides the one it returns: the SDK sent it more than once, or it
// failed. An attempt whose answer was lost (a reset, a timeout) may well
// have begun one, whose id nobody knows: S3 keeps and bills it, unlisted,
// until it is aborted.
func strayed(out *s3.CreateMultipartUploadOutput, err error) bool {
	if err != nil {
		return true
	}
	attempts, ok := retry.GetAttemptResults(out.ResultMetadata)
	return ok && len(attempts.Results) > 1
}

// abortStrays aborts the uploads of the part's key other than its own,
// when its start may have left some. Only this run writes under the
// prefix, so an upload of this key that is not the part's is a stray of
// its start (or an orphan of a killed run, which Prune would abort too).
func (p *s3Part) abortStrays(ctx context.Context) error {
	if !p.strays {
		return nil
	}
	key := p.d.key(p.name)
	var keyMarker, idMarker *string
	for {
		out, err := p.d.client.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{
			Bucket: &p.d.bucket, Prefix: &key, KeyMarker: keyMarker, UploadIdMarker: idMarker,
		})
		if err != nil {
			return p.d.explain("list the uploads of "+p.name+" in", err)
		}
		for _, u := range out.Uploads {
			if aws.ToString(u.Key) != key || p.uploadID != nil && aws.ToString(u.UploadId) == *p.uploadID {
				continue
			}
			if _, err := p.d.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: &p.d.bucket, Key: u.Key, UploadId: u.UploadId}); err != nil {
				return p.d.explain("abort a stray upload of "+p.name+" in", err)
			}
		}
		if !aws.ToBool(out.IsTruncated) {
			p.strays = false
			return nil
		}
		keyMarker, idMarker = out.NextKeyMarker, out.NextUploadIdMarker
	}
}

// completedBefore says whether the object under the part's key is the one
// its uploaded chunks make: S3 may answer NoSuchUpload to a
// CompleteMultipartUpload that the SDK sent again after the answer to the
// first was lost, although that first one completed the upload. The
// object's size must be the bytes sent, and its composite SHA-256 (the
// checksum of the chunks' checksums, which S3 keeps for an upload started
// with ChecksumAlgorithm SHA256) the one the chunks' checksums make; a
// server that keeps no checksum is held to the multipart ETag instead
// (the MD5 of the chunks' MD5s), the same kind of proof.
func (p *s3Part) completedBefore(ctx context.Context) bool {
	head, err := p.d.client.HeadObject(ctx, &s3.HeadObjectInput{
		Bucket: &p.d.bucket, Key: aws.String(p.d.key(p.name)), ChecksumMode: types.ChecksumModeEnabled,
	})
	if err != nil || aws.ToInt64(head.ContentLength) != p.sent {
		return false
	}
	suffix := fmt.Sprintf("-%d", len(p.done))
	if sum := aws.ToString(head.ChecksumSHA256); sum != "" {
		h := sha256.New()
		for _, c := range p.done {
			raw, err := base64.StdEncoding.DecodeString(aws.ToString(c.ChecksumSHA256))
			if err != nil || len(raw) != sha256.Size {
				return false
			}
			h.Write(raw)
		}
		return sum == base64.StdEncoding.EncodeToString(h.Sum(nil))+suffix
	}
	h := md5.New()
	for _, c := range p.done {
		raw, err := hex.DecodeString(strings.Trim(aws.ToString(c.ETag), `"`))
		if err != nil || len(raw) != md5.Size {
			return false
		}
		h.Write(raw)
	}
	return strings.Trim(aws.ToString(head.ETag), `"`) == hex.EncodeToString(h.Sum(nil))+suffix
}
