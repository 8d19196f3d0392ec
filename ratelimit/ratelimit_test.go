package ratelimit

import (
	"context"
	"math"
	"testing"
	"time"
)

func TestCategoriesOfOperations(t *testing.T) {
	for op, want := range map[string]Category{
		"ListUsers": UserList, "ListUsersInGroup": UserList, "AdminListGroupsForUser": UserResourceRead,
		"ListGroups": UserPoolResourceRead, "DescribeUserPool": UserPoolRead, "ListUserPools": UserPoolRead,
	} {
		if got, ok := CategoryOf(op); !ok || got != want {
			t.Errorf("CategoryOf(%s) = %s, want %s", op, got, want)
		}
	}
	if _, ok := CategoryOf("AdminGetUser"); ok {
		t.Error("AdminGetUser must not be paced as a known category: the job never calls it")
	}
}

func TestNewSetScalesDefaultsAndHonoursOverrides(t *testing.T) {
	s := NewSet(map[Category]float64{UserResourceRead: 120}, 0.5)
	rates := s.Rates()
	if rates[UserList] != 15 || rates[UserResourceRead] != 120 || rates[UserPoolRead] != 7.5 {
		t.Fatalf("rates = %v", rates)
	}
	if !math.IsInf(Unlimited().Rates()[UserList], 1) {
		t.Fatal("Unlimited is limited")
	}
	if _, err := ParseCategory("userresourceread"); err != nil {
		t.Fatal(err)
	}
	if _, err := ParseCategory("Bogus"); err == nil {
		t.Fatal("ParseCategory(Bogus): want an error")
	}
}

func TestAIMDDropsOncePerCooldownAndRecoversLinearly(t *testing.T) {
	l := NewLimiter(50)
	t0 := time.Now()
	// A lone throttle is jitter, not a full quota.
	l.Throttled(t0.Add(-10 * time.Second))
	if got := l.Rate(); got != 50 {
		t.Fatalf("after a lone throttle: %v, want 50", got)
	}
	l.Throttled(t0.Add(-time.Millisecond))
	if got := l.Rate(); got != 50 {
		t.Fatalf("after throttles 10s apart: %v, want 50", got)
	}
	// The next within stormWindow is a storm.
	l.Throttled(t0)
	if got := l.Rate(); got != 35 {
		t.Fatalf("after a second throttle: %v, want 35", got)
	}
	// A burst of throttles inside the cooldown is one signal, not many.
	for i := range 20 {
		l.Throttled(t0.Add(time.Duration(i) * 10 * time.Millisecond))
	}
	if got := l.Rate(); got != 35 {
		t.Fatalf("throttle storm within the cooldown: %v, want 35", got)
	}
	// No recovery inside the cooldown; then configured/30 per second of
	// clean calls, capped at configured.
	l.Succeeded(t0.Add(500 * time.Millisecond))
	if got := l.Rate(); got != 35 {
		t.Fatalf("recovered inside the cooldown: %v", got)
	}
	l.Succeeded(t0.Add(3 * time.Second))
	if got := l.Rate(); math.Abs(got-40) > 1e-9 {
		t.Fatalf("after 3s of success: %v, want 40", got)
	}
	// Successes do not postpone the next decrease.
	for ms := 3000; ms < 6000; ms += 10 {
		l.Succeeded(t0.Add(time.Duration(ms) * time.Millisecond))
	}
	before := l.Rate()
	l.Throttled(t0.Add(6 * time.Second))
	l.Throttled(t0.Add(6*time.Second + 10*time.Millisecond))
	if got := l.Rate(); got >= before {
		t.Fatalf("a throttle after steady successes did not slow down: %v -> %v", before, got)
	}
	l.Succeeded(t0.Add(time.Minute))
	l.Succeeded(t0.Add(2 * time.Minute))
	if got := l.Rate(); got != 50 {
		t.Fatalf("after a minute: %v, want 50", got)
	}
	// A floor keeps a long storm from stopping the job altogether.
	for i := range 100 {
		l.Throttled(t0.Add(time.Minute + time.Duration(i)*2*time.Second))
	}
	if got := l.Rate(); got != 1 {
		t.Fatalf("floor: %v, want 1 (2%% of 50)", got)
	}
}

func TestWaitHonoursContext(t *testing.T) {
	l := NewLimiter(0.001) // one call per 1000 s
	ctx := context.Background()
	if err := l.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if err := l.Wait(ctx); err == nil {
		t.Fatal("Wait past the deadline returned nil")
	}
	var nilLimiter *Limiter
	if err := nilLimiter.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
}
