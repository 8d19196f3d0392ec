package cognito

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmw "github.com/aws/aws-sdk-go-v2/aws/middleware"
	awsratelimit "github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/middleware"

	"github.com/cognito-export/cognito-export/fault"
	"github.com/cognito-export/cognito-export/ratelimit"
)

// Config says how to reach Cognito. Credentials and anything left empty
// come from the SDK's default chain (environment, profiles, ECS task role,
// IMDS), so AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER works as in every AWS tool.
type Config struct {
	Region      string
	EndpointURL string
	MaxAttempts int
	// CallTimeout bounds one attempt, so that a hung connection is retried
	// instead of stalling a worker forever.
	CallTimeout time.Duration
	// Credentials, when set, replace the default chain (the demo uses it).
	Credentials aws.CredentialsProvider
	// HTTPClient, when set, replaces the SDK's (the demo's in-process
	// emulator uses it).
	HTTPClient cip.HTTPClient
	// RoleARN, when set, is assumed through STS with the credentials above
	// (another account's pools, from a central audit account). The SDK's
	// provider caches the temporary credentials and renews them before
	// they expire, so a run longer than the role's session still works.
	RoleARN    string
	ExternalID string
	// SessionName names the role's sessions, so that CloudTrail ties their
	// calls to the run ("cognito-export-" and the run id).
	SessionName string
}

// Calls counts Cognito requests and throttles per operation, retries
// included.
type Calls struct {
	mu          sync.Mutex
	byOp        map[string]*atomic.Int64
	throttlesOf map[string]*atomic.Int64
	throttles   atomic.Int64
	retries     atomic.Int64
}

// counterIn is op's counter in *m, made on first use.
func (c *Calls) counterIn(m *map[string]*atomic.Int64, op string) *atomic.Int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	if *m == nil {
		*m = make(map[string]*atomic.Int64)
	}
	n, ok := (*m)[op]
	if !ok {
		n = new(atomic.Int64)
		(*m)[op] = n
	}
	return n
}

func (c *Calls) counter(op string) *atomic.Int64 { return c.counterIn(&c.byOp, op) }

func (c *Calls) snapshot(m map[string]*atomic.Int64) map[string]int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int64, len(m))
	for op, n := range m {
		out[op] = n.Load()
	}
	return out
}

// ByOperation returns a snapshot of the call counts.
func (c *Calls) ByOperation() map[string]int64 { return c.snapshot(c.byOp) }

// ThrottlesByOperation returns a snapshot of the throttles of each
// operation that had any.
func (c *Calls) ThrottlesByOperation() map[string]int64 { return c.snapshot(c.throttlesOf) }

// Total is the number of requests sent.
func (c *Calls) Total() int64 {
	var t int64
	for _, n := range c.ByOperation() {
		t += n
	}
	return t
}

// Throttles is the number of TooManyRequestsException answers.
func (c *Calls) Throttles() int64 { return c.throttles.Load() }

// Retries is the number of attempts beyond the first.
func (c *Calls) Retries() int64 { return c.retries.Load() }

