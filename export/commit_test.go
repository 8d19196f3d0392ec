package export

import (
	"log/slog"
	"testing"

	"github.com/cognito-export/cognito-export/checkpoint"
	"github.com/cognito-export/cognito-export/identity"
)

// A part writer that cannot be opened is an error the run returns, not a
// nil writer that panics at the first row (newCommitter dropped it).
func TestCommitterReportsAPartWriterItCannotOpen(t *testing.T) {
	cfg := Config{Format: "xml", PageSize: 60, Concurrency: 4, Logger: slog.New(slog.DiscardHandler), attrs: &attributePlan{extract: &identity.Extractor{}}}
	c, err := newCommitter(cfg, nil, nil, &checkpoint.State{}, doneUsers)
	if err == nil {
		t.Fatalf("newCommitter with format %q: no error, committer %+v", cfg.Format, c)
	}
	if _, err := newUserListJob(cfg, nil, nil, nil, &checkpoint.State{}); err == nil {
		t.Fatal("newUserListJob: no error for a part writer that cannot be opened")
	}
}
