package governance

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/toolwire/toolwire/internal/redistest"
)

// Two edge processes share one Redis, and one principal (127.0.0.1, as
// there is no authentication) hammers both at once: together they admit the
// principal's budget once, burst + rate × time, within 5%. Without Redis,
// the same load gets about twice that through, which is what shows the
// shared store at work.
func TestReplicasShareOneBudget(t *testing.T) {
	redisURL, rc := sharedRedis(t)
	const (
		rate    = 200.0
		burst   = 50
		workers = 8
		period  = 5 * time.Second
	)
	prefix := fmt.Sprintf("toolwire-governance:%d:", time.Now().UnixNano())
	limits := []string{"--rate-limit", "200/s", "--rate-burst", "50"}
	// A generous Redis timeout: a decision that fell back to the local
	// store on a loaded test machine would blur the figure.
	shared := append([]string{"--redis-url", redisURL, "--redis-prefix", prefix, "--redis-timeout", "250ms"}, limits...)

	run := func(args []string) (total int, each [2]*hammerResult, want float64) {
		edges := [2]*edgeProc{startEdge(t, args...), startEdge(t, args...)}
		var wg sync.WaitGroup
		for i, e := range edges {
			each[i] = &hammerResult{}
			wg.Go(func() { hammer(t, newClient("127.0.0.1", workers), e.base, workers, period, each[i]) })
		}
		wg.Wait()
		first, last := each[0].first, each[0].lastRequested
		for _, r := range each {
			if len(r.other) > 0 {
				t.Errorf("answers other than 200 and 429: %v", r.other)
			}
			total += r.admitted
			if r.first.Before(first) {
				first = r.first
			}
			if r.lastRequested.After(last) {
				last = r.lastRequested
			}
		}
		return total, each, burst + rate*last.Sub(first).Seconds()
	}

	total, each, want := run(shared)
	dev := (float64(total) - want) / want
	t.Logf("shared Redis: admitted %d in all (replica A %d, replica B %d); budget burst %d + %v/s × window = %.0f; deviation %+.2f%%",
		total, each[0].admitted, each[1].admitted, burst, rate, want, 100*dev)
	t.Logf("replica A: %s", each[0])
	t.Logf("replica B: %s", each[1])
	if math.Abs(dev) > 0.05 {
		t.Errorf("two replicas admitted %d; want within 5%% of the global budget %.0f", total, want)
	}
	if each[0].admitted == 0 || each[1].admitted == 0 {
		t.Errorf("a replica admitted nothing: %d and %d", each[0].admitted, each[1].admitted)
	}
	keys, err := rc.Keys(context.Background(), "rate:"+prefix+"*").Result()
	if err != nil || len(keys) != 1 || keys[0] != "rate:"+prefix+"principal:127.0.0.1" {
		t.Errorf("Redis keys under the test's prefix: %v %v; want the one bucket of principal 127.0.0.1", keys, err)
	}

	total, _, want = run(limits)
	t.Logf("control, no Redis: admitted %d in all, %.2f × the global budget %.0f (each replica enforces it alone)", total, float64(total)/want, want)
	if float64(total) < 1.5*want {
		t.Errorf("without Redis two replicas admitted %d, under 1.5 × %.0f: the control does not tell shared from local budgets", total, want)
	}
}

