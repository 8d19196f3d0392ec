package s3dest

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
)

// newRetryer is the S3 client's retryer: the SDK's standard one (3
// attempts, or AWS_MAX_ATTEMPTS as in every AWS tool; exponential back-off
// with jitter) without its client-side retry quota. That quota is a token
// bucket shared by every call of the client: a stretch of server errors (a
// brownout, a hot prefix answering SlowDown) empties it, and from then on
// calls fail at once with "retry quota exceeded", unretried, failing an
// export that a retry would have carried through. Each call keeps its own
// attempts instead; nothing retries around them (a read cut in the middle
// is taken up by objectReader, where the SDK never retries).
// AWS_RETRY_MODE=adaptive is not followed: it adds a client-side rate
// limiter, the same trouble.
func newRetryer() aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.RateLimiter = ratelimit.None
	})
}
