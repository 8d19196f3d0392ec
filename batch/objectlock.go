package batch

import (
	"context"
	"fmt"

	"github.com/cognito-export/cognito-export/fault"
	"github.com/cognito-export/cognito-export/location"
)

// checkObjectLock proves, before discovery's first Cognito call, that the
// outputs of the pools each target will find can be retained: an S3
// bucket with Object Lock enabled. Each pool's export checks its output
// again when it opens it, but only after ListUserPools has been spent.
func (p *Plan) checkObjectLock(ctx context.Context) error {
	for _, t := range p.Targets {
		if !t.config.S3.Retention.On() {
			continue
		}
		probe := t.config
		probe.UserPoolID = t.Key.Region + "_Found"
		probe, err := p.expand(probe)
		if err != nil {
			return fmt.Errorf("%s: %w", t.From, err)
		}
		loc, err := location.Parse(probe.Output)
		if err != nil {
			return fault.Usagef(fmt.Sprintf("%s: output %q: %v", t.From, probe.Output, err))
		}
		if err := loc.CheckObjectLock(ctx, probe.S3Options()); err != nil {
			return fmt.Errorf("%s: %w", t.From, err)
		}
	}
	return nil
}
