package ratelimit

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
)

// DefaultRedisPrefix is the key prefix of a [Redis] store when
// [RedisOptions.Prefix] is empty. redis_rate puts its own "rate:" in front,
// so a bucket's key reads "rate:toolwire:rl:<class>:<key>".
const DefaultRedisPrefix = "toolwire:rl:"

// RedisOptions configures a [Redis] store. nil means the defaults.
type RedisOptions struct {
	// Prefix goes before "<class>:<key>" in every Redis key; "" means
	// [DefaultRedisPrefix]. Replicas that must share budgets use one prefix.
	Prefix string
}

// Redis is a [Limiter] whose buckets live in Redis, so that every replica
// using the same Redis and prefix draws on one budget per key.
//
// Each decision is one EVALSHA of redis_rate's GCRA script, which reads
// Redis's clock, updates the key's theoretical arrival time and sets its
// expiry in one atomic step; a bucket that is full again has no key. Redis
// does not bound the call's time: the context does, or a [Fallback] around
// the store.
type Redis struct {
	lim    *redis_rate.Limiter
	prefix string
}

var _ Limiter = (*Redis)(nil)

// NewRedis returns a store that uses client, which may be a *redis.Client,
// *redis.ClusterClient or *redis.Ring (each decision touches one key).
func NewRedis(client redis.UniversalClient, opts *RedisOptions) *Redis {
	r := &Redis{lim: redis_rate.NewLimiter(client), prefix: DefaultRedisPrefix}
	if opts != nil && opts.Prefix != "" {
		r.prefix = opts.Prefix
	}
	return r
}

// Allow takes class's cost from key's bucket in Redis if it holds enough
// units. It returns the error of the Redis call, if any, unchanged apart
// from context.
func (r *Redis) Allow(ctx context.Context, key string, class Class) (Decision, error) {
	if err := class.Validate(); err != nil {
		return Decision{}, err
	}
	res, err := r.lim.AllowN(ctx, storageKey(r.prefix, class, key), redisLimit(class), class.cost())
	if err != nil {
		return Decision{}, fmt.Errorf("ratelimit: redis: %w", err)
	}
	d := Decision{
		Allowed:    res.Allowed > 0,
		Remaining:  remaining(class, res.ResetAfter),
		ResetAfter: max(res.ResetAfter, 0),
		Limit:      class.Burst,
		Class:      class,
		Source:     SourceRedis,
	}
	if !d.Allowed {
		d.Remaining = 0
		d.RetryAfter = max(res.RetryAfter, 0)
	}
	return d, nil
}

// remaining recomputes the units left from the time until the bucket is
// full. redis_rate's script returns the same figure, but computes it in
// float seconds since 2017 (precise to about 0.1 µs) and truncates it, so 4
// units left can read 3.9999999, then 3. One microsecond of tolerance keeps
// the noise out.
func remaining(c Class, resetAfter time.Duration) int {
	units := float64(c.Burst) - float64(resetAfter-time.Microsecond)/float64(c.interval())
	return min(max(int(math.Floor(units)), 0), c.Burst)
}

// Key returns the Redis key that holds key's bucket under class, for
// operators and tests.
func (r *Redis) Key(key string, class Class) string {
	return "rate:" + storageKey(r.prefix, class, key)
}

// redisLimit expresses class in redis_rate's terms, Rate events per Period
// with an integer Rate. The script only uses Period/Rate (the emission
// interval) and Burst, so a whole rate per second maps exactly and any other
// rate becomes one event per emission interval.
func redisLimit(c Class) redis_rate.Limit {
	if c.Rate >= 1 && c.Rate == math.Trunc(c.Rate) && c.Rate <= math.MaxInt32 {
		return redis_rate.Limit{Rate: int(c.Rate), Period: time.Second, Burst: c.Burst}
	}
	return redis_rate.Limit{Rate: 1, Period: c.interval(), Burst: c.Burst}
}
