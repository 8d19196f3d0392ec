// Package export runs the job of exporting one pool: it plans (which
// strategy, resumed from which checkpoint), lists the users or the groups'
// members under the shared limiters, commits rows to part files before the
// checkpoint that names them, and writes the manifest last. Cognito access
// is package cognito's; the files' formats and destinations are sink's.
package export

import (
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"time"

	"github.com/cognito-export/cognito-export/cognito"
	"github.com/cognito-export/cognito-export/fault"
	"github.com/cognito-export/cognito-export/identity"
	"github.com/cognito-export/cognito-export/location"
	"github.com/cognito-export/cognito-export/ratelimit"
	"github.com/cognito-export/cognito-export/sink"
	"github.com/cognito-export/cognito-export/sink/s3dest"
)

// Config is everything one export needs, built by the command line.
type Config struct {
	UserPoolID string
	// Output is a local directory or s3://bucket/prefix/, placeholders
	// already expanded (see ExpandPlaceholders).
	Output string
	// Strategy is StrategyPerUser, StrategyByGroup or StrategyAuto (also
	// when empty); a resume keeps the strategy of the checkpoint.
	Strategy    string
	Format      string
	Compression string // parquet only
	Concurrency int
	PageSize    int32 // Limit of ListUsers and AdminListGroupsForUser requests
	PartRows    int64
	PartBytes   int64
	// UsersWithoutGroups emits one row with empty group columns for a user
	// without groups, so that the export is also a complete user list.
	UsersWithoutGroups bool
	// Fresh discards what an earlier run left in the output, checkpoint
	// and complete export alike.
	Fresh bool
	// Checkpoint overrides where the resume state lives: a file path or an
	// s3:// object URL. Empty means _checkpoint.json under the output.
	Checkpoint string
	// CheckpointInterval closes the current part early so that a checkpoint
	// is taken at least this often.
	CheckpointInterval time.Duration
	// StopTimeout bounds the final checkpoint after a stop signal.
	StopTimeout time.Duration
	// LeaseOff writes without taking the output's lease (--lease=off);
	// LeaseTTL is how long the lease lasts unrenewed (0: lease.DefaultTTL).
	LeaseOff bool
	LeaseTTL time.Duration
	S3       s3dest.Options

	// Attributes are the user attributes exported as columns after the
	// fixed ones, by Cognito's names, or "standard", "all" or "none".
	// Empty exports none (the command line's default is email).
	Attributes []string
	// Pseudonymize and Redact name attributes among Attributes whose
	// values are replaced by a keyed hash (with Key) or dropped (NULL).
	Pseudonymize, Redact []string
	Key                  identity.Key
	// CSVRaw writes CSV cells as they are, without neutralising those a
	// spreadsheet would evaluate as formulas.
	CSVRaw bool
	// Filter is a ListUsers filter (per-user strategy): only the users it
	// selects are exported.
	Filter string

	// Signer, when set, signs the manifest: its signature goes beside it,
	// written first (sink.WriteSignedManifest). Its key's fingerprint is a
	// parameter of the run, so a resume with another key, or none, is
	// refused: one export, one signer.
	Signer sink.Signer

	Client cognito.Config
	Limits *ratelimit.Set // nil means Cognito's default quotas
	Logger *slog.Logger
	// Memory, when set, is told before the run holds a large live set
	// without pointers (the by-group members set), so that the process's
	// memory limit makes room for it; nil leaves the limit alone.
	Memory interface{ HoldFlat(live int64, what string) }
	// Progress, when set, is updated as the export goes, for a progress
	// display or metrics; nil counts nothing.
	Progress *Progress
	// Now is the clock; tests may pin it. nil means time.Now.
	Now func() time.Time

	attrs *attributePlan // the identity columns, once the run has settled them
}

// Defaults used by the command line and by tests.
const (
	DefaultConcurrency        = 16
	DefaultPartBytes          = 256 << 20
	DefaultCheckpointInterval = 30 * time.Second
	DefaultStopTimeout        = 20 * time.Second
)