// NewClient builds the one Cognito client of a run. Pacing, retries and
// counting are wired here, once, as middleware around every attempt: each
// attempt, retries included, waits on its quota category before it is sent.
func NewClient(ctx context.Context, cc Config, limits *ratelimit.Set, calls *Calls) (*cip.Client, error) {
	maxAttempts := cc.MaxAttempts
	if maxAttempts <= 0 {
		maxAttempts = 10
	}
	opts := []func(*config.LoadOptions) error{
		config.WithRetryer(func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = maxAttempts
				o.Backoff = fullJitter{base: 50 * time.Millisecond, cap: 2 * time.Second}
				// Our limiter paces the calls; the SDK's retry token bucket
				// would turn a throttling storm into "retry quota exceeded".
				o.RateLimiter = awsratelimit.None
				o.Retryables = append(o.Retryables, retry.RetryableErrorCode{
					Codes: map[string]struct{}{"InternalErrorException": {}},
				}, retry.IsErrorRetryableFunc(truncatedResponse))
			})
		}),
	}
	if cc.Region != "" {
		opts = append(opts, config.WithRegion(cc.Region))
	}
	if cc.Credentials != nil {
		opts = append(opts, config.WithCredentialsProvider(cc.Credentials))
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration: %w", err)
	}
	if awsCfg.Region == "" {
		return nil, fault.Usagef("no AWS region: pass --region or set AWS_REGION")
	}
	if cc.RoleARN != "" {
		awsCfg.Credentials = assumeRole(awsCfg, cc)
	}
	awsCfg.Credentials = fault.MarkCredentials(awsCfg.Credentials)
	return cip.NewFromConfig(awsCfg, func(o *cip.Options) {
		if cc.HTTPClient != nil {
			o.HTTPClient = cc.HTTPClient
		}
		o.HTTPClient = ownBody{o.HTTPClient}
		if cc.EndpointURL != "" {
			o.BaseEndpoint = aws.String(cc.EndpointURL)
		}
		o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
			if err := s.Finalize.Insert(attemptCounter, "Retry", middleware.Before); err != nil {
				return err
			}
			return s.Finalize.Insert(&attemptMiddleware{limits: limits, calls: calls, timeout: cc.CallTimeout}, "Retry", middleware.After)
		})
	}), nil
}

// ownBody gives the transport a request body of its own. smithy-go closes
// the request body as soon as the response arrives; a transport still
// reading it then fails the write and closes the connection under the
// response being read ("use of closed network connection",
// aws/aws-sdk-go-v2#2737). The SDK retries that, but each one is a wasted
// call: about 2% of the calls when they are paced. Cognito's request bodies
// are a few hundred bytes.
type ownBody struct{ aws.HTTPClient }

func (c ownBody) Do(req *http.Request) (*http.Response, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return c.HTTPClient.Do(req)
	}
	body, err := io.ReadAll(req.Body)
	req.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("read request body: %w", err)
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	return c.HTTPClient.Do(req)
}

// fullJitter is exponential backoff with full jitter. It stays short even
// for throttling: the category's limiter has already slowed down (AIMD) and
// every retry waits on it, so a long sleep would only idle the worker.
type fullJitter struct{ base, cap time.Duration }

func (b fullJitter) BackoffDelay(attempt int, _ error) (time.Duration, error) {
	d := b.cap
	if attempt < 20 {
		d = min(b.cap, b.base<<attempt)
	}
	return rand.N(d + 1), nil
}

// truncatedResponse is a connection that died mid-response: the request may
// be sent again, as every Cognito call this tool makes only reads.
func truncatedResponse(err error) aws.Ternary {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) {
		return aws.TrueTernary
	}
	return aws.UnknownTernary
}

// attemptMiddleware runs once per attempt, inside the SDK's retry loop.
type attemptMiddleware struct {
	limits  *ratelimit.Set
	calls   *Calls
	timeout time.Duration
}

func (*attemptMiddleware) ID() string { return "CognitoExportAttempt" }

func (m *attemptMiddleware) HandleFinalize(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
	op := awsmw.GetOperationName(ctx)
	lim := m.limits.For(op)
	if err := lim.Wait(ctx); err != nil {
		return middleware.FinalizeOutput{}, middleware.Metadata{}, fmt.Errorf("wait for %s quota: %w", op, err)
	}
	if m.calls != nil {
		m.calls.counter(op).Add(1)
		if n, ok := middleware.GetStackValue(ctx, attemptKey{}).(*int); ok {
			if *n++; *n > 1 {
				m.calls.retries.Add(1)
			}
		}
	}
	callCtx := ctx
	if m.timeout > 0 {
		var cancel context.CancelFunc
		callCtx, cancel = context.WithTimeout(ctx, m.timeout)
		defer cancel()
	}
	out, md, err := next.HandleFinalize(callCtx, in)
	now := time.Now()
	if err != nil && fault.Classify(err) == fault.Throttled {
		lim.Throttled(now)
		if m.calls != nil {
			m.calls.throttles.Add(1)
			m.calls.counterIn(&m.calls.throttlesOf, op).Add(1)
		}
	} else if err == nil {
		lim.Succeeded(now)
	}
	if err != nil && callCtx.Err() != nil && ctx.Err() == nil {
		// The attempt timed out, not the job: let the retryer try again.
		err = attemptTimeout{fmt.Errorf("%s attempt timed out after %s: %w", op, m.timeout, err)}
	}
	return out, md, err
}

