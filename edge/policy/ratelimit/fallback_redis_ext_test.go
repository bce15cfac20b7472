//go:build unix

package ratelimit_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/toolwire/toolwire/edge/policy/ratelimit"
	"github.com/toolwire/toolwire/internal/redistest"
)

// countingLimiter counts the calls that reach the primary.
type countingLimiter struct {
	ratelimit.Limiter
	calls atomic.Int64
}

func (c *countingLimiter) Allow(ctx context.Context, key string, class ratelimit.Class) (ratelimit.Decision, error) {
	c.calls.Add(1)
	return c.Limiter.Allow(ctx, key, class)
}

// syncBuffer is a bytes.Buffer safe for the logger's concurrent use.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// fallbackTotal sums toolwire_ratelimit_fallback_total over its reasons.
func fallbackTotal(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, f := range families {
		if f.GetName() != ratelimit.FallbackMetric {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "reason" {
					out[l.GetValue()] = m.GetCounter().GetValue()
					out["all"] += m.GetCounter().GetValue()
				}
			}
		}
	}
	return out
}

// phase makes decisions for about d and returns how many each source made
// and their latencies.
func phase(t *testing.T, f ratelimit.Limiter, class ratelimit.Class, d time.Duration) (map[ratelimit.Source]int, []time.Duration) {
	t.Helper()
	sources := map[ratelimit.Source]int{}
	var lat []time.Duration
	for end := time.Now().Add(d); time.Now().Before(end); {
		start := time.Now()
		dec, err := f.Allow(context.Background(), "tenant", class)
		lat = append(lat, time.Since(start))
		if err != nil {
			t.Fatalf("Allow: %v", err)
		}
		sources[dec.Source]++
		time.Sleep(time.Millisecond)
	}
	slices.Sort(lat)
	return sources, lat
}

func latencies(lat []time.Duration) string {
	if len(lat) == 0 {
		return "no calls"
	}
	q := func(p float64) time.Duration { return lat[int(p*float64(len(lat)-1))].Round(time.Microsecond) }
	return fmt.Sprintf("%d calls, p50 %v, p99 %v, max %v", len(lat), q(0.5), q(0.99), q(1))
}

