package export

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"golang.org/x/sync/errgroup"

	"github.com/cognito-export/cognito-export/cognito"
	"github.com/cognito-export/cognito-export/fault"
	"github.com/cognito-export/cognito-export/ratelimit"
)

// The export strategies.
const (
	StrategyPerUser = "per-user" // ListUsers, then AdminListGroupsForUser for every user
	StrategyByGroup = "by-group" // ListGroups, ListUsersInGroup for every group, then one ListUsers pass
	StrategyAuto    = "auto"     // the cheaper of the two in time, from EstimateCost
)

// Strategies lists the accepted --strategy values.
var Strategies = []string{StrategyAuto, StrategyPerUser, StrategyByGroup}

// StrategyCost is what one strategy is expected to cost.
type StrategyCost struct {
	Calls map[string]int64 `json:"calls"` // per operation
	// Seconds is the time the calls take at the configured limiter rates,
	// the quota categories working in parallel; 0 when unlimited.
	Seconds float64 `json:"seconds"`
}

// TotalCalls adds up the calls of every operation.
func (c StrategyCost) TotalCalls() int64 {
	var n int64
	for _, v := range c.Calls {
		n += v
	}
	return n
}

// Estimate predicts the cost of each strategy for one pool.
type Estimate struct {
	Users  int64 `json:"users"`  // DescribeUserPool's EstimatedNumberOfUsers
	Groups int   `json:"groups"` // from ListGroups
	// No Cognito API counts memberships, so they are measured on a sample:
	// the groups of the first SampledUsers users that ListUsers returns.
	SampledUsers       int     `json:"sampled_users"`
	MembershipsPerUser float64 `json:"memberships_per_user"`
	// Rows is what the export should come to: the memberships, and a row
	// for each user without groups when those are wanted.
	Rows       int64                   `json:"rows"`
	Strategies map[string]StrategyCost `json:"strategies"` // StrategyPerUser, StrategyByGroup
	Chosen     string                  `json:"chosen"`     // the cheaper in time (in calls when unlimited)
	// SampleCalls is what making the estimate cost, per operation; only
	// EstimateCost fills it.
	SampleCalls map[string]int64 `json:"sample_calls,omitempty"`
}

// sampleUsers is how many users the estimate looks at: enough to measure
// memberships per user within a few percent on typical pools, for about
// six seconds of the default AdminListGroupsForUser quota.
const sampleUsers = 300

// estimator is every call the estimate makes.
type estimator interface {
	userLister
	cognito.GroupsLister
	groupLister
	ListUsersInGroup(ctx context.Context, in *cip.ListUsersInGroupInput, optFns ...func(*cip.Options)) (*cip.ListUsersInGroupOutput, error)
}

// EstimateCost estimates both strategies for cfg's pool without exporting
// anything: Open, then Env.EstimateCost.
func EstimateCost(ctx context.Context, cfg Config) (Estimate, error) {
	e, err := Open(ctx, cfg)
	if err != nil {
		return Estimate{}, err
	}
	return e.EstimateCost(ctx)
}

// EstimateCost estimates both strategies with the Env's client; SampleCalls
// are the calls the estimate made.
func (e *Env) EstimateCost(ctx context.Context) (Estimate, error) {
	before := e.calls.ByOperation()
	est, err := estimate(ctx, e.client, e.cfg, e.describePool)
	est.SampleCalls = e.calls.ByOperation()
	for op, n := range before {
		if est.SampleCalls[op] -= n; est.SampleCalls[op] == 0 {
			delete(est.SampleCalls, op)
		}
	}
	return est, err
}

