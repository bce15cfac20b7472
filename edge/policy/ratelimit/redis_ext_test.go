package ratelimit_test

import (
	"context"
	"fmt"
	"math"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/toolwire/toolwire/edge/policy/ratelimit"
)

// redisClient returns a client for REDIS_URL. Unset, the test is skipped;
// set, Redis must answer or the test fails.
func redisClient(t *testing.T) *redis.Client {
	t.Helper()
	url := os.Getenv("REDIS_URL")
	if url == "" {
		t.Skip("REDIS_URL is not set; set it (e.g. REDIS_URL=redis://127.0.0.1:6379/0) to run the tests against a real Redis")
	}
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatalf("REDIS_URL: %v", err)
	}
	opt.ContextTimeoutEnabled = true
	c := redis.NewClient(opt)
	t.Cleanup(func() { _ = c.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("REDIS_URL is set but Redis does not answer: %v", err)
	}
	return c
}

// testPrefix is a Redis key prefix no other test or run shares.
func testPrefix(t *testing.T) string {
	return fmt.Sprintf("toolwire-test:%s:%d:", t.Name(), time.Now().UnixNano())
}

func TestRedisDecisions(t *testing.T) {
	c := redisClient(t)
	store := ratelimit.NewRedis(c, &ratelimit.RedisOptions{Prefix: testPrefix(t)})
	ctx := context.Background()
	class := ratelimit.Class{Name: "c", Rate: 10, Burst: 5}

	if n := c.Exists(ctx, store.Key("alice", class)).Val(); n != 0 {
		t.Fatalf("key exists before any decision")
	}
	for want := 4; want >= 0; want-- {
		d, err := store.Allow(ctx, "alice", class)
		if err != nil {
			t.Fatal(err)
		}
		if !d.Allowed || d.Remaining != want || d.Limit != 5 || d.Source != ratelimit.SourceRedis {
			t.Fatalf("decision %+v; want allowed from redis, remaining %d, limit 5", d, want)
		}
	}
	d, err := store.Allow(ctx, "alice", class)
	if err != nil {
		t.Fatal(err)
	}
	// The bucket is empty; the next unit is due in at most 100 ms.
	if d.Allowed || d.RetryAfter <= 0 || d.RetryAfter > 100*time.Millisecond || d.ResetAfter > 500*time.Millisecond {
		t.Errorf("sixth call: %+v; want denied, 0 < RetryAfter <= 100ms, ResetAfter <= 500ms", d)
	}
	if n := c.Exists(ctx, store.Key("alice", class)).Val(); n != 1 {
		t.Errorf("bucket key %q missing after decisions", store.Key("alice", class))
	}
	// Another key is untouched.
	if d, _ := store.Allow(ctx, "bob", class); !d.Allowed || d.Remaining != 4 {
		t.Errorf("other key: %+v; want allowed with 4 remaining", d)
	}

	// A rate below one per second and a cost above one.
	slow := ratelimit.Class{Name: "slow", Rate: 0.5, Burst: 2, Cost: 2}
	if d, _ := store.Allow(ctx, "alice", slow); !d.Allowed || d.Remaining != 0 {
		t.Errorf("slow class, first call: %+v; want allowed, 0 remaining", d)
	}
	d, _ = store.Allow(ctx, "alice", slow)
	if d.Allowed || d.RetryAfter < 3*time.Second || d.RetryAfter > 4*time.Second {
		t.Errorf("slow class, second call: %+v; want denied, RetryAfter about 4s", d)
	}
}

// TestRedisGlobalBudget runs two replicas (two stores, each with its own
// go-redis client) against one Redis for about 2 s and checks that together
// they admit one budget: rate*elapsed + burst, within 5%.
func TestRedisGlobalBudget(t *testing.T) {
	redisClient(t) // skip, or fail if Redis does not answer, before starting the replicas
	prefix := testPrefix(t)
	class := ratelimit.Class{Name: "global", Rate: 200, Burst: 20}
	const (
		replicas  = 2
		workers   = 4 // per replica
		hammerFor = 2 * time.Second
	)

	var admitted, denied [replicas]atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	stop := start.Add(hammerFor)
	for r := range replicas {
		opt, err := redis.ParseURL(os.Getenv("REDIS_URL"))
		if err != nil {
			t.Fatal(err)
		}
		client := redis.NewClient(opt)
		t.Cleanup(func() { _ = client.Close() })
		store := ratelimit.NewRedis(client, &ratelimit.RedisOptions{Prefix: prefix})
		for range workers {
			wg.Go(func() {
				for time.Now().Before(stop) {
					d, err := store.Allow(context.Background(), "tenant", class)
					if err != nil {
						t.Errorf("replica %d: %v", r, err)
						return
					}
					if d.Allowed {
						admitted[r].Add(1)
					} else {
						denied[r].Add(1)
					}
				}
			})
		}
	}
	wg.Wait()
	elapsed := time.Since(start)

	total, totalDenied := int64(0), int64(0)
	for r := range replicas {
		total += admitted[r].Load()
		totalDenied += denied[r].Load()
		if admitted[r].Load() == 0 {
			t.Errorf("replica %d admitted nothing; the test did not exercise two replicas", r)
		}
	}
	want := class.Rate*elapsed.Seconds() + float64(class.Burst)
	dev := (float64(total) - want) / want
	t.Logf("global budget: %d admitted (replica 0: %d, replica 1: %d), %d denied in %v; budget %.0f; deviation %+.2f%%",
		total, admitted[0].Load(), admitted[1].Load(), totalDenied, elapsed.Round(time.Millisecond), want, 100*dev)
	if totalDenied < total {
		t.Errorf("only %d calls denied: the replicas did not press past the budget", totalDenied)
	}
	if math.Abs(dev) > 0.05 {
		t.Errorf("admitted %d; want %.0f ± 5%%", total, want)
	}
}