// One principal holds 500 concurrent streaming calls and floods echo calls
// from 16 goroutines; another principal's calls, meanwhile, all succeed.
// The edge runs its defaults (64 calls in flight per principal, 128
// waiting, 1024 in all).
func TestFairness(t *testing.T) {
	e := startEdge(t)
	flooder := newClient("127.0.0.1", 600)
	victim := newClient("127.0.0.2", 2)

	var streams struct {
		sync.Mutex
		ok, queueFull, waitTimeout int
		other                      map[string]int
	}
	streams.other = map[string]int{}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var streamsDone sync.WaitGroup
	for range 500 {
		streamsDone.Go(func() {
			a, err := call(flooder, callRequest(ctx, e.base, "stream", `{"n":40,"interval_ms":100}`, `,"progressToken":"p"`))
			streams.Lock()
			defer streams.Unlock()
			switch {
			case err != nil:
				streams.other[err.Error()]++
			case a.result != nil && a.events == 40:
				streams.ok++
			case a.errCode == -32030 && strings.Contains(string(a.errData), `"queue_full"`):
				streams.queueFull++
			case a.errCode == -32030 && strings.Contains(string(a.errData), `"wait_timeout"`):
				streams.waitTimeout++
			default:
				streams.other[fmt.Sprintf("HTTP %d code %d, %d events", a.status, a.errCode, a.events)]++
			}
		})
	}
	done := make(chan struct{})
	go func() { streamsDone.Wait(); close(done) }()

	var floodOK, floodRefused, floodOther atomic.Int64
	var flood sync.WaitGroup
	for range 16 {
		flood.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				a, err := call(flooder, callRequest(ctx, e.base, "echo", `{"text":"flood"}`, ""))
				switch {
				case err == nil && a.result != nil:
					floodOK.Add(1)
				case err == nil && a.errCode == -32030:
					floodRefused.Add(1)
				default:
					floodOther.Add(1)
				}
			}
		})
	}

	var lat latencies
	failures := map[string]int{}
	for {
		select {
		case <-done:
		default:
			start := time.Now()
			a, err := call(victim, callRequest(ctx, e.base, "echo", `{"text":"victim"}`, ""))
			lat = append(lat, time.Since(start))
			switch {
			case err != nil:
				failures[err.Error()]++
			case a.status != http.StatusOK || !strings.Contains(string(a.result), `"structuredContent":{"text":"victim"}`):
				failures[fmt.Sprintf("HTTP %d code %d %s", a.status, a.errCode, a.body)]++
			}
			continue
		}
		break
	}
	flood.Wait()

	t.Logf("flooder's 500 streams: %d completed, %d refused at once (queue full), %d refused after waiting (wait timeout), other %v",
		streams.ok, streams.queueFull, streams.waitTimeout, streams.other)
	t.Logf("flooder's echo flood: %d admitted, %d refused (-32030), %d other", floodOK.Load(), floodRefused.Load(), floodOther.Load())
	t.Logf("victim (another principal), during the flood: %s", lat)
	m := scrape(t, e.base)
	t.Logf("rejections: principal queue_full %v, principal wait_timeout %v, global %v",
		m[`toolwire_concurrency_rejected_total{reason="queue_full",scope="principal"}`],
		m[`toolwire_concurrency_rejected_total{reason="wait_timeout",scope="principal"}`],
		m[`toolwire_concurrency_rejected_total{reason="queue_full",scope="global"}`]+m[`toolwire_concurrency_rejected_total{reason="wait_timeout",scope="global"}`])

	if len(failures) > 0 {
		t.Errorf("the victim's calls failed: %v", failures)
	}
	if len(lat) < 10 {
		t.Errorf("the victim made only %d calls", len(lat))
	}
	if worst := lat.quantile(1); worst > 5*time.Second {
		t.Errorf("a victim call took %v; want well under 5s (a sanity bound)", worst)
	}
	if streams.ok+streams.queueFull+streams.waitTimeout != 500 || len(streams.other) > 0 {
		t.Errorf("stream outcomes do not add up to 500: %d completed, %d queue full, %d wait timeout, other %v",
			streams.ok, streams.queueFull, streams.waitTimeout, streams.other)
	}
	if streams.ok < 64 || streams.queueFull == 0 {
		t.Errorf("want the flooder held to its own slots: %d streams completed, %d refused at once", streams.ok, streams.queueFull)
	}
	if floodRefused.Load() == 0 {
		t.Error("the flood was never refused")
	}
}

