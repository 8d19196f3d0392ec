// Package diff compares two exports of a pool and writes what changed, one
// row per fact (a user, a membership, a field of a user or a group), with
// the same parts-then-manifest commit as an export, and a summary.
//
// Exports may be larger than memory: both are hash-partitioned by user into
// temporary files and compared a partition at a time.
package diff

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/cognito-export/cognito-export/fault"
	"github.com/cognito-export/cognito-export/reader"
	"github.com/cognito-export/cognito-export/sink"
)

// Side is one export of a diff, verified.
type Side struct {
	Location string
	Source   reader.Source
	Manifest reader.Manifest
}

// Open verifies the export at src: a diff refuses an incomplete or
// corrupt export, naming what is wrong with it.
func Open(ctx context.Context, location string, src reader.Source) (Side, error) {
	var problems []string
	res, err := reader.Verify(ctx, src, func(p reader.Problem) { problems = append(problems, p.String()) })
	if errors.Is(err, reader.ErrNoExport) {
		return Side{}, fault.New(fault.Usage, "", err)
	}
	if err != nil {
		return Side{}, fmt.Errorf("verify %s: %w", location, err)
	}
	if !res.Intact() {
		return Side{}, fault.Usagef(fmt.Sprintf("%s is not intact (%s): run cognito-export verify %s, and diff an intact export",
			location, strings.Join(problems, "; "), location))
	}
	if t := res.Manifest.Parameters["table"]; t != "" {
		return Side{}, fault.Usagef(fmt.Sprintf("%s holds a %s table, not an export of a pool", location, t))
	}
	return Side{Location: location, Source: src, Manifest: res.Manifest}, nil
}

// Options are a diff's choices.
type Options struct {
	Format      string // of the change rows: parquet or csv
	Compression string
	CSVRaw      bool
	// GroupsWithRoleOnly keeps only the changes about groups with a role
	// ARN (on either side), and users who are members of one.
	GroupsWithRoleOnly  bool
	AllowDifferentPools bool
	// Privileged names groups whose membership changes the summary lists
	// in full, beside those with a role ARN.
	Privileged []string
	TempDir    string // "" is the system's
	Partitions int    // 0 chooses from the exports' sizes
	Logger     *slog.Logger
	Now        func() time.Time
	// Signer, when set, signs the diff's manifest as an export's is
	// (sink.WriteSignedManifest).
	Signer sink.Signer
	// Lease is how the diff's output is leased: package review takes the
	// lease before anything is written there.
	Lease Lease
	// Started, when set, is called once the exports are found comparable,
	// before the diff reads them: a refusal comes before anything it does
	// (cmd raises the memory limit there and logs it).
	Started func()
}

// Lease says whether a diff's output is leased, for how long, and by which
// run.
type Lease struct {
	Off   bool
	TTL   time.Duration // 0 is the lease's default
	RunID string
}

// Destination is where the change rows and the manifest go.
type Destination interface {
	sink.Destination
	sink.Putter
}

// SummaryName is the summary beside a diff's parts. The parts and the
// manifest carry an export's names (reader.PartPrefix,
// reader.ManifestName), so that verify checks a diff as it checks an
// export.
const SummaryName = "diff-summary.json"

// rowsPerPartition bounds what one partition of one side holds in memory.
const rowsPerPartition = 100_000

