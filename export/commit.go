package export

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/cognito-export/cognito-export/checkpoint"
	"github.com/cognito-export/cognito-export/sink"
	"golang.org/x/sync/errgroup"
)

// committer owns the sink writer and the commit protocol that every strategy
// shares: part closed and durable first, then the checkpoint that names it.
// A part no checkpoint names is an orphan. What a checkpoint's position
// means (a ListUsers page, a group's member list) is up to the caller, which
// passes it to commit as a function that moves the saved state forward.
type committer struct {
	cfg        Config
	log        *slog.Logger
	out        Output
	store      *checkpoint.Store
	state      *checkpoint.State
	writer     *sink.Writer
	exportedAt time.Time

	// Uncommitted progress since the last checkpoint.
	users, rows, skipped int64
	// hashes are written as one hash file per commit, for a resume whose
	// pagination token is rejected; hashKind says which list they join.
	hashes     []uint64
	hashKind   hashKind
	lastCommit time.Time
	failed     bool // the sink failed: never commit after that
}

// hashKind names a family of hash files: what each 8-byte entry identifies,
// how the files are named and which checkpoint list names them.
type hashKind struct {
	name  func(seq int) string
	files func(*checkpoint.State) *[]string
}

var (
	// doneUsers: one hash per user committed from a ListUsers page.
	doneUsers = hashKind{doneName, func(st *checkpoint.State) *[]string { return &st.DoneFiles }}
	// doneMembers: (group, user) hash pairs committed from member lists.
	doneMembers = hashKind{membersName, func(st *checkpoint.State) *[]string { return &st.MemberFiles }}
)

func newCommitter(cfg Config, out Output, store *checkpoint.Store, st *checkpoint.State, kind hashKind) (*committer, error) {
	w, err := sink.NewWriter(out, sink.WriterOptions{
		Format: cfg.Format, Compression: cfg.Compression, PartRows: cfg.PartRows, PartBytes: cfg.PartBytes,
		Name: partName(cfg.Format), FirstPart: len(st.Parts),
		Attributes: cfg.attrs.extract.Columns(), CSVRaw: cfg.CSVRaw,
	})
	if err != nil {
		return nil, fmt.Errorf("open the part writer: %w", err)
	}
	return &committer{
		cfg: cfg, log: cfg.Logger, out: out, store: store, state: st, writer: w,
		exportedAt: st.Started, hashKind: kind, lastCommit: time.Now(),
	}, nil
}

// write appends rows to the current part.
func (c *committer) write(ctx context.Context, rows []sink.Row) error {
	if err := c.writer.Write(ctx, rows); err != nil {
		return err
	}
	c.rows += int64(len(rows))
	c.cfg.Progress.written(c.state.Users+c.users, c.state.Rows+c.rows, c.state.Skipped+c.skipped)
	return nil
}

// due says a checkpoint should be taken now: the part is full or the
// checkpoint interval has passed.
func (c *committer) due() bool {
	return c.writer.Full() || c.cfg.CheckpointInterval > 0 && time.Since(c.lastCommit) >= c.cfg.CheckpointInterval
}

// fail stops all commits: the checkpoint stays at the last good one.
func (c *committer) fail(ctx context.Context) {
	c.failed = true
	c.writer.Abort(ctx)
}

// detach returns the context the committer writes, flushes and checkpoints
// under. It is not cancelled with ctx: a chunk upload under way when the
// job stops (a signal, another goroutine's error) completes instead of
// breaking the part, the stop is noticed between results, and the final
// commit then commits the part. Once ctx is done, what is under way still
// gets grace (the stop timeout) before it is cancelled too.
func detach(ctx context.Context, grace time.Duration) (context.Context, context.CancelFunc) {
	d, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stop := context.AfterFunc(ctx, func() { time.AfterFunc(grace, cancel) })
	return d, func() { stop(); cancel() }
}

// commit makes everything written so far durable, then records it in the
// checkpoint with the position advance sets. The order is the whole point:
// a crash between the two leaves a part that no checkpoint names, which the
// next run removes.
func (c *committer) commit(ctx context.Context, advance func(*checkpoint.State)) error {
	before := len(c.writer.Parts())
	if err := c.writer.Flush(ctx); err != nil {
		return err
	}
	st := *c.state
	for _, p := range c.writer.Parts()[before:] {
		st.Parts = append(st.Parts[:len(st.Parts):len(st.Parts)], checkpoint.Part(p))
	}
	if len(c.hashes) > 0 {
		files := c.hashKind.files(&st)
		name := c.hashKind.name(len(*files))
		if err := c.out.Put(ctx, name, checkpoint.EncodeDone(c.hashes)); err != nil {
			return fmt.Errorf("write done file: %w", err)
		}
		*files = append((*files)[:len(*files):len(*files)], name)
	}
	advance(&st)
	st.Users += c.users
	st.Rows += c.rows
	st.Skipped += c.skipped
	st.Saved = time.Now().UTC()
	if err := c.store.Save(ctx, &st); err != nil {
		return err
	}
	*c.state = st
	c.users, c.rows, c.skipped, c.hashes = 0, 0, 0, c.hashes[:0]
	c.lastCommit = time.Now()
	// At most one a --checkpoint-interval or a part: an operator (and a
	// test that stops the run) sees what a resume would start from.
	c.log.Info("checkpoint saved", "pages", st.Pages, "users", st.Users, "rows", st.Rows, "parts", len(st.Parts),
		"member_files", len(st.MemberFiles))
	return nil
}