// A slowloris client's connections, which send their headers a byte at a
// time, are closed at the header timeout without an answer, while another
// client's calls go on. Connections past --max-connections are closed at
// once, and served again once the slow ones are gone.
func TestSlowloris(t *testing.T) {
	const headerTimeout = time.Second
	e := startEdge(t, "--read-header-timeout", headerTimeout.String(), "--max-connections", "300")
	addr := strings.TrimPrefix(e.base, "http://")

	// slow opens a connection that sends a request line and then one header
	// byte every 200 ms, and reports when and how it ended.
	type ending struct {
		after time.Duration
		bytes int64
		err   error
	}
	slow := func(ctx context.Context, out chan<- ending) {
		start := time.Now()
		c, err := net.Dial("tcp", addr)
		if err != nil {
			out <- ending{err: err}
			return
		}
		defer c.Close()
		go func() {
			_, _ = io.WriteString(c, "POST /mcp HTTP/1.1\r\nHost: "+addr+"\r\nX-Slow: ")
			for ctx.Err() == nil {
				if _, err := c.Write([]byte("a")); err != nil {
					return
				}
				time.Sleep(200 * time.Millisecond)
			}
		}()
		_ = c.SetReadDeadline(time.Now().Add(30 * time.Second)) // a bound on a broken edge
		n, err := io.Copy(io.Discard, c)
		out <- ending{after: time.Since(start), bytes: n, err: err}
	}

	// Phase 1: 200 slow connections while a normal client calls.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	endings := make(chan ending, 200)
	for range 200 {
		go slow(ctx, endings)
	}
	client := newClient("127.0.0.1", 1)
	var lat latencies
	var closed []time.Duration
	deadline := time.After(30 * time.Second)
	for len(closed) < 200 {
		select {
		case en := <-endings:
			// The edge closes without a word: EOF, or a reset when a byte of
			// ours arrived after its last read.
			if en.bytes != 0 || (en.err != nil && !errors.Is(en.err, syscall.ECONNRESET)) {
				t.Errorf("a slow connection ended with %d bytes and %v; want a silent close (EOF or reset)", en.bytes, en.err)
			}
			closed = append(closed, en.after)
			continue
		case <-deadline:
			t.Fatalf("only %d of 200 slow connections were closed within 30s", len(closed))
		default:
		}
		start := time.Now()
		a, err := call(client, callRequest(ctx, e.base, "echo", `{"text":"hi"}`, ""))
		lat = append(lat, time.Since(start))
		if err != nil || a.status != http.StatusOK || a.result == nil {
			t.Errorf("a normal call during the slowloris: %v HTTP %d %s", err, a.status, a.body)
		}
	}
	median := latencies(closed).quantile(0.5)
	t.Logf("200 slow connections closed after: min %v, median %v, max %v (header timeout %v)",
		latencies(closed).quantile(0).Round(time.Millisecond), median.Round(time.Millisecond),
		latencies(closed).quantile(1).Round(time.Millisecond), headerTimeout)
	t.Logf("normal calls meanwhile: %s", lat)
	if latencies(closed).quantile(0) < headerTimeout-50*time.Millisecond || median > 3*headerTimeout {
		t.Errorf("slow connections were closed after %v (median); want about the header timeout %v", median, headerTimeout)
	}
	client.CloseIdleConnections()

	// Phase 2: 300 slow connections take every slot; one more is closed at
	// once; once the slow ones are cut off, calls are served again.
	endings = make(chan ending, 300)
	var held []net.Conn
	for range 300 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
		_, _ = io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: "+addr+"\r\nX-Slow: a")
	}
	defer func() {
		for _, c := range held {
			c.Close()
		}
	}()
	time.Sleep(100 * time.Millisecond) // the edge accepts them
	fresh := newClient("127.0.0.1", 1)
	start := time.Now()
	a, err := call(fresh, callRequest(ctx, e.base, "echo", `{"text":"hi"}`, ""))
	refusedIn := time.Since(start)
	if err == nil {
		t.Errorf("a connection past --max-connections was served: HTTP %d", a.status)
	}
	t.Logf("connection past the bound: %v after %v", err, refusedIn.Round(time.Microsecond))
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		fresh.CloseIdleConnections()
		a, err = call(fresh, callRequest(ctx, e.base, "echo", `{"text":"hi"}`, ""))
		if err == nil && a.status == http.StatusOK {
			t.Logf("served again %v after the slow connections opened", time.Since(start).Round(time.Millisecond))
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not served again 15s after the slow connections opened: %v", err)
		}
	}
	m := scrape(t, e.base)
	t.Logf("toolwire_connections_rejected_total %v", m["toolwire_connections_rejected_total"])
	if m["toolwire_connections_rejected_total"] < 1 {
		t.Error("no connection counted as rejected")
	}
}

