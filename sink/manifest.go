package sink

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/cognito-export/cognito-export/internal/buildinfo"
)

// Manifest lists the parts of a finished export with what produced them.
type Manifest struct {
	SchemaVersion int `json:"schema_version"`
	// Generator names the program that wrote the export
	// (buildinfo.Generator), as every file the job writes does.
	Generator  string            `json:"generator"`
	Format     string            `json:"format"`
	Columns    []string          `json:"columns"`
	Parts      []PartInfo        `json:"parts"`
	Totals     Totals            `json:"totals"`
	Parameters map[string]string `json:"parameters"`
	StartedAt  time.Time         `json:"started_at"`
	FinishedAt time.Time         `json:"finished_at"`
	// Attributes are the identity attribute columns after the fixed ones,
	// with what was done to their values.
	Attributes []ManifestAttribute `json:"attributes"`
	// KeyID identifies the key of the pseudonymised columns (never the key
	// itself): exports with the same KeyID have comparable pseudonyms.
	KeyID string `json:"pseudonymization_key_id,omitempty"`
	// PoolName is the pool's name as DescribeUserPool gave it, for a
	// reader who knows pools by name; empty when it was not asked.
	PoolName string `json:"pool_name,omitempty"`
	// Filter is the ListUsers filter that chose the users, if any.
	Filter string `json:"filter,omitempty"`
	// Groups are every group of the pool as ListGroups gave them when the
	// export finished, those without members included (the rows show only
	// groups with members). Nil when the export could not list them.
	Groups []ManifestGroup `json:"groups,omitempty"`
}

// ManifestGroup is one group of the pool. Times are RFC 3339 UTC.
type ManifestGroup struct {
	Name             string     `json:"name"`
	Description      *string    `json:"description,omitempty"`
	RoleArn          *string    `json:"role_arn,omitempty"`
	Precedence       *int32     `json:"precedence,omitempty"`
	CreationDate     *time.Time `json:"creation_date,omitempty"`
	LastModifiedDate *time.Time `json:"last_modified_date,omitempty"`
}

// ManifestAttribute describes one identity attribute column.
type ManifestAttribute struct {
	Attribute string `json:"attribute"` // Cognito's name
	Column    string `json:"column"`
	Type      string `json:"type"`
	Treatment string `json:"treatment,omitempty"` // pseudonymized or redacted
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
	if m.Generator == "" {
		m.Generator = buildinfo.Generator()
	}
	if m.Columns == nil {
		m.Columns = Columns
	}
	if m.Attributes == nil {
		m.Attributes = []ManifestAttribute{}
	}
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("encode manifest: %w", err)
	}
	if err := dest.Put(ctx, name, append(data, '\n')); err != nil {
		return fmt.Errorf("write manifest: %w", err)
	}
	return nil
}
