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

// SignatureSuffix names a manifest's signature beside it, as ssh-keygen
// -Y sign names the signature of FILE: FILE.sig.
const SignatureSuffix = ".sig"

// Signer signs a manifest's exact bytes (sshsig.Signer, an OpenSSH
// signature an auditor checks with ssh-keygen -Y verify).
type Signer interface {
	// Sign returns the armored signature of message.
	Sign(message []byte) ([]byte, error)
	// Fingerprint names the key (SHA256:...), never the key itself.
	Fingerprint() string
}

// WriteManifest writes m, as name, as the last file of an export.
func WriteManifest(ctx context.Context, dest Putter, name string, m Manifest) error {
	return WriteSignedManifest(ctx, dest, name, m, nil)
}

// WriteSignedManifest writes m, as name, as the last file of an export;
// with a signer, the signature of the manifest's exact bytes goes first,
// as name+SignatureSuffix, so that a complete signed export always has its
// signature: a run killed between the two leaves a signature and no
// manifest, an export that is not complete. Every file that makes an
// export evidence goes through here, for whoever must treat them alike
// (retention, a lease).
func WriteSignedManifest(ctx context.Context, dest Putter, name string, m Manifest, signer Signer) error {
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
	data = append(data, '\n')
	if signer != nil {
		sig, err := signer.Sign(data)
		if err != nil {
			return fmt.Errorf("sign manifest with key %s: %w", signer.Fingerprint(), err)
		}
		if err := dest.Put(ctx, name+SignatureSuffix, sig); err != nil {
			return fmt.Errorf("write manifest signature: %w", err)
		}
	}
	if err := dest.Put(ctx, name, data); err != nil {
		return fmt.Errorf("write manifest: %w", err)
	}
	return nil
}
