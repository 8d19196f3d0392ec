package export

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"golang.org/x/sync/errgroup"

	"github.com/cognito-export/cognito-export/checkpoint"
	"github.com/cognito-export/cognito-export/sink"
)

// groupLister lists the pool's groups.
type groupLister interface {
	ListGroups(ctx context.Context, in *cip.ListGroupsInput, optFns ...func(*cip.Options)) (*cip.ListGroupsOutput, error)
}

// groupReader is what the by-group strategy calls.
type groupReader interface {
	cognitoReader
	groupLister
	ListUsersInGroup(ctx context.Context, in *cip.ListUsersInGroupInput, optFns ...func(*cip.Options)) (*cip.ListUsersInGroupOutput, error)
}

// listGroups returns every group of the pool, in ListGroups order.
func listGroups(ctx context.Context, client groupLister, poolID string) ([]types.GroupType, error) {
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

// byGroupJob is one run of the by-group strategy. Its group phase pages
// through each group's members, several groups at once, and commits a
// cursor per group; its ListUsers pass then adds the users without groups:
//
//	ListGroups ──► N member lists (ListUsersInGroup) ──► pages ──► committer ──► parts + checkpoint
//	ListUsers pages ──► users not met in any group ──► committer ──► parts + checkpoint
type byGroupJob struct {
	cfg       Config
	client    groupReader
	out       output
	store     *checkpoint.Store
	state     *checkpoint.State
	restarted atomic.Bool // some member list or the ListUsers pass started again
	members   []uint64    // users with groups, once the group phase is done
}

func newByGroupJob(cfg Config, client groupReader, out output, store *checkpoint.Store, st *checkpoint.State) *byGroupJob {
	return &byGroupJob{cfg: cfg, client: client, out: out, store: store, state: st}
}

func (j *byGroupJob) run(ctx context.Context) error {
	if !j.state.GroupsDone {
		if err := j.groupPhase(ctx); err != nil {
			return err
		}
	}
	if j.state.Listed {
		return nil
	}
	members := j.members
	if members == nil {
		// Resumed after the group phase: the users that have groups are
		// in the committed members files.
		var err error
		if members, err = j.usersWithGroups(ctx); err != nil {
			return err
		}
	}
	cfg := j.cfg
	cfg.Logger = cfg.Logger.With("phase", "users")
	cfg.Logger.Info("listing the users without groups", "users_with_groups", len(members))
	lj := newUserListJob(cfg, j.client, j.out, j.store, j.state)
	lj.rowsOf = func(_ context.Context, p *page, u types.UserType) (userResult, error) {
		res := userResult{page: p, user: aws.ToString(u.Username)}
		if _, found := slices.BinarySearch(members, checkpoint.UserHash(res.user)); !found {
			res.rows, res.counted = []sink.Row{lj.userRow(u)}, true
		}
		return res, nil
	}
	err := lj.run(ctx)
	if lj.restarted {
		j.restarted.Store(true)
	}
	return err
}

// groupPage is one ListUsersInGroup page of rows, and where its group's
// member list continues.
type groupPage struct {
	group     int // index in the plan
	rows      []sink.Row
	next      *string // nil after the last page
	restarted bool
}

// groupPhase exports every group's members, resuming each group at its
// committed cursor.
func (j *byGroupJob) groupPhase(ctx context.Context) error {
	log := j.cfg.Logger.With("phase", "groups")
	groups, err := listGroups(ctx, j.client, j.cfg.UserPoolID)
	if err != nil {
		if ctx.Err() != nil {
			return context.Cause(ctx) // stopped from outside: say why
		}
		return err
	}
	meta := make(map[string]*types.GroupType, len(groups))
	for i := range groups {
		meta[aws.ToString(groups[i].GroupName)] = &groups[i]
	}
	// The plan is fixed by the first run; groups created since are added
	// at its end, groups deleted since are finished as they are.
	plan := slices.Clone(j.state.Groups)
	planned := make(map[string]bool, len(plan))
	for i := range plan {
		planned[plan[i].Name] = true
		if meta[plan[i].Name] == nil && !plan[i].Done {
			log.Warn("group deleted since the export started; its members not yet exported are not", "group", plan[i].Name)
			plan[i].Done = true
		}
	}
	for _, g := range groups {
		if name := aws.ToString(g.GroupName); !planned[name] {
			plan = append(plan, checkpoint.GroupCursor{Name: name})
		}
	}
	log.Info("exporting the members of each group", "groups", len(plan))

	c := &groupCommitter{committer: newCommitter(j.cfg, j.out, j.store, j.state, doneMembers), plan: plan}
	c.dirty = len(plan) != len(j.state.Groups)
	// Read now: once pages flow, the committer owns the state.
	files := slices.Clone(j.state.MemberFiles)
	pages := make(chan groupPage, 2*j.cfg.Concurrency)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		defer close(pages)
		lists, lctx := errgroup.WithContext(gctx)
		lists.SetLimit(j.cfg.Concurrency)
		for i, cur := range plan {
			if cur.Done {
				continue
			}
			lists.Go(func() error { return j.exportGroup(lctx, c.committer, files, i, cur, meta[cur.Name], pages) })
		}
		return lists.Wait()
	})
	g.Go(func() error { return c.run(gctx, pages) })
	err = g.Wait()
	final, cancel := context.WithTimeout(context.WithoutCancel(ctx), j.cfg.StopTimeout)
	defer cancel()
	if cerr := c.final(final, err == nil, func() error { return j.finishGroups(final, c) }); cerr != nil {
		return errors.Join(err, cerr)
	}
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	return err
}

