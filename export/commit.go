package export

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/cognito-export/cognito-export/checkpoint"
	"github.com/cognito-export/cognito-export/sink"
)

// committer is the one goroutine that writes rows. It holds each ListUsers
// page back until every user of it is done, writes pages in order, and
// commits at page boundaries: part closed and durable first, then the
// checkpoint that names it. A part no checkpoint names is an orphan.
type committer struct {
	cfg        Config
	log        *slog.Logger
	out        output
	store      *checkpoint.Store
	state      *checkpoint.State
	writer     *sink.Writer
	exportedAt time.Time

	pending  map[int64]*pendingPage
	next     int64 // seq of the oldest page not yet written
	lastDone *page // newest page written into the current part
	// Uncommitted progress since the last checkpoint.
	users, rows, skipped int64
	doneHashes           []uint64
	lastCommit           time.Time
	failed               bool // the sink failed: never commit after that
}

type pendingPage struct {
	page    *page
	results []userResult
}

func newCommitter(cfg Config, out output, store *checkpoint.Store, st *checkpoint.State) *committer {
	w, _ := sink.NewWriter(out, sink.WriterOptions{
		Format: cfg.Format, Compression: cfg.Compression, PartRows: cfg.PartRows, PartBytes: cfg.PartBytes,
		FirstPart: len(st.Parts),
	})
	return &committer{
		cfg: cfg, log: cfg.Logger, out: out, store: store, state: st, writer: w,
		exportedAt: st.Started, pending: map[int64]*pendingPage{}, next: st.Pages, lastCommit: time.Now(),
	}
}

func (c *committer) run(ctx context.Context, in <-chan userResult, slots <-chan struct{}) error {
	for {
		select {
		case res, ok := <-in:
			if !ok {
				return nil
			}
			if err := c.add(ctx, res, slots); err != nil {
				c.failed = true
				c.writer.Abort()
				return err
			}
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
}

func (c *committer) add(ctx context.Context, res userResult, slots <-chan struct{}) error {
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
		<-slots // the lister may start another page
		if err := c.writePage(ctx, pp); err != nil {
			return err
		}
		if c.writer.Full() || time.Since(c.lastCommit) >= c.cfg.CheckpointInterval && c.cfg.CheckpointInterval > 0 {
			if err := c.commit(ctx, false); err != nil {
				return err
			}
		}
	}
}

func (c *committer) writePage(ctx context.Context, pp *pendingPage) error {
	for _, res := range pp.results {
		if res.user == "" {
			continue // the placeholder of a page without users
		}
		c.doneHashes = append(c.doneHashes, checkpoint.UserHash(res.user))
		if res.skipped {
			c.skipped++
			continue
		}
		if err := c.writer.Write(ctx, res.rows); err != nil {
			return err
		}
		c.users++
		c.rows += int64(len(res.rows))
	}
	c.lastDone = pp.page
	c.cfg.Progress.written(c.state.Users+c.users, c.state.Rows+c.rows, c.state.Skipped+c.skipped)
	return nil
}

// commit makes everything written so far durable, then records it in the
// checkpoint. The order is the whole point: a crash between the two leaves
// a part that no checkpoint names, which the next run removes.
func (c *committer) commit(ctx context.Context, listed bool) error {
	if c.lastDone == nil && !listed {
		return nil
	}
	before := len(c.writer.Parts())
	if err := c.writer.Flush(ctx); err != nil {
		return err
	}
	st := *c.state
	for _, p := range c.writer.Parts()[before:] {
		st.Parts = append(st.Parts[:len(st.Parts):len(st.Parts)], checkpoint.Part(p))
	}
	if len(c.doneHashes) > 0 {
		name := fmt.Sprintf("_done-%08d.bin", c.next)
		if err := c.out.Put(ctx, name, checkpoint.EncodeDone(c.doneHashes)); err != nil {
			return fmt.Errorf("write done file: %w", err)
		}
		st.DoneFiles = append(st.DoneFiles[:len(st.DoneFiles):len(st.DoneFiles)], name)
	}
	st.Pages = c.next
	if c.lastDone != nil {
		st.Watermark = ""
		if c.lastDone.next != nil {
			st.Watermark = *c.lastDone.next
		} else {
			// The last page is in: a resume must not list again from the
			// start, which an empty watermark alone would mean.
			listed = true
		}
	}
	st.Listed = listed
	st.Users += c.users
	st.Rows += c.rows
	st.Skipped += c.skipped
	st.Saved = time.Now().UTC()
	if err := c.store.Save(ctx, &st); err != nil {
		return err
	}
	*c.state = st
	c.users, c.rows, c.skipped, c.doneHashes, c.lastDone = 0, 0, 0, c.doneHashes[:0], nil
	c.lastCommit = time.Now()
	c.log.Debug("checkpoint", "pages", st.Pages, "users", st.Users, "rows", st.Rows, "parts", len(st.Parts))
	return nil
}

// final commits what is finished when the job ends. complete says the
// listing ended and every page was written.
func (c *committer) final(ctx context.Context, complete bool) error {
	if c.failed {
		return nil // the checkpoint stays at the last good commit
	}
	complete = complete && len(c.pending) == 0
	if err := c.commit(ctx, complete); err != nil {
		c.writer.Abort()
		return fmt.Errorf("final checkpoint: %w", err)
	}
	return nil
}

// loadDone reads the users committed so far, for a listing that restarts.
func (c *committer) loadDone(ctx context.Context, files []string, users int64) (map[uint64]struct{}, error) {
	set := make(map[uint64]struct{}, users)
	for _, name := range files {
		data, err := c.out.Get(ctx, name)
		if err != nil {
			return nil, fmt.Errorf("read done file %s: %w", name, err)
		}
		if data == nil {
			return nil, fmt.Errorf("%w: done file %s named by the checkpoint is missing", checkpoint.ErrCorrupt, name)
		}
		if err := checkpoint.DecodeDone(data, set); err != nil {
			return nil, err
		}
	}
	return set, nil
}
