package ratelimit_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/toolwire/toolwire/edge/policy/ratelimit"
)

// fakeClock is a clock that moves only when told to.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// TestLocalExact walks a 10/s burst-5 class through a fake clock and checks
// every field of every decision.
func TestLocalExact(t *testing.T) {
	clock := newFakeClock()
	l := ratelimit.NewLocal(&ratelimit.LocalOptions{Now: clock.Now})
	class := ratelimit.Class{Name: "c", Rate: 10, Burst: 5}
	ctx := context.Background()

	type step struct {
		advance time.Duration
		want    ratelimit.Decision
	}
	ok := func(remaining int, reset time.Duration) ratelimit.Decision {
		return ratelimit.Decision{Allowed: true, Remaining: remaining, ResetAfter: reset, Limit: 5}
	}
	no := func(retry, reset time.Duration) ratelimit.Decision {
		return ratelimit.Decision{RetryAfter: retry, ResetAfter: reset, Limit: 5}
	}
	steps := []step{
		{0, ok(4, 100*time.Millisecond)},
		{0, ok(3, 200*time.Millisecond)},
		{0, ok(2, 300*time.Millisecond)},
		{0, ok(1, 400*time.Millisecond)},
		{0, ok(0, 500*time.Millisecond)},
		{0, no(100*time.Millisecond, 500*time.Millisecond)},
		{40 * time.Millisecond, no(60*time.Millisecond, 460*time.Millisecond)},
		{60 * time.Millisecond, ok(0, 500*time.Millisecond)},
		{250 * time.Millisecond, ok(1, 350*time.Millisecond)}, // 2.5 units back, 1 taken
		{time.Second, ok(4, 100*time.Millisecond)},            // full again, 1 taken
	}
	for i, s := range steps {
		clock.Advance(s.advance)
		got, err := l.Allow(ctx, "alice", class)
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if diff := cmp.Diff(s.want, got, cmpopts.IgnoreFields(ratelimit.Decision{}, "Class", "Source")); diff != "" {
			t.Errorf("step %d (+%v): decision mismatch (-want +got):\n%s", i, s.advance, diff)
		}
		if got.Source != ratelimit.SourceLocal || got.Class != class {
			t.Errorf("step %d: Source, Class = %q, %+v; want local, %+v", i, got.Source, got.Class, class)
		}
	}
}

// TestLocalLongRun checks the sustained rate: over 10 s of 1 ms steps a
// 10/s burst-5 class admits exactly burst + 10*10 calls.
func TestLocalLongRun(t *testing.T) {
	clock := newFakeClock()
	l := ratelimit.NewLocal(&ratelimit.LocalOptions{Now: clock.Now})
	class := ratelimit.Class{Name: "c", Rate: 10, Burst: 5}
	admitted := 0
	for range 10_000 {
		d, err := l.Allow(context.Background(), "k", class)
		if err != nil {
			t.Fatal(err)
		}
		if d.Allowed {
			admitted++
		}
		clock.Advance(time.Millisecond)
	}
	// The last step's clock reads 9.999 s: the unit due at 10 s is not in.
	if want := 5 + 99; admitted != want {
		t.Errorf("admitted %d calls in 10 s; want %d", admitted, want)
	}
}

func TestLocalCostAndKeys(t *testing.T) {
	clock := newFakeClock()
	l := ratelimit.NewLocal(&ratelimit.LocalOptions{Now: clock.Now})
	ctx := context.Background()
	heavy := ratelimit.Class{Name: "heavy", Rate: 1, Burst: 4, Cost: 3}
	light := ratelimit.Class{Name: "light", Rate: 1, Burst: 4}

	if d, _ := l.Allow(ctx, "a", heavy); !d.Allowed || d.Remaining != 1 {
		t.Fatalf("first heavy call: %+v; want allowed with 1 remaining", d)
	}
	if d, _ := l.Allow(ctx, "a", heavy); d.Allowed || d.RetryAfter != 2*time.Second {
		t.Fatalf("second heavy call: %+v; want denied, retry after 2s", d)
	}
	// Another class and another key have budgets of their own.
	if d, _ := l.Allow(ctx, "a", light); !d.Allowed || d.Remaining != 3 {
		t.Errorf("light class: %+v; want allowed with 3 remaining", d)
	}
	if d, _ := l.Allow(ctx, "b", heavy); !d.Allowed {
		t.Errorf("other key: %+v; want allowed", d)
	}
}

// TestLocalBoundedMemory checks that idle buckets go and that MaxKeys holds.
func TestLocalBoundedMemory(t *testing.T) {
	clock := newFakeClock()
	l := ratelimit.NewLocal(&ratelimit.LocalOptions{Now: clock.Now, MaxKeys: 100})
	class := ratelimit.Class{Name: "c", Rate: 10, Burst: 5} // full again 0.5 s after a call
	ctx := context.Background()

	for i := range 1000 {
		if _, err := l.Allow(ctx, fmt.Sprint("flood-", i), class); err != nil {
			t.Fatal(err)
		}
	}
	if n := l.Len(); n != 100 {
		t.Errorf("after 1000 keys: Len = %d; want the bound, 100", n)
	}

	// Once every bucket is full again, each call drops a few idle ones (4),
	// so that no single call pays for a long sweep.
	clock.Advance(time.Second)
	for range 10 {
		if _, err := l.Allow(ctx, "active", class); err != nil {
			t.Fatal(err)
		}
	}
	if n := l.Len(); n <= 1 || n > 100-4*10+1 {
		t.Errorf("after 10 calls on idle buckets: Len = %d; want in (1, %d]", n, 100-4*10+1)
	}
	for range 100 {
		_, _ = l.Allow(ctx, "active", class)
	}
	if n := l.Len(); n != 1 {
		t.Errorf("Len = %d; want 1 (only the active key)", n)
	}
}

func TestInvalidClass(t *testing.T) {
	for _, c := range []ratelimit.Class{
		{Rate: 1, Burst: 1},
		{Name: "x", Rate: 0, Burst: 1},
		{Name: "x", Rate: -1, Burst: 1},
		{Name: "x", Rate: 1, Burst: 0},
		{Name: "x", Rate: 1, Burst: 2, Cost: 3},
		{Name: "x", Rate: 1e-12, Burst: 1},
	} {
		_, err := ratelimit.NewLocal(nil).Allow(context.Background(), "k", c)
		if !errors.Is(err, ratelimit.ErrInvalidClass) {
			t.Errorf("Allow(%+v) error = %v; want ErrInvalidClass", c, err)
		}
	}
}