// Validate reports the first bad setting as a usage problem.
func (c *Config) Validate() error {
	usage := func(format string, args ...any) error {
		return fault.Usagef(fmt.Sprintf(format, args...))
	}
	switch {
	case c.UserPoolID == "":
		return usage("missing --user-pool-id: name the Cognito user pool to export, e.g. us-east-1_AbCdEf123")
	case c.Output == "":
		return usage("missing --output: name a directory for the export")
	case c.Concurrency < 1:
		return usage("--concurrency %d: must be at least 1", c.Concurrency)
	case c.PageSize < 1 || c.PageSize > cognito.MaxPageSize:
		return usage("--page-size %d: Cognito accepts 1..%d", c.PageSize, cognito.MaxPageSize)
	case c.PartRows < 0 || c.PartBytes < 0:
		return usage("--part-rows and --part-size must not be negative")
	case c.CheckpointInterval < 0 || c.StopTimeout < 0:
		return usage("--checkpoint-interval and --stop-timeout must not be negative")
	case c.LeaseTTL != 0 && c.LeaseTTL < time.Second:
		return usage("--lease-ttl %s: must be at least 1s (it is renewed every third of it)", c.LeaseTTL)
	case c.Strategy != "" && !slices.Contains(Strategies, c.Strategy):
		return usage("unknown --strategy %q: use one of %v", c.Strategy, Strategies)
	case c.Filter != "" && c.Strategy == StrategyByGroup:
		return usage("--filter selects users of ListUsers, which the by-group strategy does not page through: use --strategy per-user (or auto)")
	}
	if err := c.S3.Retention.Check(); err != nil {
		return err
	}
	if loc, err := location.Parse(c.Output); err == nil && !loc.IsS3() {
		if err := c.S3.Retention.ForDirectory(c.Output); err != nil {
			return err
		}
	}
	if err := ValidateFilter(c.Filter); err != nil {
		return usage("--filter %q: %v", c.Filter, err)
	}
	if len(c.Pseudonymize) > 0 && c.Key.Empty() {
		return fault.Usagef(identity.ErrNoKey.Error())
	}
	// What needs no schema is checked before any call; identify checks the
	// rest against the pool's.
	if _, err := identity.Treat(identity.Named(c.Attributes), c.Pseudonymize, c.Redact); err != nil && !slices.ContainsFunc(c.Attributes, identity.Keyword) {
		return fault.Usagef(err.Error())
	}
	if c.Format == "parquet" && !slices.Contains(sink.Compressions, c.Compression) && c.Compression != "" {
		return usage("unknown --compression %q: use one of %v", c.Compression, sink.Compressions)
	}
	for _, f := range sink.Formats {
		if f == c.Format {
			return nil
		}
	}
	return usage("unknown --format %q: use one of %v", c.Format, sink.Formats)
}

// signingKeyParam is the parameter that names the signing key.
const signingKeyParam = "signing_key"

// params are the settings a checkpoint must agree with to be resumed: a
// different value would make the committed parts and the rest disagree.
func (c *Config) params() map[string]string {
	p := map[string]string{
		"user_pool_id":         c.UserPoolID,
		"output":               c.Output,
		"format":               c.Format,
		"compression":          c.Compression,
		"strategy":             c.Strategy,
		"schema_version":       fmt.Sprint(sink.SchemaVersion),
		"page_size":            fmt.Sprint(c.PageSize),
		"users_without_groups": fmt.Sprint(c.UsersWithoutGroups),
	}
	if c.attrs != nil {
		maps.Copy(p, c.attrs.params(c))
	}
	if c.Signer != nil {
		p[signingKeyParam] = c.Signer.Fingerprint()
	}
	if r := c.S3.Retention; r.On() {
		// A resume under another retention would leave an export locked
		// in part; the manifest says what its objects were written under.
		p["object_lock"] = r.String()
	}
	return p
}
