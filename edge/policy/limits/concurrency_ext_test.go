package limits_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"

	"github.com/toolwire/toolwire/edge/policy/limits"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// waitFor polls cond for up to 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

// gauge reads toolwire_concurrency_<name>{scope} from reg.
func gauge(t *testing.T, reg *prometheus.Registry, name, scope string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "toolwire_concurrency_"+name {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "scope" && l.GetValue() == scope {
					return m.GetGauge().GetValue()
				}
			}
		}
	}
	return 0
}

func queued(l *limits.Limiter) int {
	_, q := l.InFlight()
	return q
}

// TestQueueBoundAndFIFO fills one slot and a queue of two, checks that a
// fourth call fails at once, and that waiters get the slot in arrival order.
func TestQueueBoundAndFIFO(t *testing.T) {
	reg := prometheus.NewRegistry()
	l := limits.NewLimiter(&limits.Options{Global: limits.Limit{MaxInFlight: 1, MaxQueue: 2}, Registerer: reg})
	ctx := context.Background()

	hold, err := l.Acquire(ctx, "p", "t")
	if err != nil {
		t.Fatal(err)
	}
	order := make(chan int, 2)
	var wg sync.WaitGroup
	for i := range 2 {
		wg.Go(func() {
			release, err := l.Acquire(ctx, "p", "t")
			if err != nil {
				t.Errorf("waiter %d: %v", i, err)
				return
			}
			order <- i
			release()
		})
		waitFor(t, fmt.Sprintf("waiter %d to queue", i), func() bool { return queued(l) == i+1 })
	}
	if g := gauge(t, reg, "queued", "global"); g != 2 {
		t.Errorf("queued gauge = %v; want 2", g)
	}
	if !l.Saturated() {
		t.Error("Saturated = false with the slot taken and the queue full")
	}

	start := time.Now()
	_, err = l.Acquire(ctx, "p", "t")
	var le *limits.LimitError
	if !errors.Is(err, limits.ErrQueueFull) || !errors.As(err, &le) || le.Scope != limits.ScopeGlobal {
		t.Fatalf("past the queue: error %v; want a global ErrQueueFull", err)
	}
	t.Logf("queue full refused in %v", time.Since(start))
	if took := time.Since(start); took > time.Second {
		t.Errorf("ErrQueueFull took %v; want it at once", took)
	}

	hold()
	wg.Wait()
	close(order)
	var got []int
	for i := range order {
		got = append(got, i)
	}
	if fmt.Sprint(got) != "[0 1]" {
		t.Errorf("waiters served in order %v; want [0 1]", got)
	}
	if in, q := l.InFlight(); in != 0 || q != 0 {
		t.Errorf("after all released: in flight %d, queued %d; want 0, 0", in, q)
	}
	if g := gauge(t, reg, "in_flight", "global"); g != 0 {
		t.Errorf("in-flight gauge = %v; want 0", g)
	}
}

func TestWaitTimeout(t *testing.T) {
	reg := prometheus.NewRegistry()
	const timeout = 50 * time.Millisecond
	l := limits.NewLimiter(&limits.Options{
		PerPrincipal: limits.Limit{MaxInFlight: 1, MaxQueue: 1},
		WaitTimeout:  timeout,
		Registerer:   reg,
	})
	hold, err := l.Acquire(context.Background(), "alice", "t")
	if err != nil {
		t.Fatal(err)
	}
	defer hold()
	start := time.Now()
	_, err = l.Acquire(context.Background(), "alice", "t")
	took := time.Since(start)
	if !errors.Is(err, limits.ErrWaitTimeout) {
		t.Fatalf("error %v; want ErrWaitTimeout", err)
	}
	if took < timeout || took > 100*timeout {
		t.Errorf("timed out after %v; want about %v", took, timeout)
	}
	if g := gauge(t, reg, "queued", "principal"); g != 0 {
		t.Errorf("queued gauge = %v after the timeout; want 0", g)
	}
}

// TestCancelRemovesWaiter cancels a queued call and checks that its queue
// place and its claim on the slot are gone.
func TestCancelRemovesWaiter(t *testing.T) {
	l := limits.NewLimiter(&limits.Options{Global: limits.Limit{MaxInFlight: 1, MaxQueue: 1}, Registerer: prometheus.NewRegistry()})
	hold, err := l.Acquire(context.Background(), "p", "t")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := l.Acquire(ctx, "p", "t")
		errc <- err
	}()
	waitFor(t, "the waiter to queue", func() bool { return queued(l) == 1 })
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled waiter: error %v; want context.Canceled", err)
	}
	if in, q := l.InFlight(); in != 1 || q != 0 {
		t.Fatalf("after cancel: in flight %d, queued %d; want 1, 0", in, q)
	}

	// The queue place is free again, and the slot goes to the new waiter.
	got := make(chan func(), 1)
	go func() {
		release, err := l.Acquire(context.Background(), "p", "t")
		if err != nil {
			t.Errorf("second waiter: %v", err)
		}
		got <- release
	}()
	waitFor(t, "the second waiter to queue", func() bool { return queued(l) == 1 })
	hold()
	release := <-got
	if release == nil {
		t.FailNow()
	}
	release()
	if in, q := l.InFlight(); in != 0 || q != 0 {
		t.Errorf("at the end: in flight %d, queued %d; want 0, 0", in, q)
	}
}

