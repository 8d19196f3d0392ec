package export

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"golang.org/x/sync/errgroup"

	"github.com/cognito-export/cognito-export/checkpoint"
	"github.com/cognito-export/cognito-export/cognito"
	"github.com/cognito-export/cognito-export/fault"
	"github.com/cognito-export/cognito-export/identity"
	"github.com/cognito-export/cognito-export/sink"
)

// userLister is the one call the producer makes.
type userLister interface {
	ListUsers(ctx context.Context, in *cip.ListUsersInput, optFns ...func(*cip.Options)) (*cip.ListUsersOutput, error)
}

// cognitoReader is what the per-user strategy calls.
type cognitoReader interface {
	userLister
	cognito.GroupsLister
}

// page is one ListUsers page in flight. Its rows are written only once every
// user of it is done, so a part always ends on a page boundary and the
// checkpoint watermark is simply the token of the next page.
type page struct {
	seq   int64
	next  *string // token of the following page; nil on the last
	items int     // users to wait for (1 for a page with none, so it still passes through)
}

// job is one run of the per-user strategy, and of the by-group strategy's
// ListUsers pass, which differ only in what a worker does with a user:
//
//	ListUsers pages ──► users (bounded) ──► N workers ──► results ──► committer ──► parts + checkpoint
type job struct {
	cfg    Config
	log    *slog.Logger
	client cognitoReader
	commit *pageCommitter
	// rowsOf turns one listed user into its rows.
	rowsOf func(ctx context.Context, p *page, u types.UserType) (userResult, error)
	// slots bounds the pages in flight, and so the rows the committer
	// holds back while it waits for the oldest page to finish.
	slots     chan struct{}
	restarted bool
}

type work struct {
	page *page
	user *types.UserType // nil for a page without users
}

// userResult is every row of one user, so that the committer sees users whole.
type userResult struct {
	page    *page
	user    string
	rows    []sink.Row
	skipped bool // deleted after it was listed
	counted bool // a user of this listing's count; false when the group phase had it
}

// newUserListJob returns the pipeline over the ListUsers pages; rowsOf is
// set by the strategy.
func newUserListJob(cfg Config, client cognitoReader, out Output, store *checkpoint.Store, st *checkpoint.State) (*job, error) {
	// The committer stops reading results while the encoder flushes a
	// batch (~13 ms for 8,192 Parquet rows); the extra pages in flight and
	// the results buffer (see run) keep the workers busy meanwhile.
	inFlight := 8 + (2*cfg.Concurrency+int(cfg.PageSize)-1)/int(cfg.PageSize)
	slots := make(chan struct{}, inFlight)
	c, err := newCommitter(cfg, out, store, st, doneUsers)
	if err != nil {
		return nil, err
	}
	return &job{cfg: cfg, log: cfg.Logger, client: client, commit: newPageCommitter(c, slots), slots: slots}, nil
}

// resultsBuffer holds the users finished while the committer flushes.
const resultsBuffer = 512

// newPerUserJob asks AdminListGroupsForUser for the groups of every user.
func newPerUserJob(cfg Config, client cognitoReader, out Output, store *checkpoint.Store, st *checkpoint.State) (*job, error) {
	j, err := newUserListJob(cfg, client, out, store, st)
	if err != nil {
		return nil, err
	}
	j.rowsOf = j.exportUser
	return j, nil
}

func (j *job) run(ctx context.Context) error {
	if j.commit.state.Listed {
		return nil // a run was killed between its last checkpoint and the manifest
	}
	return pipeline(ctx, j.commit.committer, resultsBuffer, j.produce, j.commit.add, j.commit.final)
}

// produce lists the users and fans them out to the workers, whose results
// go to the committer.
func (j *job) produce(ctx context.Context, results chan<- userResult) error {
	g, gctx := errgroup.WithContext(ctx)
	users := make(chan work, 2*j.cfg.Concurrency)
	g.Go(func() error {
		defer close(users)
		return j.listUsers(gctx, users)
	})
	for range j.cfg.Concurrency {
		g.Go(func() error { return j.work(gctx, users, results) })
	}
	return g.Wait()
}

