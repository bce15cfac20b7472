package ratelimit

import (
	"container/list"
	"context"
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// DefaultMaxKeys is the number of keys a [Local] store tracks when
// [LocalOptions.MaxKeys] is 0.
const DefaultMaxKeys = 100_000

// LocalOptions configures a [Local] store. The zero value, or nil, means
// the defaults.
type LocalOptions struct {
	// MaxKeys bounds the number of (class, key) buckets kept. Idle buckets
	// (full again, so forgetting them changes no decision) are dropped first;
	// past the bound, the least recently used bucket is dropped even if it is
	// not full, which gives that key a fresh burst. 0 means [DefaultMaxKeys].
	MaxKeys int
	// Now is the clock; nil means time.Now. Tests inject a fake one.
	Now func() time.Time
}

// Local is an in-process [Limiter]: one token bucket (golang.org/x/time/rate)
// per class and key. It is safe for concurrent use.
//
// Buckets live in a map plus a least-recently-used list under one mutex; a
// decision is a map lookup and a few float operations, so one lock is cheaper
// than sharding until profiles say otherwise. Every decision also looks at the
// least recently used buckets and drops those that are full again, so memory
// follows the number of recently active keys, with [LocalOptions.MaxKeys] as a
// hard bound. No background goroutine is needed, and there is nothing to close.
type Local struct {
	maxKeys int
	now     func() time.Time

	mu      sync.Mutex
	buckets map[string]*list.Element // of *bucket
	lru     list.List                // front: most recently used
}

type bucket struct {
	key      string
	lim      *rate.Limiter
	refill   time.Duration // time for an empty bucket to fill
	lastUsed time.Time
}

// sweepPerDecision bounds the idle buckets one decision drops, so that no
// call pays for a large sweep.
const sweepPerDecision = 4

var _ Limiter = (*Local)(nil)

// NewLocal returns an in-process store.
func NewLocal(opts *LocalOptions) *Local {
	l := &Local{maxKeys: DefaultMaxKeys, now: time.Now, buckets: map[string]*list.Element{}}
	if opts != nil {
		if opts.MaxKeys > 0 {
			l.maxKeys = opts.MaxKeys
		}
		if opts.Now != nil {
			l.now = opts.Now
		}
	}
	return l
}

// Allow takes class's cost from key's bucket if it holds enough units.
func (l *Local) Allow(_ context.Context, key string, class Class) (Decision, error) {
	if err := class.Validate(); err != nil {
		return Decision{}, err
	}
	now := l.now()
	cost := class.cost()

	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.bucket(now, storageKey("", class, key), class)
	allowed := b.lim.AllowN(now, cost)
	tokens := b.lim.TokensAt(now)
	b.lastUsed = now
	l.sweep(now)

	d := Decision{
		Allowed:    allowed,
		Limit:      class.Burst,
		Class:      class,
		Source:     SourceLocal,
		ResetAfter: unitsTime(float64(class.Burst)-tokens, class.Rate),
	}
	if allowed {
		d.Remaining = int(math.Floor(tokens))
	} else {
		d.RetryAfter = unitsTime(float64(cost)-tokens, class.Rate)
	}
	return d, nil
}

// Len returns the number of buckets kept.
func (l *Local) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}

// bucket returns the bucket of skey, made or updated to class's rate and
// burst, and marks it most recently used. l.mu is held.
func (l *Local) bucket(now time.Time, skey string, class Class) *bucket {
	refill := unitsTime(float64(class.Burst), class.Rate)
	if e, ok := l.buckets[skey]; ok {
		l.lru.MoveToFront(e)
		b := e.Value.(*bucket)
		if b.lim.Limit() != rate.Limit(class.Rate) {
			b.lim.SetLimitAt(now, rate.Limit(class.Rate))
		}
		if b.lim.Burst() != class.Burst {
			b.lim.SetBurstAt(now, class.Burst)
		}
		b.refill = refill
		return b
	}
	for len(l.buckets) >= l.maxKeys {
		l.drop(l.lru.Back())
	}
	b := &bucket{key: skey, lim: rate.NewLimiter(rate.Limit(class.Rate), class.Burst), refill: refill, lastUsed: now}
	l.buckets[skey] = l.lru.PushFront(b)
	return b
}

// sweep drops up to sweepPerDecision least recently used buckets that have
// been idle long enough to be full again. l.mu is held.
func (l *Local) sweep(now time.Time) {
	for range sweepPerDecision {
		e := l.lru.Back()
		if e == nil {
			return
		}
		b := e.Value.(*bucket)
		if now.Sub(b.lastUsed) < b.refill {
			return
		}
		l.drop(e)
	}
}

func (l *Local) drop(e *list.Element) {
	delete(l.buckets, e.Value.(*bucket).key)
	l.lru.Remove(e)
}

// unitsTime is how long n units take to come back at r units per second, to
// the nearest nanosecond; 0 for n <= 0.
func unitsTime(n, r float64) time.Duration {
	if n <= 0 {
		return 0
	}
	return time.Duration(math.Round(n / r * float64(time.Second)))
}
