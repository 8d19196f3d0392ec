package sink

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

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

// WriteManifest writes m, as name, as the last file of an export.
func WriteManifest(ctx context.Context, dest Putter, name string, m Manifest) error {
	m.SchemaVersion = SchemaVersion
	m.Columns = Columns
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("encode manifest: %w", err)
	}
	if err := dest.Put(ctx, name, append(data, '\n')); err != nil {
		return fmt.Errorf("write manifest: %w", err)
	}
	return nil
}
