package sink

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// ManifestName marks a complete export: it is written last, and only on success.
const ManifestName = "manifest.json"

// SummaryName is what a run did, written beside the manifest at the end of
// a run, failed ones included. It never marks completion (the manifest
// does), and a new run removes the old one first, so a summary of an
// earlier run never sits beside an unfinished export.
const SummaryName = "summary.json"

// Manifest lists the parts of a finished export with what produced them.
type Manifest struct {
	SchemaVersion int               `json:"schema_version"`
	Format        string            `json:"format"`
	Columns       []string          `json:"columns"`
	Parts         []PartInfo        `json:"parts"`
	Totals        Totals            `json:"totals"`
	Parameters    map[string]string `json:"parameters"`
	StartedAt     time.Time         `json:"started_at"`
	FinishedAt    time.Time         `json:"finished_at"`
}

// Totals are the counts of a run.
type Totals struct {
	Users   int64 `json:"users"`
	Rows    int64 `json:"rows"`
	Skipped int64 `json:"skipped"`
	Parts   int   `json:"parts"`
	Bytes   int64 `json:"bytes"`
}

// Putter writes a small file atomically.
type Putter interface {
	Put(ctx context.Context, name string, data []byte) error
}

// WriteManifest writes m as the last file of an export.
func WriteManifest(ctx context.Context, dest Putter, m Manifest) error {
	m.SchemaVersion = SchemaVersion
	m.Columns = Columns
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("encode manifest: %w", err)
	}
	if err := dest.Put(ctx, ManifestName, append(data, '\n')); err != nil {
		return fmt.Errorf("write manifest: %w", err)
	}
	return nil
}

// OwnedName reports whether a file name under an output is one this tool
// writes (parts, manifest, temporary files, the checkpoint and its
// done-user files), and so may be removed when an earlier run left it over.
func OwnedName(name string) bool {
	return !strings.Contains(name, "/") &&
		(strings.HasPrefix(name, "part-") || strings.HasPrefix(name, tempPrefix) ||
			strings.HasPrefix(name, "_checkpoint") || strings.HasPrefix(name, "_done-") || name == ManifestName || name == SummaryName)
}
