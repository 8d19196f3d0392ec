package cognito

import (
	"context"
	"errors"
	"fmt"
	"iter"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
)

// MaxPageSize is the largest Limit Cognito accepts on its list operations.
const MaxPageSize = 60

// PaginationConfig is boto3's PaginationConfig.
type PaginationConfig struct {
	MaxItems      int    // total items across pages; 0 means no cap
	PageSize      int32  // the request's Limit, 1..60; 0 leaves it to the service
	StartingToken string // a resume token from boto3, the AWS CLI or ResumeToken
}

// GroupsLister is the one call the groups paginator makes.
type GroupsLister interface {
	AdminListGroupsForUser(ctx context.Context, in *cip.AdminListGroupsForUserInput, optFns ...func(*cip.Options)) (*cip.AdminListGroupsForUserOutput, error)
}

// GroupsPaginator is boto3's Paginator.AdminListGroupsForUser: it pages
// through one user's groups and, when MaxItems stops it inside a page, leaves
// a botocore resume token that continues at exactly the next group.
type GroupsPaginator struct {
	client   GroupsLister
	poolID   string
	username string
	pager    botoPager
}

// NewGroupsPaginator validates cfg and returns a paginator; no call is made yet.
func NewGroupsPaginator(client GroupsLister, poolID, username string, cfg PaginationConfig) (*GroupsPaginator, error) {
	p := &GroupsPaginator{client: client, poolID: poolID, username: username}
	if err := p.pager.init("NextToken", cfg); err != nil {
		return nil, err
	}
	return p, nil
}

// HasMorePages reports whether NextPage would make another call.
func (p *GroupsPaginator) HasMorePages() bool { return !p.pager.done }

// NextPage fetches the next page of groups.
func (p *GroupsPaginator) NextPage(ctx context.Context) ([]types.GroupType, error) {
	if p.pager.done {
		return nil, errors.New("no more pages")
	}
	out, err := p.client.AdminListGroupsForUser(ctx, &cip.AdminListGroupsForUserInput{
		UserPoolId: aws.String(p.poolID),
		Username:   aws.String(p.username),
		Limit:      p.pager.limit(),
		NextToken:  p.pager.token(),
	})
	if err != nil {
		return nil, err
	}
	keep, err := p.pager.advance(len(out.Groups), out.NextToken)
	if err != nil {
		return nil, err
	}
	return out.Groups[keep.from:keep.to], nil
}

// Pages iterates over the pages; iteration stops after the first error.
func (p *GroupsPaginator) Pages(ctx context.Context) iter.Seq2[[]types.GroupType, error] {
	return func(yield func([]types.GroupType, error) bool) {
		for p.HasMorePages() {
			groups, err := p.NextPage(ctx)
			if !yield(groups, err) || err != nil {
				return
			}
		}
	}
}

// ResumeToken is botocore's resume token once MaxItems has stopped the
// paginator before the end, and "" otherwise.
func (p *GroupsPaginator) ResumeToken() string { return p.pager.resume }

// botoPager holds the state machine of botocore's PageIterator, independent of
// the operation, so that its subtle parts (left truncation on the first page,
// right truncation at MaxItems, the repeated-token guard) live in one place.
type botoPager struct {
	key        string
	pageSize   int32
	maxItems   int
	current    *string // service token of the request about to be made
	previous   *string // service token returned by the previous page
	startTrunc int     // items to drop from the first page (resume inside a page)
	first      bool
	total      int
	done       bool
	resume     string
}

type span struct{ from, to int }

func (b *botoPager) init(key string, cfg PaginationConfig) error {
	if cfg.PageSize < 0 || cfg.PageSize > MaxPageSize {
		return fmt.Errorf("page size %d out of range: Cognito accepts 1..%d", cfg.PageSize, MaxPageSize)
	}
	if cfg.MaxItems < 0 {
		return fmt.Errorf("max items %d must not be negative", cfg.MaxItems)
	}
	*b = botoPager{key: key, pageSize: cfg.PageSize, maxItems: cfg.MaxItems, first: true}
	if cfg.StartingToken != "" {
		t, err := decodeResumeToken(cfg.StartingToken, key)
		if err != nil {
			return err
		}
		b.current, b.startTrunc = t.service, t.truncate
	}
	return nil
}

func (b *botoPager) limit() *int32 {
	if b.pageSize == 0 {
		return nil
	}
	return aws.Int32(b.pageSize)
}

func (b *botoPager) token() *string { return b.current }

// advance takes a page of n items and the service's next token, and returns
// which items of the page belong to the caller.
func (b *botoPager) advance(n int, next *string) (span, error) {
	keep := span{0, n}
	trunc := 0
	if b.first {
		b.first = false
		trunc = min(b.startTrunc, n)
		keep.from = trunc
	}
	got := keep.to - keep.from
	if b.maxItems > 0 && b.total+got > b.maxItems {
		keep.to = keep.from + (b.maxItems - b.total)
		b.resume = resumeToken{key: b.key, service: b.current, truncate: keep.to}.encode()
		b.done = true
		return keep, nil
	}
	b.total += got
	if next == nil || *next == "" {
		b.done = true
		return keep, nil
	}
	if b.maxItems > 0 && b.total == b.maxItems {
		b.resume = resumeToken{key: b.key, service: next}.encode()
		b.done = true
		return keep, nil
	}
	if b.previous != nil && *b.previous == *next {
		b.done = true
		return keep, fmt.Errorf("the same next token was received twice: %.12s…", *next)
	}
	b.previous, b.current = next, next
	return keep, nil
}
