package export

import (
	"cmp"
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"

	"github.com/cognito-export/cognito-export/cognito"
	"github.com/cognito-export/cognito-export/fault"
	"github.com/cognito-export/cognito-export/lease"
)

// DryRunReport is what a dry run found.
type DryRunReport struct {
	Output string // probed: a write and a delete succeeded
	// AlreadyComplete says the output holds a finished export, which a run
	// without --fresh would leave alone.
	AlreadyComplete bool
	// Lease is the live lease of another run in the output, which a run
	// now would find and stop at; nil when there is none.
	Lease      *lease.Holder
	Operations []string // Cognito operations called and allowed, in order
	// Denied are the operations auto would use but may not: auto then
	// exports per-user, and there is no Estimate.
	Denied   []string
	Estimate Estimate
}

// probeUser and probeGroup stand in for a real user or group when the pool
// has none: IAM is checked before the name, so "not found" proves the
// permission as well as a real answer does.
const (
	probeUser  = "cognito-export-dry-run-probe"
	probeGroup = "cognito-export-dry-run-probe"
)

// DryRun checks everything a run needs without exporting: the output takes
// a write and a delete (a probe object), the credentials and region work,
// and every Cognito operation the run may call is allowed on the pool, each
// with the smallest request there is. Then it estimates the run's calls and
// duration. Nothing is left behind, and no checkpoint is read or written.
func DryRun(ctx context.Context, cfg Config) (DryRunReport, error) {
	e, err := Open(ctx, cfg)
	if err != nil {
		return DryRunReport{Output: cfg.Output}, err
	}
	return e.DryRun(ctx)
}

// DryRun is the dry run of the Env's pool, with the Env's client: its calls
// are counted like a run's.
func (e *Env) DryRun(ctx context.Context) (DryRunReport, error) {
	cfg, client := e.cfg, e.client
	log := e.log.With("phase", "plan")
	rep := DryRunReport{Output: cfg.Output}
	manifest, err := e.out.Get(ctx, ManifestName)
	if err != nil {
		return rep, err
	}
	rep.AlreadyComplete = manifest != nil
	if !cfg.LeaseOff {
		if rep.Lease, err = e.LiveLease(ctx); err != nil {
			return rep, err
		}
	}
	log.Info("dry run: output is writable", "output", cfg.Output, "already_complete", rep.AlreadyComplete)

	pool := aws.String(cfg.UserPoolID)
	user, group := probeUser, probeGroup
	checks := []struct {
		op   string
		call func() error
	}{
		{"DescribeUserPool", func() error {
			_, err := client.DescribeUserPool(ctx, &cip.DescribeUserPoolInput{UserPoolId: pool})
			return err
		}},
		{"ListUsers", func() error {
			r, err := client.ListUsers(ctx, &cip.ListUsersInput{UserPoolId: pool, Limit: aws.Int32(1)})
			if err == nil && len(r.Users) > 0 {
				user = aws.ToString(r.Users[0].Username)
			}
			return err
		}},
		{"AdminListGroupsForUser", func() error {
			_, err := client.AdminListGroupsForUser(ctx, &cip.AdminListGroupsForUserInput{UserPoolId: pool, Username: aws.String(user), Limit: aws.Int32(1)})
			return err
		}},
		{"ListGroups", func() error {
			r, err := client.ListGroups(ctx, &cip.ListGroupsInput{UserPoolId: pool, Limit: aws.Int32(1)})
			if err == nil && len(r.Groups) > 0 {
				group = aws.ToString(r.Groups[0].GroupName)
			}
			return err
		}},
		{"ListUsersInGroup", func() error {
			_, err := client.ListUsersInGroup(ctx, &cip.ListUsersInGroupInput{UserPoolId: pool, GroupName: aws.String(group), Limit: aws.Int32(1)})
			return err
		}},
	}
	for _, c := range checks {
		if !cfg.usesOperation(c.op) {
			continue
		}
		err := c.call()
		// The pool exists by now (DescribeUserPool and ListUsers came
		// first), so "not found" is about the user or group asked for.
		if err != nil && !(nameProbe[c.op] && (fault.KindOf(err) == fault.UserGone || fault.NotFound(err))) {
			if auto := cmp.Or(cfg.Strategy, StrategyAuto) == StrategyAuto; auto && fault.Denied(err) && !perUserOperation(c.op) {
				// As Run does: auto without its estimate exports per-user.
				rep.Denied = append(rep.Denied, c.op)
				log.Warn("dry run: operation denied; auto would export per-user", "operation", c.op)
				continue
			}
			return rep, cognito.Explain(c.op, err)
		}
		rep.Operations = append(rep.Operations, c.op)
		log.Info("dry run: operation allowed", "operation", c.op)
	}
	if _, err := e.identify(ctx); err != nil {
		return rep, err
	}
	if len(rep.Denied) > 0 {
		return rep, nil
	}
	if rep.Estimate, err = e.EstimateCost(ctx); err != nil {
		return rep, err
	}
	return rep, nil
}

// perUserOperation says whether the per-user strategy needs op.
func perUserOperation(op string) bool { return op == "ListUsers" || op == "AdminListGroupsForUser" }

// nameProbe are the operations asked about one user or group, which may be
// a probe name.
var nameProbe = map[string]bool{"AdminListGroupsForUser": true, "ListUsersInGroup": true}

// usesOperation says whether a run of cfg may call op. DescribeUserPool is
// always called, for the estimate and the ETA; auto may take either path,
// and its estimate samples with AdminListGroupsForUser.
func (c *Config) usesOperation(op string) bool {
	switch c.Strategy {
	case StrategyPerUser:
		return op != "ListGroups" && op != "ListUsersInGroup"
	case StrategyByGroup:
		// ListUsers: the pass over users without groups, and the estimate.
		return op != "AdminListGroupsForUser"
	}
	return true
}