// A private Redis is killed under load and started again: the edge keeps
// answering (200 or 429, never an error) with its local fallback, logs it,
// counts it in toolwire_ratelimit_fallback_total, and returns to Redis.
func TestRedisOutage(t *testing.T) {
	rs := redistest.Start(t)
	// A generous Redis timeout, so that only the outage falls back, not a
	// slow moment of a loaded test machine; a dead Redis fails at once.
	e := startEdge(t, "--redis-url", rs.URL(), "--redis-timeout", "250ms", "--rate-limit", "100/s", "--rate-burst", "100")
	client := newClient("127.0.0.1", 4)
	key := "rate:toolwire:rl:principal:127.0.0.1"

	phase := func(name string, d time.Duration) *hammerResult {
		r := &hammerResult{}
		hammer(t, client, e.base, 4, d, r)
		m := scrape(t, e.base)
		t.Logf("%s: %s; store_up %v, fallbacks %v", name, r, m["toolwire_ratelimit_store_up"], sum(m, "toolwire_ratelimit_fallback_total"))
		if len(r.other) > 0 {
			t.Errorf("%s: answers other than 200 and 429: %v", name, r.other)
		}
		if r.admitted == 0 {
			t.Errorf("%s: nothing admitted", name)
		}
		return r
	}

	phase("Redis up", time.Second)
	m := scrape(t, e.base)
	if m["toolwire_ratelimit_store_up"] != 1 || sum(m, "toolwire_ratelimit_fallback_total") != 0 {
		t.Errorf("Redis up: store_up %v, fallbacks %v; want 1 and 0", m["toolwire_ratelimit_store_up"], sum(m, "toolwire_ratelimit_fallback_total"))
	}
	c := rs.Client()
	if n, err := c.Exists(context.Background(), key).Result(); err != nil || n != 1 {
		t.Errorf("the principal's bucket %q is not in Redis: %v %v", key, n, err)
	}
	c.Close()

	rs.Kill()
	phase("Redis killed", 2*time.Second)
	m = scrape(t, e.base)
	if m["toolwire_ratelimit_store_up"] != 0 || sum(m, "toolwire_ratelimit_fallback_total") == 0 {
		t.Errorf("Redis killed: store_up %v, fallbacks %v; want 0 and some", m["toolwire_ratelimit_store_up"], sum(m, "toolwire_ratelimit_fallback_total"))
	}
	if !strings.Contains(e.stderr.String(), "rate-limit store failing; deciding without it") {
		t.Errorf("no fallback logged:\n%s", e.stderr)
	}

	rs.Restart()
	start := time.Now()
	for scrape(t, e.base)["toolwire_ratelimit_store_up"] != 1 {
		// Decisions probe Redis; a quiet edge would not notice it is back.
		_, _ = call(client, callRequest(context.Background(), e.base, "echo", `{"text":"probe"}`, ""))
		if time.Since(start) > 15*time.Second {
			t.Fatal("the edge did not return to Redis within 15s of its restart")
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("back on Redis %v after its restart", time.Since(start).Round(time.Millisecond))
	before := sum(scrape(t, e.base), "toolwire_ratelimit_fallback_total")
	phase("Redis restarted", time.Second)
	if after := sum(scrape(t, e.base), "toolwire_ratelimit_fallback_total"); after != before {
		t.Errorf("fallbacks went on after the recovery: %v, then %v", before, after)
	}
	c = rs.Client()
	defer c.Close()
	if n, err := c.Exists(context.Background(), key).Result(); err != nil || n != 1 {
		t.Errorf("the principal's bucket is not in the restarted Redis: %v %v", n, err)
	}
	if !strings.Contains(e.stderr.String(), "rate-limit store answers again") {
		t.Errorf("no recovery logged:\n%s", e.stderr)
	}
}

// With every call slot taken and no queue, the edge is over capacity: a
// request is answered 503 with Retry-After at once, before its body is
// read, while health checks go on; freed slots serve calls again.
func TestShedding(t *testing.T) {
	e := startEdge(t, "--concurrency", "2", "--concurrency-queue", "0", "--principal-concurrency", "0")
	client := newClient("127.0.0.1", 4)
	ctx, cancel := context.WithCancel(context.Background())
	var sleeps sync.WaitGroup
	for range 2 {
		sleeps.Go(func() { _, _ = call(client, callRequest(ctx, e.base, "sleep", `{"ms":60000}`, "")) })
	}
	for deadline := time.Now().Add(10 * time.Second); scrape(t, e.base)[`toolwire_concurrency_in_flight{scope="global"}`] != 2; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the two sleeps did not take the slots")
		}
	}

	var lat latencies
	for range 20 {
		start := time.Now()
		a, err := call(client, callRequest(context.Background(), e.base, "echo", `{"text":"hi"}`, ""))
		lat = append(lat, time.Since(start))
		if err != nil {
			t.Fatal(err)
		}
		if a.status != http.StatusServiceUnavailable || a.header.Get("Retry-After") != "1" || a.header.Get("Content-Type") != "application/json" ||
			string(a.body) != `{"error":"overloaded","message":"server over capacity; retry later","retryAfterMs":1000}`+"\n" {
			t.Fatalf("over capacity: HTTP %d %v %q; want 503, Retry-After 1 and the overloaded body", a.status, a.header, a.body)
		}
	}
	t.Logf("shed requests answered in: %s", lat)
	if p99 := lat.quantile(0.99); p99 > 500*time.Millisecond {
		t.Errorf("shedding took %v (p99); want milliseconds (a sanity bound of 500ms)", p99)
	}
	if resp, err := http.Get(e.base + "/healthz"); err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("health check while over capacity: %v %v", resp, err)
	}
	if n := scrape(t, e.base)["toolwire_shed_total"]; n < 20 {
		t.Errorf("toolwire_shed_total %v; want at least 20", n)
	}
	cancel()
	sleeps.Wait()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		a, err := call(client, callRequest(context.Background(), e.base, "echo", `{"text":"hi"}`, ""))
		if err == nil && a.status == http.StatusOK && a.result != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("calls not served once the slots freed: %v HTTP %d", err, a.status)
		}
	}
}

// readUntil reads r line by line until a line has prefix.
func readUntil(r *bufio.Reader, prefix string) error {
	for {
		l, err := r.ReadString('\n')
		if err != nil {
			return err
		}
		if strings.HasPrefix(l, prefix) {
			return nil
		}
	}
}