// finishGroups is the group phase's last commit: it counts the users that
// have groups, and skips the ListUsers pass when no one wants the users
// without groups.
func (j *byGroupJob) finishGroups(ctx context.Context, c *groupCommitter) error {
	// Every page is committed by now, so the members files are complete.
	members, err := j.usersWithGroups(ctx)
	if err != nil {
		return err
	}
	err = c.commit(ctx, func(st *checkpoint.State) {
		st.Groups = slices.Clone(c.plan)
		st.GroupsDone = true
		st.Users += int64(len(members))
		st.Listed = !j.cfg.UsersWithoutGroups
	})
	j.members = members
	return err
}

// usersWithGroups returns the sorted, distinct user hashes of the committed
// members files: 8 bytes a user, read once.
func (j *byGroupJob) usersWithGroups(ctx context.Context) ([]uint64, error) {
	var users []uint64
	add := func(_, user uint64) { users = append(users, user) }
	err := readHashes(ctx, j.out, j.state.MemberFiles, func(data []byte) error { return checkpoint.DecodePairs(data, add) })
	if err != nil {
		return nil, err
	}
	slices.Sort(users)
	return slices.Compact(users), nil
}

// committedMembers returns the users of group already committed, for a
// member list that starts again after its token was rejected.
func (j *byGroupJob) committedMembers(ctx context.Context, files []string, group string) (map[uint64]struct{}, error) {
	want := checkpoint.MemberHash(group)
	set := map[uint64]struct{}{}
	err := readHashes(ctx, j.out, files, func(data []byte) error {
		return checkpoint.DecodePairs(data, func(g, u uint64) {
			if g == want {
				set[u] = struct{}{}
			}
		})
	})
	return set, err
}