// Run compares old with new and writes the change rows to out, then
// SummaryName, then the manifest, last.
func Run(ctx context.Context, old, new Side, out Destination, opts Options) (Summary, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	started := opts.Now().UTC()
	attrs, err := comparable(old, new, opts.AllowDifferentPools, log)
	if err != nil {
		return Summary{}, err
	}
	if opts.Started != nil {
		opts.Started()
	}
	poolID := new.Manifest.Parameters["user_pool_id"]
	parts := opts.Partitions
	if parts <= 0 {
		total := old.Manifest.Totals.Rows + new.Manifest.Totals.Rows
		parts = int(min(1024, max(1, total/rowsPerPartition+1)))
	}
	tmp, err := os.MkdirTemp(opts.TempDir, "cognito-export-diff-")
	if err != nil {
		return Summary{}, fmt.Errorf("temporary directory for the diff: %w", err)
	}
	// Removed on every way out, a cancelled context (SIGINT) included.
	defer os.RemoveAll(tmp)

	// Both sides at once: a scan's spilling is one goroutine, and its
	// buffers are reused row group to row group, so two cost ~30 MB more.
	var sides [2]sideScan
	g, gctx := errgroup.WithContext(ctx)
	for i, s := range []Side{old, new} {
		g.Go(func() error {
			var err error
			sides[i], err = scanSide(gctx, s, attrs, tmp, []string{"old", "new"}[i], parts, opts.TempDir)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return Summary{}, err
	}
	oldGroups, newGroups := sideGroups(old.Manifest.Groups, new.Manifest.Groups, sides[0].groups, sides[1].groups)
	gr := roles{old: oldGroups, new: newGroups}
	privileged := func(name string) bool { return gr.has(name) || slices.Contains(opts.Privileged, name) }
	sum := newSummary(old, new, attrs.columns, opts)
	sum.Old.ExportedAt, sum.New.ExportedAt = sides[0].latest, sides[1].latest

	w, err := sink.NewChangeWriter(out, sink.WriterOptions{
		Format: opts.Format, Compression: opts.Compression, CSVRaw: opts.CSVRaw, PartRows: partRows,
		Name: func(seq int) string { return fmt.Sprintf("%s%05d.%s", reader.PartPrefix, seq, opts.Format) },
	}, attrs.columns)
	if err != nil {
		return Summary{}, fault.New(fault.Usage, "", err)
	}
	write := func(rows []sink.Change) error {
		for i := range rows {
			sum.add(&rows[i], privileged)
		}
		if err := w.Write(ctx, rows); err != nil {
			return err
		}
		if w.Full() {
			return w.Flush(ctx)
		}
		return nil
	}
	base := sink.Change{Attrs: make([]sink.Attr, len(attrs.columns)), OldExportedAt: sides[0].latest, NewExportedAt: sides[1].latest}
	if err := write(groupChanges(poolID, oldGroups, newGroups, opts.GroupsWithRoleOnly, base)); err != nil {
		w.Abort(ctx)
		return Summary{}, err
	}
	c := newComparer(poolID, attrs.columns, gr, opts.GroupsWithRoleOnly)
	if err := comparePartitions(ctx, tmp, parts, [2][]string{sides[0].dict, sides[1].dict}, len(attrs.columns), c, write); err != nil {
		w.Abort(ctx)
		return Summary{}, err
	}
	if err := w.Flush(ctx); err != nil {
		return Summary{}, err
	}
	return finish(ctx, out, w.Parts(), sum, old, new, attrs.columns, opts, started)
}

// compareWorkers compare partitions at once: the machine's two cores.
const compareWorkers = 2

// partRows rolls a change part over at this many rows.
const partRows = 1_000_000

// comparePartitions compares the partitions two at a time and hands their
// rows to write in partition order, so that the output does not depend on
// which finished first.
func comparePartitions(ctx context.Context, tmp string, parts int, dicts [2][]string, attrs int, c *comparer, write func([]sink.Change) error) error {
	results := make([]chan []sink.Change, parts)
	for i := range results {
		results[i] = make(chan []sink.Change, 1)
	}
	g, gctx := errgroup.WithContext(ctx)
	next := make(chan int)
	g.Go(func() error {
		defer close(next)
		for i := range parts {
			select {
			case next <- i:
			case <-gctx.Done():
				return nil
			}
		}
		return nil
	})
	for range compareWorkers {
		g.Go(func() error {
			// A worker's buffers serve partition after partition: the
			// change rows it hands on own their strings.
			var o, n side
			for i := range next {
				if err := o.load(filepath.Join(tmp, fmt.Sprintf("old-%04d.spill", i)), dicts[0], attrs); err != nil {
					return err
				}
				if err := n.load(filepath.Join(tmp, fmt.Sprintf("new-%04d.spill", i)), dicts[1], attrs); err != nil {
					return err
				}
				results[i] <- c.compare(&o, &n) // buffered: never blocks
			}
			return nil
		})
	}
	g.Go(func() error {
		for i := range parts {
			select {
			case rows := <-results[i]:
				if err := write(rows); err != nil {
					return err
				}
			case <-gctx.Done():
				return context.Cause(gctx)
			}
		}
		return nil
	})
	return g.Wait()
}