func TestReleaseExactlyOnce(t *testing.T) {
	l := limits.NewLimiter(&limits.Options{Global: limits.Limit{MaxInFlight: 2}, Registerer: prometheus.NewRegistry()})
	ctx := context.Background()
	r1, _ := l.Acquire(ctx, "p", "t")
	r2, _ := l.Acquire(ctx, "p", "t")
	for range 3 {
		r1() // only the first call gives a slot back
	}
	r3, err := l.Acquire(ctx, "p", "t")
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	if _, err := l.Acquire(ctx, "p", "t"); !errors.Is(err, limits.ErrQueueFull) {
		t.Fatalf("third holder: error %v; want ErrQueueFull (a double release gave back two slots)", err)
	}
	r2()
	r3()
	r3()
	if in, _ := l.InFlight(); in != 0 {
		t.Errorf("in flight %d; want 0", in)
	}
}

// TestFairness has principal A hold its maximum and flood; principal B must
// still get a slot at once, because A waits in its own queue, not in the
// shared one.
func TestFairness(t *testing.T) {
	reg := prometheus.NewRegistry()
	l := limits.NewLimiter(&limits.Options{
		Global:       limits.Limit{MaxInFlight: 4, MaxQueue: 4},
		PerPrincipal: limits.Limit{MaxInFlight: 2, MaxQueue: 4},
		WaitTimeout:  2 * time.Second,
		Registerer:   reg,
	})
	ctx := context.Background()
	var held []func()
	for range 2 {
		r, err := l.Acquire(ctx, "A", "search")
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, r)
	}

	const flood = 50
	var wg sync.WaitGroup
	var mu sync.Mutex
	results := map[string]int{}
	var floodReleases []func()
	for range flood {
		wg.Go(func() {
			r, err := l.Acquire(ctx, "A", "search")
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				results["ok"]++
				floodReleases = append(floodReleases, r)
			case errors.Is(err, limits.ErrQueueFull):
				results["queue_full"]++
			default:
				results[err.Error()]++
			}
		})
	}
	waitFor(t, "A's flood to settle", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return results["queue_full"] == flood-4
	})

	start := time.Now()
	rb, err := l.Acquire(ctx, "B", "search")
	took := time.Since(start)
	t.Logf("B acquired in %v while A flooded (A: %v)", took, results)
	if err != nil {
		t.Fatalf("B starved: %v", err)
	}
	if took > time.Second {
		t.Errorf("B waited %v; want a slot at once", took)
	}
	if g := gauge(t, reg, "queued", "global"); g != 0 {
		t.Errorf("A's flood sits in the global queue (%v waiting); want it in A's own", g)
	}
	if g := gauge(t, reg, "queued", "principal"); g != 4 {
		t.Errorf("principal queue holds %v; want A's 4", g)
	}

	rb()
	for _, r := range held {
		r()
	}
	// A's queued calls now get slots, two at a time: release each as it
	// comes until the whole flood has finished.
	for {
		mu.Lock()
		done := results["ok"]+results["queue_full"] == flood
		rs := floodReleases
		floodReleases = nil
		mu.Unlock()
		for _, r := range rs {
			r()
		}
		if done && len(rs) == 0 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	wg.Wait()
	if results["ok"] != 4 {
		t.Errorf("A's flood: %v; want 4 admitted from its queue", results)
	}
	if in, q := l.InFlight(); in != 0 || q != 0 {
		t.Errorf("at the end: in flight %d, queued %d; want 0, 0", in, q)
	}
}

func TestToolLimits(t *testing.T) {
	l := limits.NewLimiter(&limits.Options{
		PerTool:    limits.Limit{MaxInFlight: 10},
		Tools:      map[string]limits.Limit{"export": {MaxInFlight: 1}},
		Registerer: prometheus.NewRegistry(),
	})
	ctx := context.Background()
	r, err := l.Acquire(ctx, "alice", "export")
	if err != nil {
		t.Fatal(err)
	}
	defer r()
	var le *limits.LimitError
	if _, err := l.Acquire(ctx, "bob", "export"); !errors.As(err, &le) || le.Scope != limits.ScopeTool || !errors.Is(err, limits.ErrQueueFull) {
		t.Errorf("second export call: error %v; want a tool-scope ErrQueueFull", err)
	}
	r2, err := l.Acquire(ctx, "bob", "search")
	if err != nil {
		t.Errorf("another tool: %v", err)
	} else {
		r2()
	}
}

// TestChurn runs many calls that acquire, cancel and time out at once, and
// checks that every slot and queue place comes back.
func TestChurn(t *testing.T) {
	l := limits.NewLimiter(&limits.Options{
		Global:       limits.Limit{MaxInFlight: 3, MaxQueue: 5},
		PerPrincipal: limits.Limit{MaxInFlight: 2, MaxQueue: 2},
		PerTool:      limits.Limit{MaxInFlight: 2, MaxQueue: 3},
		WaitTimeout:  20 * time.Millisecond,
		Registerer:   prometheus.NewRegistry(),
	})
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Duration(i%7)*time.Millisecond)
			defer cancel()
			r, err := l.Acquire(ctx, fmt.Sprint("p", i%5), fmt.Sprint("t", i%3))
			if err == nil {
				time.Sleep(time.Duration(i%3) * time.Millisecond)
				r()
				r()
			}
		})
	}
	wg.Wait()
	if in, q := l.InFlight(); in != 0 || q != 0 {
		t.Errorf("after churn: in flight %d, queued %d; want 0, 0", in, q)
	}
	if l.KeysForTest() != 0 {
		t.Errorf("after churn: %d keys kept; want 0", l.KeysForTest())
	}
}