// attemptTimeout is retryable: the SDK's retryer honours RetryableError().
type attemptTimeout struct{ error }

func (attemptTimeout) RetryableError() bool { return true }
func (e attemptTimeout) Unwrap() error      { return e.error }

// attemptKey holds a per-call attempt counter, set outside the retry loop so
// that the per-attempt middleware can tell retries from first attempts.
type attemptKey struct{}

var attemptCounter = middleware.FinalizeMiddlewareFunc("CognitoExportAttemptCounter",
	func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
		return next.HandleFinalize(middleware.WithStackValue(ctx, attemptKey{}, new(int)), in)
	})

// ListGroups returns every group of the pool, in ListGroups order.
func ListGroups(ctx context.Context, client interface {
	ListGroups(ctx context.Context, in *cip.ListGroupsInput, optFns ...func(*cip.Options)) (*cip.ListGroupsOutput, error)
}, poolID string) ([]types.GroupType, error) {
	var groups []types.GroupType
	var token *string
	for {
		resp, err := client.ListGroups(ctx, &cip.ListGroupsInput{
			UserPoolId: aws.String(poolID), Limit: aws.Int32(MaxPageSize), NextToken: token,
		})
		if err != nil {
			return nil, Explain("ListGroups", err)
		}
		groups = append(groups, resp.Groups...)
		if token = resp.NextToken; token == nil || *token == "" {
			return groups, nil
		}
	}
}

// assumeRole is the credentials of cc.RoleARN, assumed with awsCfg's.
func assumeRole(awsCfg aws.Config, cc Config) aws.CredentialsProvider {
	provider := stscreds.NewAssumeRoleProvider(sts.NewFromConfig(awsCfg), cc.RoleARN, func(o *stscreds.AssumeRoleOptions) {
		o.RoleSessionName = cmp.Or(cc.SessionName, "cognito-export")
		if cc.ExternalID != "" {
			o.ExternalID = aws.String(cc.ExternalID)
		}
	})
	// The window is applied by roleProvider, which knows each session's
	// lifetime; the cache renews when the shortened expiry passes.
	return aws.NewCredentialsCache(roleProvider{provider, cc.RoleARN})
}

// roleProvider names the role in a failure to assume it.
type roleProvider struct {
	aws.CredentialsProvider
	role string
}

func (r roleProvider) Retrieve(ctx context.Context) (aws.Credentials, error) {
	c, err := r.CredentialsProvider.Retrieve(ctx)
	if err != nil {
		return c, &AssumeRoleError{Role: r.role, Err: err}
	}
	if c.CanExpire {
		c.Expires = c.Expires.Add(-renewEarly(time.Until(c.Expires)))
	}
	return c, nil
}

// renewEarly is how long before they expire a role's credentials are
// renewed: a minute, so that a call never goes out with credentials about
// to expire, or a quarter of a shorter lifetime, so that such credentials
// are still used for most of it rather than renewed for every call (STS
// issues 15 minutes at least; an emulator may issue seconds).
func renewEarly(lifetime time.Duration) time.Duration {
	return max(0, min(time.Minute, lifetime/4))
}

// AssumeRoleError is a role that could not be assumed.
type AssumeRoleError struct {
	Role string
	Err  error
}

func (e *AssumeRoleError) Error() string {
	what := "check the role exists and its trust policy lets this account assume it (with the external id, if it asks for one), and that this account may call sts:AssumeRole on it"
	if code := fault.Code(e.Err); code != "" {
		return fmt.Sprintf("assume role %s: %s: %s", e.Role, code, what)
	}
	return fmt.Sprintf("assume role %s: %v", e.Role, e.Err)
}

func (e *AssumeRoleError) Unwrap() error { return e.Err }