func (j *job) listUsers(ctx context.Context, out chan<- work) error {
	st := j.commit.state
	var token *string
	if st.Watermark != "" {
		token = aws.String(st.Watermark)
	} else if st.Pages > 0 {
		return fmt.Errorf("%w: %d pages committed but no watermark to continue from: pass --fresh to start over", checkpoint.ErrCorrupt, st.Pages)
	}
	// The lister reads the committer's state only here, before any page of
	// this run exists: later the committer is writing it.
	committedUsers, doneFiles := st.Users+st.Skipped, st.DoneFiles
	list := &resumedList{token: token}
	seq := st.Pages
	for {
		select {
		case j.slots <- struct{}{}:
		case <-ctx.Done():
			return context.Cause(ctx)
		}
		resp, err := j.client.ListUsers(ctx, &cip.ListUsersInput{
			UserPoolId:      aws.String(j.cfg.UserPoolID),
			Limit:           aws.Int32(j.cfg.PageSize),
			PaginationToken: list.token,
			AttributesToGet: j.cfg.attrs.attributesToGet,
			Filter:          filter(j.cfg.Filter),
		})
		again, err := list.restart(ctx, err, j.log.With("committed_users", committedUsers),
			"the saved ListUsers token was rejected; restarting the listing and skipping committed users",
			func(ctx context.Context) (map[uint64]struct{}, error) {
				return j.commit.loadDone(ctx, doneFiles, committedUsers)
			})
		if again {
			j.restarted = true
			<-j.slots
			continue
		}
		if err != nil {
			return cognito.Explain("ListUsers", err)
		}
		next := resp.PaginationToken
		if next != nil && *next == "" {
			next = nil
		}
		todo := resp.Users
		if list.skip != nil {
			todo = todo[:0:0]
			for _, u := range resp.Users {
				if !list.committed(aws.ToString(u.Username)) {
					todo = append(todo, u)
				}
			}
		}
		p := &page{seq: seq, next: next, items: max(1, len(todo))}
		if len(todo) == 0 {
			if err := send(ctx, out, work{page: p}); err != nil {
				return err
			}
		}
		for i := range todo {
			if err := send(ctx, out, work{page: p, user: &todo[i]}); err != nil {
				return err
			}
		}
		if next == nil {
			return nil
		}
		list.token, seq = next, seq+1
	}
}

func send[T any](ctx context.Context, ch chan<- T, v T) error {
	select {
	case ch <- v:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

func (j *job) work(ctx context.Context, in <-chan work, out chan<- userResult) error {
	for w := range in {
		res := userResult{page: w.page}
		if w.user != nil {
			var err error
			if res, err = j.rowsOf(ctx, w.page, *w.user); err != nil {
				return err
			}
		}
		if err := send(ctx, out, res); err != nil {
			return err
		}
	}
	return nil
}

func (j *job) exportUser(ctx context.Context, p *page, u types.UserType) (userResult, error) {
	username := aws.ToString(u.Username)
	base := j.userRow(u)
	pager, err := cognito.NewGroupsPaginator(j.client, j.cfg.UserPoolID, username, cognito.PaginationConfig{PageSize: j.cfg.PageSize})
	if err != nil {
		return userResult{}, err
	}
	res := userResult{page: p, user: username, counted: true}
	for groups, err := range pager.Pages(ctx) {
		if err != nil {
			if fault.KindOf(err) == fault.UserGone {
				j.log.Warn("user deleted during the export; skipped", "username", username)
				res.skipped, res.rows = true, nil
				return res, nil
			}
			if ctx.Err() != nil {
				return userResult{}, context.Cause(ctx)
			}
			return userResult{}, fmt.Errorf("list groups for %q: %w", username, cognito.Explain("AdminListGroupsForUser", err))
		}
		for i := range groups {
			res.rows = append(res.rows, withGroup(base, &groups[i]))
		}
	}
	if len(res.rows) == 0 && j.cfg.UsersWithoutGroups {
		res.rows = append(res.rows, base)
	}
	return res, nil
}

func (j *job) userRow(u types.UserType) sink.Row {
	return userRow(j.cfg.UserPoolID, &u, j.commit.exportedAt, j.cfg.attrs.extract)
}

// filter is ListUsers' Filter: nil when there is none.
func filter(expr string) *string {
	if expr == "" {
		return nil
	}
	return aws.String(expr)
}

// userRow is the user's half of a row, as ListUsers and ListUsersInGroup
// describe users alike; x keeps the exported attributes of the ones they
// return.
func userRow(poolID string, u *types.UserType, exportedAt time.Time, x *identity.Extractor) sink.Row {
	r := sink.Row{
		UserPoolID:           poolID,
		Username:             aws.ToString(u.Username),
		UserStatus:           string(u.UserStatus),
		UserEnabled:          u.Enabled,
		UserCreateDate:       aws.ToTime(u.UserCreateDate),
		UserLastModifiedDate: aws.ToTime(u.UserLastModifiedDate),
		ExportedAt:           exportedAt,
	}
	for _, a := range u.Attributes {
		if aws.ToString(a.Name) == "sub" {
			r.UserSub = aws.ToString(a.Value)
		}
	}
	r.Attrs = x.Values(u.Attributes)
	return r
}

// withGroup completes a user's row with one of its groups.
func withGroup(r sink.Row, g *types.GroupType) sink.Row {
	r.GroupName = aws.ToString(g.GroupName)
	r.GroupDescription = g.Description
	r.GroupRoleArn = g.RoleArn
	r.GroupPrecedence = g.Precedence
	r.GroupCreationDate = aws.ToTime(g.CreationDate)
	r.GroupLastModifiedDate = aws.ToTime(g.LastModifiedDate)
	return r
}
