// Package ratelimit paces Cognito calls: one limiter per quota category,
// shared by every goroutine of the process, slowing down multiplicatively on
// throttling and recovering additively (AIMD) up to the configured rate.
package ratelimit

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Category is a Cognito request-rate quota category.
type Category string

// Cognito's quota categories for the operations this tool calls.
const (
	UserList             Category = "UserList"
	UserResourceRead     Category = "UserResourceRead"
	UserPoolResourceRead Category = "UserPoolResourceRead"
	UserPoolRead         Category = "UserPoolRead"
)

// DefaultQuotas are Cognito's default per-account, per-region quotas in
// requests per second ("Quotas in Amazon Cognito").
var DefaultQuotas = map[Category]float64{
	UserList:             30,
	UserResourceRead:     50,
	UserPoolResourceRead: 20,
	UserPoolRead:         15,
}

var operationCategory = map[string]Category{
	"ListUsers":              UserList,
	"ListUsersInGroup":       UserList,
	"AdminListGroupsForUser": UserResourceRead,
	"ListGroups":             UserPoolResourceRead,
	"DescribeUserPool":       UserPoolRead,
	"ListUserPools":          UserPoolRead,
}

// CategoryOf returns the quota category of a Cognito operation.
func CategoryOf(operation string) (Category, bool) {
	c, ok := operationCategory[operation]
	return c, ok
}

// ParseCategory accepts a category name in any letter case.
func ParseCategory(s string) (Category, error) {
	for c := range DefaultQuotas {
		if strings.EqualFold(string(c), s) {
			return c, nil
		}
	}
	names := make([]string, 0, len(DefaultQuotas))
	for c := range DefaultQuotas {
		names = append(names, string(c))
	}
	sort.Strings(names)
	return "", fmt.Errorf("unknown rate category %q: use one of %s", s, strings.Join(names, ", "))
}

// Set holds one limiter per category. A rate of 0 or +Inf means unlimited.
type Set struct {
	limiters map[Category]*Limiter
}

// NewSet builds limiters for the given rates; categories not named get
// DefaultQuotas scaled by share.
func NewSet(rates map[Category]float64, share float64) *Set {
	s := &Set{limiters: make(map[Category]*Limiter)}
	for c, q := range DefaultQuotas {
		r, ok := rates[c]
		if !ok {
			r = q * share
		}
		s.limiters[c] = NewLimiter(r)
	}
	return s
}

// Unlimited is a Set that never waits, for local emulators.
func Unlimited() *Set {
	return NewSet(map[Category]float64{UserList: 0, UserResourceRead: 0, UserPoolResourceRead: 0, UserPoolRead: 0}, 1)
}

// For returns the limiter of an operation, or nil for an operation with no
// known category (which then is not paced).
func (s *Set) For(operation string) *Limiter {
	c, ok := operationCategory[operation]
	if !ok {
		return nil
	}
	return s.limiters[c]
}

// Rates reports each category's current rate (after adaptive slow-down).
func (s *Set) Rates() map[Category]float64 {
	out := make(map[Category]float64, len(s.limiters))
	for c, l := range s.limiters {
		out[c] = l.Rate()
	}
	return out
}

// Limiter is one category's token bucket with AIMD adaptation.
type Limiter struct {
	configured float64
	bucket     *rate.Limiter // nil when unlimited

	mu           sync.Mutex
	current      float64
	lastDecrease time.Time
	lastIncrease time.Time
	lastThrottle time.Time
}

// The adaptation constants: slow down only when a throttle follows another
// within stormWindow (a lone one, at thousands of clean calls, is the
// network's jitter meeting the service's bucket, not a full quota), at
// most once per cooldown (one throttle storm is one signal, not dozens),
// and win back the configured rate over about recoverTime of clean calls.
const (
	decreaseFactor = 0.7
	stormWindow    = 5 * time.Second
	cooldown       = time.Second
	recoverTime    = 30 * time.Second
	recoverStep    = 100 * time.Millisecond
	minShare       = 0.02
)

// NewLimiter returns a limiter at r requests per second; r <= 0 or +Inf is unlimited.
func NewLimiter(r float64) *Limiter {
	l := &Limiter{configured: r, current: r}
	if r > 0 && !math.IsInf(r, 1) {
		// A burst of one: a full bucket at start-up must not let a volley
		// of calls through above the quota.
		l.bucket = rate.NewLimiter(rate.Limit(r), 1)
	}
	return l
}

// Wait blocks until a call may be sent, or ctx is done.
func (l *Limiter) Wait(ctx context.Context) error {
	if l == nil || l.bucket == nil {
		return ctx.Err()
	}
	return l.bucket.Wait(ctx)
}

// Rate is the current rate; +Inf when unlimited.
func (l *Limiter) Rate() float64 {
	if l == nil || l.bucket == nil {
		return math.Inf(1)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.current
}

// Throttled records a TooManyRequestsException: the second within
// stormWindow slows down multiplicatively.
func (l *Limiter) Throttled(now time.Time) {
	if l == nil || l.bucket == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	lone := l.lastThrottle.IsZero() || now.Sub(l.lastThrottle) > stormWindow
	l.lastThrottle = now
	if lone || now.Sub(l.lastDecrease) < cooldown {
		return
	}
	l.current = max(l.current*decreaseFactor, l.configured*minShare)
	l.lastDecrease, l.lastIncrease = now, now
	l.bucket.SetLimitAt(now, rate.Limit(l.current))
}

// Succeeded records a call that was not throttled: recover additively.
func (l *Limiter) Succeeded(now time.Time) {
	if l == nil || l.bucket == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	// No recovery during the cooldown after a decrease: the throttles of
	// the calls already in flight are still arriving.
	if l.current >= l.configured || now.Sub(l.lastDecrease) < cooldown {
		return
	}
	elapsed := now.Sub(l.lastIncrease)
	if elapsed < recoverStep {
		return
	}
	l.current = min(l.configured, l.current+l.configured*elapsed.Seconds()/recoverTime.Seconds())
	l.lastIncrease = now
	l.bucket.SetLimitAt(now, rate.Limit(l.current))
}