// estimate estimates both strategies; describe is the pool's description,
// which the run may have asked for already.
func estimate(ctx context.Context, client estimator, cfg Config, describe func(context.Context) (*types.UserPoolType, error)) (Estimate, error) {
	pool, err := describe(ctx)
	if err != nil {
		return Estimate{}, cognito.Explain("DescribeUserPool", err)
	}
	groups, err := cognito.ListGroups(ctx, client, cfg.UserPoolID)
	if err != nil {
		return Estimate{}, err
	}
	if cmp.Or(cfg.Strategy, StrategyAuto) == StrategyAuto && len(groups) > 0 {
		// For auto, by-group is a choice only if its member lists may be
		// read: one small call now, rather than a run that fails after
		// choosing it.
		_, err := client.ListUsersInGroup(ctx, &cip.ListUsersInGroupInput{
			UserPoolId: aws.String(cfg.UserPoolID), GroupName: groups[0].GroupName, Limit: aws.Int32(1),
		})
		if err != nil && fault.Denied(err) {
			return Estimate{}, cognito.Explain("ListUsersInGroup", err)
		}
	}
	est := Estimate{Groups: len(groups)}
	est.Users = int64(pool.EstimatedNumberOfUsers)
	s, err := takeSample(ctx, client, cfg, groups)
	if err != nil {
		return Estimate{}, err
	}
	est.SampledUsers = s.users
	pageSize := float64(cfg.PageSize)
	if pageSize == 0 {
		pageSize = cognito.MaxPageSize
	}
	users := float64(est.Users)
	listPages := math.Max(1, math.Ceil(users/pageSize))
	perUser := map[string]int64{"ListUsers": int64(listPages), "AdminListGroupsForUser": 0}
	var memberPages float64
	if s.users > 0 {
		est.MembershipsPerUser = float64(s.memberships) / float64(s.users)
		rowsPerUser := est.MembershipsPerUser
		if cfg.UsersWithoutGroups {
			rowsPerUser += float64(s.withoutGroups) / float64(s.users)
		}
		est.Rows = int64(math.Round(users * rowsPerUser))
		perUser["AdminListGroupsForUser"] = int64(math.Round(users * float64(s.pages) / float64(s.users)))
		// A group's member list costs one call, however small, plus one
		// per further page; its size is its share of the sample.
		for _, n := range s.perGroup {
			memberPages += math.Max(1, users*float64(n)/float64(s.users)/pageSize+0.5)
		}
		memberPages += float64(len(groups) - len(s.perGroup)) // groups the sample never met
	} else {
		memberPages = float64(len(groups))
	}
	byGroup := map[string]int64{
		"ListGroups":       int64(math.Max(1, math.Ceil(float64(len(groups))/cognito.MaxPageSize))),
		"ListUsersInGroup": int64(math.Round(memberPages)),
	}
	if cfg.UsersWithoutGroups {
		byGroup["ListUsers"] = int64(listPages)
	}
	est.Strategies = map[string]StrategyCost{
		StrategyPerUser: {Calls: perUser, Seconds: duration(perUser, cfg.Limits, false)},
		StrategyByGroup: {Calls: byGroup, Seconds: duration(byGroup, cfg.Limits, true)},
	}
	est.Chosen = cheaper(est.Strategies)
	return est, nil
}

// duration is how long calls take at the limiters' rates. Quota categories
// pace independently, so the busiest one decides; by-group lists its groups
// before anything else starts.
func duration(calls map[string]int64, limits *ratelimit.Set, sequentialListGroups bool) float64 {
	rates := limits.Rates()
	perCategory := map[ratelimit.Category]float64{}
	var first float64
	for op, n := range calls {
		c, ok := ratelimit.CategoryOf(op)
		r := rates[c]
		if !ok || math.IsInf(r, 1) || r <= 0 {
			continue
		}
		if sequentialListGroups && op == "ListGroups" {
			first += float64(n) / r
			continue
		}
		perCategory[c] += float64(n) / r
	}
	var longest float64
	for _, s := range perCategory {
		longest = math.Max(longest, s)
	}
	return first + longest
}

func cheaper(s map[string]StrategyCost) string {
	pu, bg := s[StrategyPerUser], s[StrategyByGroup]
	if pu.Seconds != bg.Seconds {
		if bg.Seconds < pu.Seconds {
			return StrategyByGroup
		}
		return StrategyPerUser
	}
	if bg.TotalCalls() < pu.TotalCalls() {
		return StrategyByGroup
	}
	return StrategyPerUser
}

type sample struct {
	users, memberships, pages int
	withoutGroups             int
	perGroup                  map[string]int // sampled members of each group
}

// takeSample pages through the groups of the first sampleUsers users.
func takeSample(ctx context.Context, client estimator, cfg Config, groups []types.GroupType) (sample, error) {
	var users []string
	var token *string
	for len(users) < sampleUsers {
		resp, err := client.ListUsers(ctx, &cip.ListUsersInput{
			UserPoolId: aws.String(cfg.UserPoolID), Limit: aws.Int32(cognito.MaxPageSize), PaginationToken: token,
		})
		if err != nil {
			return sample{}, cognito.Explain("ListUsers", err)
		}
		for _, u := range resp.Users {
			users = append(users, aws.ToString(u.Username))
		}
		if token = resp.PaginationToken; token == nil || *token == "" {
			break
		}
	}
	users = users[:min(len(users), sampleUsers)]
	s := sample{perGroup: make(map[string]int, len(groups))}
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(1, cfg.Concurrency))
	for _, username := range users {
		g.Go(func() error {
			pager, err := cognito.NewGroupsPaginator(client, cfg.UserPoolID, username, cognito.PaginationConfig{PageSize: cfg.PageSize})
			if err != nil {
				return err
			}
			var names []string
			pages := 0
			for page, err := range pager.Pages(gctx) {
				pages++
				if fault.KindOf(err) == fault.UserGone {
					break // deleted since it was listed: it costs its one call
				}
				if err != nil {
					return fmt.Errorf("sample the groups of %q: %w", username, cognito.Explain("AdminListGroupsForUser", err))
				}
				for _, gr := range page {
					names = append(names, aws.ToString(gr.GroupName))
				}
			}
			mu.Lock()
			defer mu.Unlock()
			s.users++
			s.pages += pages
			s.memberships += len(names)
			if len(names) == 0 {
				s.withoutGroups++
			}
			for _, n := range names {
				s.perGroup[n]++
			}
			return nil
		})
	}
	return s, g.Wait()
}
