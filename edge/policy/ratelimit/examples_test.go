package ratelimit_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/toolwire/toolwire/edge/policy/ratelimit"
)

func ExampleLocal() {
	l := ratelimit.NewLocal(nil)
	class := ratelimit.Class{Name: "default", Rate: 1, Burst: 2}
	for range 3 {
		d, _ := l.Allow(context.Background(), "alice", class)
		fmt.Println(d.Allowed, d.Remaining)
	}
	// Output:
	// true 1
	// true 0
	// false 0
}

// A Redis store behind a fallback: replicas share budgets while Redis
// answers, and each replica decides alone while it does not.
func ExampleNewFallback() {
	client := redis.NewClient(&redis.Options{
		Addr:                  "127.0.0.1:6379",
		ContextTimeoutEnabled: true, // let the fallback's 50 ms timeout reach the socket
	})
	defer client.Close()
	limiter := ratelimit.NewFallback(ratelimit.NewRedis(client, nil), &ratelimit.FallbackOptions{
		Mode:       ratelimit.FallbackLocal,
		Registerer: prometheus.NewRegistry(),
	})
	d, err := limiter.Allow(context.Background(), "alice", ratelimit.Class{Name: "default", Rate: 10, Burst: 20})
	if err != nil {
		return // only an invalid class or an ended ctx get here
	}
	fmt.Println(d.Allowed)
}

func ExampleWriteTooManyRequests() {
	d := ratelimit.Decision{
		RetryAfter: 1250 * time.Millisecond,
		ResetAfter: 1900 * time.Millisecond,
		Limit:      100,
		Class:      ratelimit.Class{Name: "default", Rate: 100, Burst: 100},
	}
	rec := httptest.NewRecorder()
	ratelimit.WriteTooManyRequests(rec, d, ratelimit.ScopePrincipal)
	fmt.Println(rec.Code)
	for _, k := range []string{"Retry-After", "RateLimit-Policy", "RateLimit"} {
		fmt.Printf("%s: %s\n", k, rec.Header().Get(k))
	}
	fmt.Print(rec.Body)
	// Output:
	// 429
	// Retry-After: 2
	// RateLimit-Policy: "default";q=100;w=1
	// RateLimit: "default";r=0;t=2
	// {"error":"rate_limited","message":"rate limit exceeded","retryAfterMs":1250,"limit":100,"scope":"principal","policy":"default"}
}

func ExampleNewRPCError() {
	d := ratelimit.Decision{RetryAfter: 300 * time.Millisecond, Limit: 5, Class: ratelimit.Class{Name: "search", Rate: 1, Burst: 5}}
	_ = json.NewEncoder(os.Stdout).Encode(ratelimit.NewRPCError(d, ratelimit.ScopeTool))
	// Output: {"code":-32029,"message":"rate limit exceeded","data":{"retryAfterMs":300,"limit":5,"scope":"tool","policy":"search"}}
}