// pipeline runs a strategy's producers beside the committer loop that
// feeds each of their results to add, and then, whatever stopped them (the
// end, a signal or a failure), makes the final commit. The job's context
// may be cancelled by then, so the final commit gets a bounded context of
// its own. produce returns when it will send no more.
func pipeline[T any](ctx context.Context, c *committer, buffer int,
	produce func(ctx context.Context, out chan<- T) error,
	add func(ctx context.Context, v T) error,
	final func(ctx context.Context, complete bool) error,
) error {
	g, gctx := errgroup.WithContext(ctx)
	results := make(chan T, buffer)
	g.Go(func() error {
		defer close(results)
		return produce(gctx, results)
	})
	g.Go(func() error {
		sinkCtx, cancel := detach(gctx, c.cfg.StopTimeout)
		defer cancel()
		for {
			select {
			case v, ok := <-results:
				if !ok {
					return nil
				}
				if err := add(sinkCtx, v); err != nil {
					c.fail(sinkCtx)
					return err
				}
			case <-gctx.Done():
				return context.Cause(gctx)
			}
		}
	})
	err := g.Wait()
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.cfg.StopTimeout)
	defer cancel()
	if !c.failed { // else the checkpoint stays at the last good commit
		if ferr := final(fctx, err == nil); ferr != nil {
			c.writer.Abort(fctx)
			return errors.Join(err, fmt.Errorf("final checkpoint: %w", ferr))
		}
	}
	if ctx.Err() != nil {
		// Stopped from outside: say why, not which call noticed first.
		return context.Cause(ctx)
	}
	return err
}

// readHashes reads the hash files named.
func readHashes(ctx context.Context, from checkpoint.Blob, files []string, each func(data []byte) error) error {
	for _, name := range files {
		data, err := from.Get(ctx, name)
		if err != nil {
			return fmt.Errorf("read done file %s: %w", name, err)
		}
		if data == nil {
			return fmt.Errorf("%w: done file %s named by the checkpoint is missing", checkpoint.ErrCorrupt, name)
		}
		if err := each(data); err != nil {
			return fmt.Errorf("%s: %w: restore it, or pass --fresh to start over", name, err)
		}
	}
	return nil
}

// pageCommitter writes the results of ListUsers pages. It holds each page
// back until every user of it is done, writes pages in order, and commits at
// page boundaries, so that the watermark is simply the next page's token.
type pageCommitter struct {
	*committer
	slots    <-chan struct{} // the lister's pages in flight: one is freed per page written
	pending  map[int64]*pendingPage
	next     int64 // seq of the oldest page not yet written
	lastDone *page // newest page written since the last checkpoint
}

type pendingPage struct {
	page    *page
	results []userResult
}

func newPageCommitter(c *committer, slots <-chan struct{}) *pageCommitter {
	return &pageCommitter{committer: c, slots: slots, pending: map[int64]*pendingPage{}, next: c.state.Pages}
}

func (c *pageCommitter) add(ctx context.Context, res userResult) error {
	pp := c.pending[res.page.seq]
	if pp == nil {
		pp = &pendingPage{page: res.page}
		c.pending[res.page.seq] = pp
	}
	pp.results = append(pp.results, res)
	for {
		pp := c.pending[c.next]
		if pp == nil || len(pp.results) < pp.page.items {
			return nil
		}
		delete(c.pending, c.next)
		c.next++
		<-c.slots // the lister may start another page
		if err := c.writePage(ctx, pp); err != nil {
			return err
		}
		if c.due() {
			if err := c.commitPages(ctx, false); err != nil {
				return err
			}
		}
	}
}

func (c *pageCommitter) writePage(ctx context.Context, pp *pendingPage) error {
	var listed int64
	for _, res := range pp.results {
		if res.user == "" {
			continue // the placeholder of a page without users
		}
		listed++
		c.hashes = append(c.hashes, checkpoint.UserHash(res.user))
		switch {
		case res.skipped:
			c.skipped++
			continue
		case !res.counted:
			continue // exported, and counted, by the group phase
		}
		if err := c.write(ctx, res.rows); err != nil {
			return err
		}
		c.users++
	}
	c.lastDone = pp.page
	c.cfg.Progress.listedUsers(listed)
	c.cfg.Progress.written(c.state.Users+c.users, c.state.Rows+c.rows, c.state.Skipped+c.skipped)
	return nil
}

// commitPages checkpoints the pages written so far; listed says the last
// page of the listing is among them.
func (c *pageCommitter) commitPages(ctx context.Context, listed bool) error {
	if c.lastDone == nil && !listed {
		return nil
	}
	err := c.commit(ctx, func(st *checkpoint.State) {
		st.Pages = c.next
		if c.lastDone != nil {
			st.Watermark = ""
			if c.lastDone.next != nil {
				st.Watermark = *c.lastDone.next
			} else {
				// The last page is in: a resume must not list again from
				// the start, which an empty watermark alone would mean.
				listed = true
			}
		}
		st.Listed = listed
	})
	if err == nil {
		c.lastDone = nil
	}
	return err
}

// final commits the pages written when the job ends. complete says the
// listing ended and every page was written.
func (c *pageCommitter) final(ctx context.Context, complete bool) error {
	return c.commitPages(ctx, complete && len(c.pending) == 0)
}

// loadDone reads the users that the done files name, for a listing that
// restarts.
func (c *committer) loadDone(ctx context.Context, files []string, users int64) (map[uint64]struct{}, error) {
	set := make(map[uint64]struct{}, users)
	err := readHashes(ctx, c.out, files, func(data []byte) error { return checkpoint.DecodeDone(data, set) })
	return set, err
}
