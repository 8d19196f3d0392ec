package export

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cognito-export/cognito-export/checkpoint"
	"github.com/cognito-export/cognito-export/cognito"
	"github.com/cognito-export/cognito-export/ratelimit"
	"github.com/cognito-export/cognito-export/reader"
)

// Env is everything one pool's run works with, built once by Open: the
// validated configuration, the one Cognito client (every call it makes is
// counted in the run's progress and summary), the output and the checkpoint
// store. The run, the dry run, the ETA's estimate and summary.json all use
// it, so nothing is opened or connected twice.
type Env struct {
	cfg    Config
	log    *slog.Logger
	client *cip.Client
	calls  *cognito.Calls
	out    Output // every write checked against the lease, once taken
	raw    Output // the output as opened: for reading back, and the lease
	fence  *fence
	store  *checkpoint.Store

	// pool is DescribeUserPool's answer, asked once: the attribute schema,
	// the estimate and the ETA all read it.
	poolMu sync.Mutex
	pool   *types.UserPoolType
}

// Open checks cfg, proves the output writable and builds the Cognito
// client. A bad setting or output fails here, before any Cognito call.
func Open(ctx context.Context, cfg Config) (*Env, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	out, err := OpenOutput(ctx, cfg.Output, cfg.S3Options())
	if err != nil {
		return nil, err
	}
	return openOn(ctx, cfg, out)
}

// OpenOn is Open with the output already open: tests pass an in-memory
// destination. cfg.Output then only names it in messages and the manifest.
func OpenOn(ctx context.Context, cfg Config, out Output) (*Env, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return openOn(ctx, cfg, out)
}

// openOn builds the Env of a validated cfg on out.
func openOn(ctx context.Context, cfg Config, out Output) (*Env, error) {
	cfg.setDefaults()
	if cfg.Progress == nil {
		// The run's phases are measured on it whether or not anyone
		// watches.
		cfg.Progress = &Progress{}
	}
	f := &fence{}
	fenced := fencedOutput{out, f}
	store, err := openCheckpoint(ctx, cfg.Checkpoint, fenced, cfg.S3Options(), f)
	if err != nil {
		return nil, err
	}
	e := &Env{cfg: cfg, log: cfg.Logger, out: fenced, raw: out, fence: f, store: store, calls: cfg.Progress.callCounter()}
	if e.client, err = cognito.NewClient(ctx, cfg.Client, cfg.Limits, e.calls); err != nil {
		return nil, err
	}
	return e, nil
}

// setDefaults fills what a caller may leave unset.
func (c *Config) setDefaults() {
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Limits == nil {
		c.Limits = ratelimit.NewSet(nil, 1) // Cognito's default quotas
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.StopTimeout == 0 {
		c.StopTimeout = DefaultStopTimeout
	}
	if c.Strategy == "" {
		c.Strategy = StrategyAuto
	}
	if c.Format != "parquet" {
		c.Compression = ""
	}
}

// Config is the configuration the run uses, defaults filled in.
func (e *Env) Config() Config { return e.cfg }

// WriteFile writes a small file, such as the run summary, into the output,
// atomically.
func (e *Env) WriteFile(ctx context.Context, name string, data []byte) error {
	if err := e.out.Put(ctx, name, data); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}

// Manifest reads back the manifest of the complete export in the output,
// with its SHA-256, for the run's index to cite.
func (e *Env) Manifest(ctx context.Context) (reader.Manifest, error) {
	src, ok := e.raw.(reader.Source)
	if !ok {
		return reader.Manifest{}, fmt.Errorf("read %s: %s cannot be read back", ManifestName, e.out)
	}
	return reader.ReadManifest(ctx, src)
}

// EstimateUsers asks DescribeUserPool for the pool's EstimatedNumberOfUsers
// and records it in the run's Progress, for an ETA; for by-group it also
// samples the memberships of the first users (as auto's estimate does), so
// that the group phase, which counts memberships, has a total. A run with
// the auto strategy learns both from its estimate; this is for a run whose
// strategy is given. The calls are the run's: paced and counted.
func (e *Env) EstimateUsers(ctx context.Context) error {
	pool, err := e.describePool(ctx)
	if err != nil {
		return cognito.Explain("DescribeUserPool", err)
	}
	users := int64(pool.EstimatedNumberOfUsers)
	e.cfg.Progress.estUsers.Store(users)
	if e.cfg.Strategy != StrategyByGroup {
		return nil
	}
	groups, err := cognito.ListGroups(ctx, e.client, e.cfg.UserPoolID)
	if err != nil {
		return err
	}
	s, err := takeSample(ctx, e.client, e.cfg, groups)
	if err != nil {
		return fmt.Errorf("sample the memberships per user: %w", err)
	}
	if s.users > 0 {
		e.cfg.Progress.estMemberships.Store(users * int64(s.memberships) / int64(s.users))
	}
	return nil
}

// describePool is DescribeUserPool's answer for the pool, asked of Cognito
// once per Env: a failure is not kept, so a later caller asks again.
func (e *Env) describePool(ctx context.Context) (*types.UserPoolType, error) {
	e.poolMu.Lock()
	defer e.poolMu.Unlock()
	if e.pool != nil {
		return e.pool, nil
	}
	d, err := e.client.DescribeUserPool(ctx, &cip.DescribeUserPoolInput{UserPoolId: aws.String(e.cfg.UserPoolID)})
	if err != nil {
		return nil, err
	}
	e.pool = cmp.Or(d.UserPool, &types.UserPoolType{})
	return e.pool, nil
}

// Run exports one pool: Open, then Env.Run.
func Run(ctx context.Context, cfg Config) (Summary, error) {
	e, err := Open(ctx, cfg)
	if err != nil {
		return Summary{}, err
	}
	return e.Run(ctx)
}
