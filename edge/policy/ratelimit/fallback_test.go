package ratelimit

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// stubStore is a primary whose health the test sets.
type stubStore struct {
	calls atomic.Int64
	mu    sync.Mutex
	fail  error // nil: answer; errHang: block until ctx ends
}

var errHang = errors.New("hang")

func (s *stubStore) set(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail = err
}

func (s *stubStore) Allow(ctx context.Context, _ string, class Class) (Decision, error) {
	s.calls.Add(1)
	s.mu.Lock()
	fail := s.fail
	s.mu.Unlock()
	switch fail {
	case nil:
		return Decision{Allowed: true, Limit: class.Burst, Class: class, Source: SourceRedis}, nil
	case errHang:
		<-ctx.Done()
		return Decision{}, ctx.Err()
	}
	return Decision{}, fail
}

// manualClock is a clock the test moves.
type manualClock struct{ ns atomic.Int64 }

func (c *manualClock) now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *manualClock) advance(d time.Duration) { c.ns.Add(int64(d)) }

func counterValue(t *testing.T, f *Fallback, reason string) float64 {
	t.Helper()
	var m dto.Metric
	if err := f.counters[reason].Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

func testGauge(t *testing.T, g prometheus.Gauge) float64 {
	t.Helper()
	var m dto.Metric
	if err := g.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetGauge().GetValue()
}

func TestFallbackModes(t *testing.T) {
	class := Class{Name: "c", Rate: 1, Burst: 2}
	for _, tc := range []struct {
		mode        FallbackMode
		wantAllowed []bool
		wantSource  Source
	}{
		{FallbackLocal, []bool{true, true, false}, SourceLocal}, // the local bucket: burst 2
		{FallbackAllow, []bool{true, true, true}, SourceFallback},
		{FallbackDeny, []bool{false, false, false}, SourceFallback},
	} {
		t.Run(string(tc.mode), func(t *testing.T) {
			primary := &stubStore{fail: errors.New("connection refused")}
			f := NewFallback(primary, &FallbackOptions{Mode: tc.mode, Registerer: prometheus.NewRegistry(), Logger: discard()})
			for i, want := range tc.wantAllowed {
				d, err := f.Allow(context.Background(), "k", class)
				if err != nil {
					t.Fatalf("call %d: %v", i, err)
				}
				if d.Allowed != want || d.Source != tc.wantSource {
					t.Errorf("call %d: Allowed, Source = %v, %q; want %v, %q", i, d.Allowed, d.Source, want, tc.wantSource)
				}
				if !d.Allowed && d.RetryAfter <= 0 {
					t.Errorf("call %d: denied with RetryAfter %v; want > 0", i, d.RetryAfter)
				}
			}
			if got := counterValue(t, f, ReasonError) + counterValue(t, f, ReasonDown); got != 3 {
				t.Errorf("fallback counter = %v; want 3", got)
			}
		})
	}
}

// TestFallbackProbes checks that a down primary is asked once per probe
// interval, and that a probe that succeeds brings calls back to it.
func TestFallbackProbes(t *testing.T) {
	primary := &stubStore{fail: errors.New("connection refused")}
	clock := &manualClock{}
	var logs bytes.Buffer
	f := NewFallback(primary, &FallbackOptions{
		ProbeInterval: time.Second,
		Registerer:    prometheus.NewRegistry(),
		Logger:        slog.New(slog.NewTextHandler(&logs, nil)),
		LogInterval:   time.Hour,
	})
	f.now = clock.now
	class := Class{Name: "c", Rate: 1000, Burst: 1000}
	ctx := context.Background()

	for range 100 {
		if d, err := f.Allow(ctx, "k", class); err != nil || d.Source != SourceLocal {
			t.Fatalf("down: %+v, %v; want a local decision", d, err)
		}
	}
	if n := primary.calls.Load(); n != 1 {
		t.Errorf("primary asked %d times in one probe interval; want 1", n)
	}
	if f.Healthy() {
		t.Error("Healthy after a failure")
	}
	if got, want := counterValue(t, f, ReasonError), 1.0; got != want {
		t.Errorf("error fallbacks = %v; want %v", got, want)
	}
	if got, want := counterValue(t, f, ReasonDown), 99.0; got != want {
		t.Errorf("down fallbacks = %v; want %v", got, want)
	}

	clock.advance(time.Second) // a probe is due; it fails again
	for range 100 {
		_, _ = f.Allow(ctx, "k", class)
	}
	if n := primary.calls.Load(); n != 2 {
		t.Errorf("primary asked %d times after two intervals; want 2", n)
	}

	primary.set(nil)
	clock.advance(time.Second)
	for i := range 10 {
		if d, _ := f.Allow(ctx, "k", class); d.Source != SourceRedis {
			t.Fatalf("call %d after recovery decided by %q; want the primary", i, d.Source)
		}
	}
	if !f.Healthy() || testGauge(t, f.up) != 1 {
		t.Error("not healthy after a successful probe")
	}
	// One record for the failure, one for the recovery: not one per call.
	if n := strings.Count(logs.String(), "\n"); n != 2 {
		t.Errorf("%d log records; want 2:\n%s", n, logs.String())
	}
}

func TestFallbackTimeout(t *testing.T) {
	primary := &stubStore{fail: errHang}
	f := NewFallback(primary, &FallbackOptions{Timeout: 20 * time.Millisecond, Registerer: prometheus.NewRegistry(), Logger: discard()})
	class := Class{Name: "c", Rate: 1, Burst: 1}

	start := time.Now()
	d, err := f.Allow(context.Background(), "k", class)
	took := time.Since(start)
	if err != nil || !d.Allowed || d.Source != SourceLocal {
		t.Fatalf("hung primary: %+v, %v; want an allowed local decision", d, err)
	}
	if took > 2*time.Second {
		t.Errorf("decision took %v with a 20ms timeout", took)
	}
	if got := counterValue(t, f, ReasonTimeout); got != 1 {
		t.Errorf("timeout fallbacks = %v; want 1", got)
	}

	// A caller that gives up is not a failing primary.
	g := NewFallback(primary, &FallbackOptions{Timeout: time.Minute, Registerer: prometheus.NewRegistry(), Logger: discard()})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if _, err := g.Allow(ctx, "k", class); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("caller's deadline: error %v; want DeadlineExceeded", err)
	}
	if !g.Healthy() {
		t.Error("the caller's deadline marked the primary down")
	}
}

func TestParseFallbackMode(t *testing.T) {
	for in, want := range map[string]FallbackMode{"": FallbackLocal, "local": FallbackLocal, "allow": FallbackAllow, "deny": FallbackDeny} {
		if got, err := ParseFallbackMode(in); err != nil || got != want {
			t.Errorf("ParseFallbackMode(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := ParseFallbackMode("open"); err == nil {
		t.Error(`ParseFallbackMode("open") succeeded`)
	}
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }
