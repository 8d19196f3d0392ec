package batch

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/cognito-export/cognito-export/export"
)

// DryRun checks every pool found (credentials, permissions, the output)
// and estimates what exporting it would cost, handing each report to
// each as it comes. It stops at the first pool that fails a check, or
// that discovery could not list: that is what to fix.
func DryRun(ctx context.Context, p *Plan, fd Found, log *slog.Logger, each func(export.Config, export.DryRunReport)) error {
	if len(fd.Failed) > 0 {
		return fmt.Errorf("dry run: %w", fd.Failed[0].Err)
	}
	for _, pp := range fd.Pools {
		cfg := pp.Config
		cfg.Logger = log.With("run_id", p.RunID, "pool", cfg.UserPoolID, "account", pp.Key.Account, "region", pp.Key.Region)
		rep, err := export.DryRun(ctx, cfg)
		if err != nil {
			if len(fd.Pools) > 1 {
				return fmt.Errorf("dry run of pool %s: %w", cfg.UserPoolID, err)
			}
			return fmt.Errorf("dry run: %w", err)
		}
		each(cfg, rep)
	}
	return nil
}
