package export

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"golang.org/x/sync/errgroup"

	"github.com/cognito-export/cognito-export/checkpoint"
	"github.com/cognito-export/cognito-export/cognito"
	"github.com/cognito-export/cognito-export/fault"
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

// byGroupJob is one run of the by-group strategy. Its group phase pages
// through each group's members, several groups at once, and commits a
// cursor per group; its ListUsers pass then adds the users without groups:
//
//	ListGroups ──► N member lists (ListUsersInGroup) ──► pages ──► committer ──► parts + checkpoint
//	ListUsers pages ──► users not met in any group ──► committer ──► parts + checkpoint
type byGroupJob struct {
	cfg       Config
	client    groupReader
	out       Output
	store     *checkpoint.Store
	state     *checkpoint.State
	restarted atomic.Bool       // some member list or the ListUsers pass started again
	members   *userSet          // users with groups, once the group phase is done
	phase     func(name string) // called as each phase starts
}

func newByGroupJob(cfg Config, client groupReader, out Output, store *checkpoint.Store, st *checkpoint.State) *byGroupJob {
	return &byGroupJob{cfg: cfg, client: client, out: out, store: store, state: st}
}

func (j *byGroupJob) run(ctx context.Context) error {
	if j.phase == nil {
		j.phase = j.cfg.Progress.entered
	}
	if !j.state.GroupsDone {
		j.phase(PhaseGroups)
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
	cfg.Logger.Info("listing the users without groups", "users_with_groups", members.Len(), "set_bytes", members.SizeBytes())
	lj, err := newUserListJob(cfg, j.client, j.out, j.store, j.state)
	if err != nil {
		return err
	}
	// A resumed pass has listed about its committed pages' worth.
	j.cfg.Progress.setListed(j.state.Pages * int64(j.cfg.PageSize))
	j.phase(PhaseUsers)
	lj.rowsOf = func(_ context.Context, p *page, u types.UserType) (userResult, error) {
		res := userResult{page: p, user: aws.ToString(u.Username)}
		if !members.Contains(checkpoint.UserHash(res.user)) {
			res.rows, res.counted = []sink.Row{lj.userRow(u)}, true
		}
		return res, nil
	}
	err = lj.run(ctx)
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
	groups, err := cognito.ListGroups(ctx, j.client, j.cfg.UserPoolID)
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

	cfg := j.cfg
	cfg.Logger = log
	gc, err := newCommitter(cfg, j.out, j.store, j.state, doneMembers)
	if err != nil {
		return err
	}
	c := &groupCommitter{committer: gc, plan: plan}
	c.dirty = len(plan) != len(j.state.Groups)
	// Read now: once pages flow, the committer owns the state.
	files := slices.Clone(j.state.MemberFiles)
	produce := func(ctx context.Context, pages chan<- groupPage) error {
		lists, lctx := errgroup.WithContext(ctx)
		lists.SetLimit(j.cfg.Concurrency)
		for i, cur := range plan {
			if cur.Done {
				continue
			}
			lists.Go(func() error { return j.exportGroup(lctx, c.committer, files, i, cur, meta[cur.Name], pages) })
		}
		return lists.Wait()
	}
	final := func(ctx context.Context, complete bool) error {
		if err := c.commitCursors(ctx); err != nil || !complete {
			return err
		}
		return j.finishGroups(ctx, c)
	}
	return pipeline(ctx, c.committer, 2*j.cfg.Concurrency, produce, c.add, final)
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
		st.Users += int64(members.Len())
		st.Listed = !j.cfg.UsersWithoutGroups
	})
	if err == nil {
		// The group phase's users are counted only now.
		j.cfg.Progress.written(j.state.Users, j.state.Rows, j.state.Skipped)
	}
	j.members = members
	return err
}

// usersWithGroups returns the distinct users of the committed members
// files, read once, as a compact set.
func (j *byGroupJob) usersWithGroups(ctx context.Context) (*userSet, error) {
	if j.cfg.Memory != nil {
		// While it merges, the builder holds the set twice and its buffer;
		// the rows so far bound the users from above.
		j.cfg.Memory.HoldFlat(2*userSetBytes(j.state.Rows)+8*builderBuffer, "by-group members set")
	}
	var users userSetBuilder
	add := func(_, user uint64) { users.Add(user) }
	err := readHashes(ctx, j.out, j.state.MemberFiles, func(data []byte) error { return checkpoint.DecodePairs(data, add) })
	if err != nil {
		return nil, err
	}
	return users.Set(), nil
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
	list := &resumedList{}
	if cur.Token != "" {
		list.token = aws.String(cur.Token)
	}
	committed := func(ctx context.Context) (map[uint64]struct{}, error) { return j.committedMembers(ctx, files, name) }
	if cur.Restarted {
		// Listed again from the start by an earlier run: its committed
		// members are still to be skipped.
		skip, err := committed(ctx)
		if err != nil {
			return err
		}
		list.skip = skip
	}
	for {
		resp, err := j.client.ListUsersInGroup(ctx, &cip.ListUsersInGroupInput{
			UserPoolId: aws.String(j.cfg.UserPoolID), GroupName: aws.String(name),
			Limit: aws.Int32(j.cfg.PageSize), NextToken: list.token,
		})
		again, err := list.restart(ctx, err, j.cfg.Logger.With("phase", "groups", "group", name),
			"the saved ListUsersInGroup token was rejected; listing the group again and skipping committed members", committed)
		restarted := list.skip != nil
		switch {
		case again:
			j.restarted.Store(true)
			continue
		case err != nil && fault.NotFound(err):
			j.cfg.Logger.Warn("group deleted during the export; its remaining members are not exported", "phase", "groups", "group", name)
			return send(ctx, out, groupPage{group: idx, restarted: restarted})
		case err != nil:
			if ctx.Err() != nil {
				return context.Cause(ctx)
			}
			return fmt.Errorf("list users in group %q: %w", name, cognito.Explain("ListUsersInGroup", err))
		}
		p := groupPage{group: idx, restarted: restarted, next: resp.NextToken}
		if p.next != nil && *p.next == "" {
			p.next = nil
		}
		for i := range resp.Users {
			u := &resp.Users[i]
			if list.committed(aws.ToString(u.Username)) {
				continue
			}
			p.rows = append(p.rows, withGroup(userRow(j.cfg.UserPoolID, u, c.exportedAt, j.cfg.attrs.extract), group))
		}
		if err := send(ctx, out, p); err != nil {
			return err
		}
		if p.next == nil {
			return nil
		}
		list.token = p.next
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