// waitForSource decides until src decides, for at most 10 s.
func waitForSource(t *testing.T, f ratelimit.Limiter, class ratelimit.Class, src ratelimit.Source) time.Duration {
	t.Helper()
	start := time.Now()
	for time.Since(start) < 10*time.Second {
		d, err := f.Allow(context.Background(), "tenant", class)
		if err != nil {
			t.Fatal(err)
		}
		if d.Source == src {
			return time.Since(start)
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("decisions did not come from %q within 10s", src)
	return 0
}

// TestFallbackRealRedis runs a Fallback over a redis-server of its own, and
// stops (SIGSTOP), resumes, kills and restarts that server under it.
func TestFallbackRealRedis(t *testing.T) {
	srv := redistest.Start(t)
	client := redis.NewClient(&redis.Options{Addr: srv.Addr(), ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = client.Close() })

	const (
		timeout = 50 * time.Millisecond
		probe   = 100 * time.Millisecond
	)
	reg := prometheus.NewRegistry()
	var logs syncBuffer
	store := ratelimit.NewRedis(client, &ratelimit.RedisOptions{Prefix: testPrefix(t)})
	primary := &countingLimiter{Limiter: store}
	f := ratelimit.NewFallback(primary, &ratelimit.FallbackOptions{
		Timeout:       timeout,
		ProbeInterval: probe,
		Registerer:    reg,
		Logger:        slog.New(slog.NewTextHandler(&logs, nil)),
		LogInterval:   time.Hour,
	})
	// A budget no phase exhausts, so that the source is the only variable.
	class := ratelimit.Class{Name: "fb", Rate: 100_000, Burst: 100_000}
	key := store.Key("tenant", class)

	// Up: Redis decides.
	sources, lat := phase(t, f, class, 100*time.Millisecond)
	t.Logf("up: %v; %s", sources, latencies(lat))
	if sources[ratelimit.SourceRedis] != len(lat) {
		t.Fatalf("up: sources %v; want all redis", sources)
	}
	if n := client.Exists(context.Background(), key).Val(); n != 1 {
		t.Fatalf("up: bucket key %q missing", key)
	}

	// Hung (SIGSTOP): the timeout fires, then calls skip Redis between probes.
	srv.Signal(syscall.SIGSTOP)
	before := primary.calls.Load()
	hungFor := 700 * time.Millisecond
	sources, lat = phase(t, f, class, hungFor)
	probes := primary.calls.Load() - before
	t.Logf("hung: %v; %s; %d calls reached Redis; fallbacks %v", sources, latencies(lat), probes, fallbackTotal(t, reg))
	if sources[ratelimit.SourceLocal] < len(lat)-1 {
		t.Errorf("hung: sources %v; want local decisions", sources)
	}
	if fallbackTotal(t, reg)[ratelimit.ReasonTimeout] < 1 {
		t.Errorf("hung: no timeout fallback counted")
	}
	if limit := int64(hungFor/probe) + 3; probes > limit {
		t.Errorf("hung: %d calls reached Redis in %v; want at most %d (one per probe interval)", probes, hungFor, limit)
	}
	if worst := lat[len(lat)-1]; worst > 20*timeout {
		t.Errorf("hung: slowest decision %v; want under %v", worst, 20*timeout)
	}
	srv.Signal(syscall.SIGCONT)
	t.Logf("resumed: back to redis after %v", waitForSource(t, f, class, ratelimit.SourceRedis).Round(time.Millisecond))

	// Dead (killed): errors, then local decisions, with bounded latency.
	srv.Kill()
	before = primary.calls.Load()
	deadFor := time.Second
	sources, lat = phase(t, f, class, deadFor)
	probes = primary.calls.Load() - before
	down := fallbackTotal(t, reg)
	t.Logf("dead: %v; %s; %d calls reached Redis; fallbacks %v", sources, latencies(lat), probes, down)
	if sources[ratelimit.SourceLocal] != len(lat) {
		t.Errorf("dead: sources %v; want all local", sources)
	}
	if limit := int64(deadFor/probe) + 3; probes > limit {
		t.Errorf("dead: %d calls reached Redis in %v; want at most %d", probes, deadFor, limit)
	}
	if worst := lat[len(lat)-1]; worst > 20*timeout {
		t.Errorf("dead: slowest decision %v; want under %v", worst, 20*timeout)
	}
	if f.Healthy() {
		t.Error("dead: Fallback reports a healthy primary")
	}

	// Restarted on the same port: decisions go back to Redis, and the new,
	// empty server holds the bucket again.
	srv.Restart()
	t.Logf("restarted: back to redis after %v", waitForSource(t, f, class, ratelimit.SourceRedis).Round(time.Millisecond))
	check := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer check.Close()
	if n := check.Exists(context.Background(), key).Val(); n != 1 {
		t.Errorf("restarted: bucket key %q missing from the new server", key)
	}
	settled := fallbackTotal(t, reg)["all"]
	sources, lat = phase(t, f, class, 200*time.Millisecond)
	t.Logf("restarted: %v; %s", sources, latencies(lat))
	if sources[ratelimit.SourceRedis] != len(lat) {
		t.Errorf("restarted: sources %v; want all redis", sources)
	}
	if after := fallbackTotal(t, reg)["all"]; after != settled {
		t.Errorf("restarted: fallback counter went from %v to %v; want it to stop", settled, after)
	}
	if !f.Healthy() {
		t.Error("restarted: Fallback reports a failing primary")
	}

	// Two outages, two recoveries: a handful of records, not one per call.
	records := strings.Count(logs.String(), "\n")
	t.Logf("log records: %d\n%s", records, logs.String())
	if records > 4 {
		t.Errorf("%d log records; want at most 4", records)
	}
}
