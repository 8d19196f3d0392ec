package s3dest

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/s3"
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