// exportGroup pages through one group's members from its cursor.
// files are the members files committed before this run.
func (j *byGroupJob) exportGroup(ctx context.Context, c *committer, files []string, idx int, cur checkpoint.GroupCursor, group *types.GroupType, out chan<- groupPage) error {
	name := cur.Name
	var skip map[uint64]struct{}
	var err error
	if cur.Restarted {
		if skip, err = j.committedMembers(ctx, files, name); err != nil {
			return err
		}
	}
	var token *string
	if cur.Token != "" {
		token = aws.String(cur.Token)
	}
	restarted, first := cur.Restarted, true
	for {
		resp, err := j.client.ListUsersInGroup(ctx, &cip.ListUsersInGroupInput{
			UserPoolId: aws.String(j.cfg.UserPoolID), GroupName: aws.String(name),
			Limit: aws.Int32(j.cfg.PageSize), NextToken: token,
		})
		switch {
		case err != nil && first && token != nil && KindOf(err) == KindUsage:
			// Cognito rejected the saved token (they expire): list the
			// group again and skip the members already committed.
			j.cfg.Logger.Warn("the saved ListUsersInGroup token was rejected; listing the group again and skipping committed members",
				"phase", "groups", "group", name, "error", err.Error())
			if skip, err = j.committedMembers(ctx, files, name); err != nil {
				return err
			}
			j.restarted.Store(true)
			restarted, token, first = true, nil, false
			continue
		case err != nil && notFound(err):
			j.cfg.Logger.Warn("group deleted during the export; its remaining members are not exported", "phase", "groups", "group", name)
			return send(ctx, out, groupPage{group: idx, restarted: restarted})
		case err != nil:
			if ctx.Err() != nil {
				return context.Cause(ctx)
			}
			return fmt.Errorf("list users in group %q: %w", name, Explain("ListUsersInGroup", err))
		}
		first = false
		p := groupPage{group: idx, restarted: restarted, next: resp.NextToken}
		if p.next != nil && *p.next == "" {
			p.next = nil
		}
		for i := range resp.Users {
			u := &resp.Users[i]
			if _, done := skip[checkpoint.UserHash(aws.ToString(u.Username))]; done {
				continue
			}
			p.rows = append(p.rows, withGroup(userRow(j.cfg.UserPoolID, u, c.exportedAt), group))
		}
		if err := send(ctx, out, p); err != nil {
			return err
		}
		if p.next == nil {
			return nil
		}
		token = p.next
	}
}

// groupCommitter writes member pages as they come, from any group, and
// keeps each group's cursor at its last written page; a checkpoint saves
// the cursors of what it made durable.
type groupCommitter struct {
	*committer
	plan  []checkpoint.GroupCursor
	dirty bool // pages written since the last checkpoint
}

func (c *groupCommitter) run(ctx context.Context, in <-chan groupPage) error {
	sinkCtx, cancel := detach(ctx, c.cfg.StopTimeout)
	defer cancel()
	for {
		select {
		case p, ok := <-in:
			if !ok {
				return nil
			}
			if err := c.add(sinkCtx, p); err != nil {
				c.fail(sinkCtx)
				return err
			}
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
}

func (c *groupCommitter) add(ctx context.Context, p groupPage) error {
	cur := &c.plan[p.group]
	if err := c.write(ctx, p.rows); err != nil {
		return err
	}
	gh := checkpoint.MemberHash(cur.Name)
	for i := range p.rows {
		c.hashes = append(c.hashes, gh, checkpoint.UserHash(p.rows[i].Username))
	}
	cur.Pages++
	cur.Token, cur.Done, cur.Restarted = aws.ToString(p.next), p.next == nil, p.restarted
	c.dirty = true
	if c.due() {
		return c.commitCursors(ctx)
	}
	return nil
}

func (c *groupCommitter) commitCursors(ctx context.Context) error {
	if !c.dirty {
		return nil
	}
	err := c.commit(ctx, func(st *checkpoint.State) { st.Groups = slices.Clone(c.plan) })
	if err == nil {
		c.dirty = false
	}
	return err
}

// final commits what is written when the phase ends; complete says every
// group's member list was written, and then finish makes the last commit.
func (c *groupCommitter) final(ctx context.Context, complete bool, finish func() error) error {
	if c.failed {
		return nil // the checkpoint stays at the last good commit
	}
	err := c.commitCursors(ctx)
	if err == nil && complete {
		err = finish()
	}
	if err != nil {
		c.writer.Abort(ctx)
		return fmt.Errorf("final checkpoint: %w", err)
	}
	return nil
}
