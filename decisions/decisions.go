// Package decisions reads and writes decisions.csv: a reviewer's keep or
// revoke for memberships of a reviewed export, the record the next review
// checks and remediation turns into commands.
//
// The file is a spreadsheet's as much as a program's: every field is
// neutralised against formulas on write (sink's rule, so a value that a
// spreadsheet would evaluate is shown as text) and restored on read, so
// that any value Cognito allows, hostile ones included, comes back exactly
// as it was written.
package decisions

import (
	"bufio"
	"fmt"
	"io"
	"time"

	"github.com/cognito-export/cognito-export/sink"
)

// Columns are decisions.csv's columns, in the order they are written.
var Columns = []string{"user_pool_id", "group_name", "username", "user_sub", "decision", "reviewer", "decided_at", "comment", "manifest_sha256"}

// Verdict is what a reviewer decided of a membership.
type Verdict string

const (
	Keep   Verdict = "keep"
	Revoke Verdict = "revoke"
	// Undecided is a row of decisions-template.csv nobody has filled in.
	Undecided Verdict = ""
)

// Decision is one row of decisions.csv.
type Decision struct {
	PoolID   string
	Group    string
	Username string
	Sub      string
	Verdict  Verdict
	Reviewer string
	// DecidedAt is zero in an undecided row.
	DecidedAt time.Time
	Comment   string
	// ManifestSHA256 is the SHA-256 of the reviewed export's manifest.
	ManifestSHA256 string
	// Line is where the row starts in the file it was read from (1 is the
	// header); 0 for a row not read from a file.
	Line int
}

// Key is what a decision is about: one membership of one user. The sub
// tells a user apart from another one re-created under the same username.
type Key struct {
	Username, Sub, Group string
}

// Key is the membership d decides about.
func (d Decision) Key() Key { return Key{d.Username, d.Sub, d.Group} }

// Write writes decisions.csv: the header, then ds in their order. An
// undecided row has empty decision and decided_at (decisions-template.csv).
func Write(w io.Writer, ds []Decision) error {
	bw := bufio.NewWriter(w)
	if err := sink.WriteCSVRecord(bw, Columns); err != nil {
		return err
	}
	rec := make([]string, len(Columns))
	for _, d := range ds {
		decided := ""
		if !d.DecidedAt.IsZero() {
			decided = d.DecidedAt.UTC().Format(time.RFC3339Nano)
		}
		copy(rec, []string{d.PoolID, d.Group, d.Username, d.Sub, string(d.Verdict), d.Reviewer, decided, d.Comment, d.ManifestSHA256})
		// Every field, not only the ones a user chose: Read restores every
		// field, and a field that needs nothing is left as it is.
		for i := range rec {
			rec[i] = sink.Neutralize(rec[i])
		}
		if err := sink.WriteCSVRecord(bw, rec); err != nil {
			return err
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write decisions: %w", err)
	}
	return nil
}
