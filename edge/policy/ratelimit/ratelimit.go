package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"
)

// Limiter decides whether one call under key may run now according to class.
//
// An error means no decision was made (the store failed, or class is
// invalid); callers choose what to do with it, or wrap the store in a
// [Fallback] that chooses for them.
type Limiter interface {
	Allow(ctx context.Context, key string, class Class) (Decision, error)
}

// Class is a named rate-limit policy. The zero Cost means 1.
//
// Name takes part in the storage key, so two classes with different names
// never share a budget, and it is the policy name of the RateLimit and
// RateLimit-Policy header fields.
type Class struct {
	Name  string  // policy name, such as "default"
	Rate  float64 // sustained units per second; must be > 0
	Burst int     // most units admitted at once; must be >= 1
	Cost  int     // units one call takes; 0 means 1; must be <= Burst
}

// ErrInvalidClass is wrapped by the error of [Class.Validate], and so by
// [Limiter.Allow] given an invalid class.
var ErrInvalidClass = errors.New("ratelimit: invalid class")

// Validate reports whether c can be enforced.
func (c Class) Validate() error {
	switch {
	case c.Name == "":
		return fmt.Errorf("%w: empty name", ErrInvalidClass)
	case !(c.Rate > 0) || math.IsInf(c.Rate, 0):
		return fmt.Errorf("%w %q: rate %v is not a positive finite number", ErrInvalidClass, c.Name, c.Rate)
	case float64(time.Second)/c.Rate >= math.MaxInt64:
		return fmt.Errorf("%w %q: rate %v is too small", ErrInvalidClass, c.Name, c.Rate)
	case c.Burst < 1:
		return fmt.Errorf("%w %q: burst %d < 1", ErrInvalidClass, c.Name, c.Burst)
	case c.Cost < 0 || c.Cost > c.Burst:
		// A cost above the burst could never be admitted.
		return fmt.Errorf("%w %q: cost %d outside [0, burst %d]", ErrInvalidClass, c.Name, c.Cost, c.Burst)
	}
	return nil
}

// cost returns the units one call takes.
func (c Class) cost() int {
	if c.Cost == 0 {
		return 1
	}
	return c.Cost
}

// interval is the time in which one unit comes back.
func (c Class) interval() time.Duration {
	return time.Duration(float64(time.Second) / c.Rate)
}

// Source names the store that made a [Decision].
type Source string

// Sources of a decision.
const (
	SourceLocal    Source = "local"    // the in-process store
	SourceRedis    Source = "redis"    // the shared Redis store
	SourceFallback Source = "fallback" // a Fallback's allow or deny mode, while its primary failed
)

// Decision is the answer to one [Limiter.Allow].
type Decision struct {
	// Allowed reports whether the call may run; its units are taken only if so.
	Allowed bool
	// Remaining is how many units could be admitted at once right after this
	// decision (0 when denied).
	Remaining int
	// RetryAfter is how long until this call's units would be admitted; 0 when
	// Allowed.
	RetryAfter time.Duration
	// ResetAfter is how long until the bucket is full again (Remaining equals
	// Limit).
	ResetAfter time.Duration
	// Limit is the quota Remaining counts against: the class's burst.
	Limit int
	// Class is the class that was applied.
	Class Class
	// Source is the store that decided.
	Source Source
}

// Scope tells a client which budget denied its call.
type Scope string

// Scopes of a denial.
const (
	ScopePrincipal Scope = "principal" // the caller's own budget
	ScopeTool      Scope = "tool"      // a budget of the tool's: the edge keeps one per caller and rate class
)

// storageKey joins a store prefix, the class name and the caller's key.
func storageKey(prefix string, class Class, key string) string {
	return prefix + class.Name + ":" + key
}
