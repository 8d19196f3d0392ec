package batch

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/cognito-export/cognito-export/export"
	"github.com/cognito-export/cognito-export/fault"
	"github.com/cognito-export/cognito-export/internal/buildinfo"
	"github.com/cognito-export/cognito-export/location"
)

// The index of a run: every pool it was to export, where the export went
// and how it ended, written last (like a manifest, after every pool has
// finished or failed) so that an auditor finds the result of the whole
// run in one place. A resumed run writes it again.

// Statuses of a pool in the index.
const (
	StatusComplete    = "complete"    // manifest.json written (now or by an earlier run)
	StatusFailed      = "failed"      // see error; a run of the same command resumes it
	StatusInterrupted = "interrupted" // stopped by a signal; a run of the same command resumes it
	StatusSkipped     = "skipped"     // left out by --include/--exclude, or not started before a signal
)

// IndexName is the index of a run that is not split into shards.
const IndexName = "index.json"

// RunIndex is index.json.
type RunIndex struct {
	Generator  string       `json:"generator"`
	RunID      string       `json:"run_id"`
	Shard      string       `json:"shard,omitempty"` // I/N of an array job
	Status     string       `json:"status"`          // complete when every pool not skipped is
	StartedAt  time.Time    `json:"started_at"`
	FinishedAt time.Time    `json:"finished_at"`
	Totals     IndexTotals  `json:"totals"`
	Pools      []IndexEntry `json:"pools"`
}

// IndexTotals count the pools of the index by status, and their users
// and rows.
type IndexTotals struct {
	Pools    int   `json:"pools"`
	Complete int   `json:"complete"`
	Failed   int   `json:"failed"`
	Skipped  int   `json:"skipped"`
	Users    int64 `json:"users"`
	Rows     int64 `json:"rows"`
}

// IndexEntry is one pool, or an (account, region) whose pools could not be
// listed (no user_pool_id then: the error names the role).
type IndexEntry struct {
	Account        string `json:"account"` // "" for the run's own credentials
	Region         string `json:"region"`
	UserPoolID     string `json:"user_pool_id,omitempty"`
	PoolName       string `json:"pool_name,omitempty"`
	RoleARN        string `json:"role_arn,omitempty"`
	Output         string `json:"output,omitempty"`
	Status         string `json:"status"`
	Users          int64  `json:"users"`
	Rows           int64  `json:"rows"`
	ManifestSHA256 string `json:"manifest_sha256,omitempty"`
	Error          string `json:"error,omitempty"`
}

// Index is where the index goes; no location means no index (a run of
// one pool named on the command line, whose summary.json says it all).
type Index struct {
	Location location.Location
	Name     string
}

// planIndex places the index: --index, or where the outputs of every pool
// of the run meet (the part of their locations before the first
// placeholder that differs by pool), which is the same for every shard of
// an array job. s3://audit/cognito/account={account}/region={region}/
// pool={pool}/dt={date}/ puts it at s3://audit/cognito/index.json.
func planIndex(given string, templates []string, several bool, sh Shard, runID string, now time.Time) (Index, error) {
	where := given
	if where == "" {
		if !several && sh.Count == 0 {
			return Index{}, nil
		}
		meet, ok := meetingPoint(templates)
		if !ok {
			return Index{}, fault.Usagef("the outputs of the pools share no directory to put index.json in: pass --index DIR (or s3://bucket/prefix/)")
		}
		where = meet.String()
	}
	for _, ph := range perPool {
		if strings.Contains(given, ph) {
			return Index{}, fault.Usagef(fmt.Sprintf("--index %q: one index covers every pool: it may hold {date} and {run_id}, not %s", given, ph))
		}
	}
	where, err := export.ExpandPlaceholders(where, export.Placeholders{RunID: runID, Now: now})
	if err != nil {
		return Index{}, err
	}
	loc, err := location.Parse(where)
	if err != nil {
		return Index{}, fault.Usagef(fmt.Sprintf("--index: %v", err))
	}
	ix := Index{Location: loc, Name: IndexName}
	if sh.Count > 0 {
		ix.Name = fmt.Sprintf("index-shard-%d-of-%d.json", sh.Index, sh.Count)
	}
	return ix, nil
}

// perPool are the placeholders whose value differs from pool to pool.
var perPool = []string{"{pool}", "{account}", "{region}"}

// meetingPoint is the deepest directory that holds every template's
// output, cut before the first placeholder that differs by pool; none
// when there is none (a local output and an S3 one, or two buckets).
func meetingPoint(templates []string) (location.Location, bool) {
	var dirs []location.Location
	for _, t := range templates {
		l, err := location.Parse(t)
		if err != nil {
			return location.Location{}, false
		}
		// A pool's own directory, without a placeholder: the index goes
		// beside it.
		d, ok := l.Above(perPool...)
		if !ok {
			return location.Location{}, false
		}
		dirs = append(dirs, d)
	}
	return location.Common(dirs...)
}

// indexWriteTimeout bounds writing the index, which may follow a stop
// signal, as summary.json's write does.
const indexWriteTimeout = 10 * time.Second

// writeIndex writes the index atomically (a temporary file renamed, or one
// S3 PUT) with the run's own credentials, its totals and status counted
// from its entries.
func writeIndex(ctx context.Context, p *Plan, idx RunIndex) error {
	for _, e := range idx.Pools {
		idx.Totals.Pools++
		switch e.Status {
		case StatusComplete:
			idx.Totals.Complete++
		case StatusSkipped:
			idx.Totals.Skipped++
		default:
			idx.Totals.Failed++
		}
		idx.Totals.Users += e.Users
		idx.Totals.Rows += e.Rows
	}
	if idx.Status == "" {
		idx.Status = StatusComplete
		if idx.Totals.Failed > 0 {
			idx.Status = StatusFailed
		}
	}
	idx.Generator = buildinfo.Generator()
	data, err := json.MarshalIndent(idx, "", "  ")
	if err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), indexWriteTimeout)
	defer cancel()
	dest, err := p.Index.Location.OpenWrite(wctx, p.s3)
	if err != nil {
		return fmt.Errorf("open %s for %s: %w", p.Index.Location, p.Index.Name, err)
	}
	if err := dest.Put(wctx, p.Index.Name, append(data, '\n')); err != nil {
		return fmt.Errorf("write %s in %s: %w", p.Index.Name, p.Index.Location, err)
	}
	return nil
}

// String names where the index goes, for messages.
func (ix Index) String() string { return ix.Location.File(ix.Name) }
