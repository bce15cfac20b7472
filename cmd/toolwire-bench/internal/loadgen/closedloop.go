package loadgen

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// grace is how long the calls in flight at the end of a closed-loop run may
// take to finish; they do not count.
const grace = 10 * time.Second

// callOutcome is what one call brought, beyond its latency.
type callOutcome struct {
	progress, foreign int
}

// worker is one closed-loop session's tally over the measured window.
type worker struct {
	lat       []time.Duration
	progress  int // progress notifications received for the session's calls
	expected  int // progress notifications its calls should have brought
	foreign   int
	errs      int
	firstErr  error
	warmCalls int
}

// openSessions opens n sessions in parallel, on hc.
func openSessions(ctx context.Context, cfg *Config, hc *http.Client, ids *atomic.Int64, n int) ([]*session, error) {
	sessions := make([]*session, n)
	err := parallel(ctx, n, 16, func(ctx context.Context, i int) error {
		octx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		s := newSession(cfg.URL, hc, cfg.Protocol, ids)
		if err := s.open(octx); err != nil {
			return err
		}
		sessions[i] = s
		return nil
	})
	if err != nil {
		closeSessions(sessions)
		return nil, err
	}
	return sessions, nil
}

// parallel runs f(ctx, i) for i in [0, n), at most limit at a time, and
// returns the first error; the first error cancels ctx for the rest.
func parallel(ctx context.Context, n, limit int, f func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	sem := make(chan struct{}, limit)
	var wg sync.WaitGroup
	for i := range n {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := f(ctx, i); err != nil {
				cancel(err)
			}
		})
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return ctx.Err()
}

func closeSessions(sessions []*session) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = parallel(ctx, len(sessions), 16, func(ctx context.Context, i int) error {
		if sessions[i] != nil {
			sessions[i].close(ctx)
		}
		return nil
	})
}

// runClosedLoop runs call or stream mode: cfg.C sessions, each calling its
// tool back to back, through a warm-up and then the measured window.
func runClosedLoop(ctx context.Context, cfg *Config, rep *Report) error {
	tr := newTransport(2*cfg.C + 8)
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}
	var ids atomic.Int64
	sessions, err := openSessions(ctx, cfg, hc, &ids, cfg.C)
	if err != nil {
		return fmt.Errorf("opening %d sessions: %w", cfg.C, err)
	}
	defer closeSessions(sessions)

	tool, args, expected := "echo", mustJSON(map[string]string{"text": cfg.Text}), 0
	if cfg.Mode == ModeStream {
		tool, args, expected = "stream", mustJSON(map[string]int{"n": cfg.N, "interval_ms": cfg.IntervalMs}), cfg.N
	}
	call := func(ctx context.Context, s *session, buf []byte, full bool) (callOutcome, []byte, error) {
		id := s.nextID()
		var token int64
		if cfg.Mode == ModeStream {
			token = id
		}
		buf = s.requestBody(buf[:0], id, "tools/call", tool, args, token)
		ex, err := s.exchange(ctx, s.hc, id, "tools/call", tool, buf, token)
		out := callOutcome{progress: ex.progress, foreign: ex.foreign}
		if err != nil {
			return out, buf, err
		}
		if ex.responses > 1 {
			return out, buf, fmt.Errorf("%d responses to one call", ex.responses)
		}
		if err := ex.rpcError(); err != nil {
			return out, buf, err
		}
		switch {
		case !full:
			return out, buf, checkNotError(ex.response.Result)
		case cfg.Mode == ModeCall:
			return out, buf, checkEcho(ex.response.Result, cfg.Text)
		default:
			return out, buf, checkToolResult(ex.response.Result)
		}
	}

	fmt.Fprintf(cfg.Log, "%s %s: %d sessions, %v warm-up, %v measured\n", cfg.Server, cfg.Mode, cfg.C, cfg.Warmup, cfg.Duration)
	start := time.Now().Add(cfg.Warmup)
	end := start.Add(cfg.Duration)
	runCtx, cancel := context.WithDeadline(ctx, end.Add(grace))
	defer cancel()

	// The server's and our own CPU, read at the window's edges.
	var cpu0, cpu1 []time.Duration
	var self0, self1 time.Duration
	var busy0, busy1 time.Duration
	var cpuErr, busyErr error
	var sampler sync.WaitGroup
	sampler.Go(func() {
		sleepUntil(runCtx, start)
		busy0, busyErr = machineBusy()
		cpu0, cpuErr = cpuSnapshot(cfg.Procs)
		self0 = selfCPU()
		sleepUntil(runCtx, end)
		self1 = selfCPU()
		if cpuErr == nil {
			cpu1, cpuErr = cpuSnapshot(cfg.Procs)
		}
		if busyErr == nil {
			busy1, busyErr = machineBusy()
		}
	})

	workers := make([]worker, len(sessions))
	var wg sync.WaitGroup
	for i, s := range sessions {
		w := &workers[i]
		wg.Go(func() {
			buf := make([]byte, 0, 512)
			for n := 0; runCtx.Err() == nil; n++ {
				t := time.Now()
				if !t.Before(end) {
					return
				}
				// Every call's result is checked for isError; one in
				// fullCheckEvery is checked whole, to keep the load
				// generator light.
				out, b, err := call(runCtx, s, buf, n%fullCheckEvery == 0)
				buf = b
				done := time.Now()
				if done.Before(start) {
					w.warmCalls++
					if err != nil {
						time.Sleep(10 * time.Millisecond)
					}
					continue
				}
				if done.After(end) {
					return
				}
				if err != nil {
					w.errs++
					if w.firstErr == nil {
						w.firstErr = err
					}
					time.Sleep(time.Millisecond)
					continue
				}
				w.lat = append(w.lat, done.Sub(t))
				w.expected += expected
				w.progress += out.progress
				w.foreign += out.foreign
			}
		})
	}
	wg.Wait()
	sampler.Wait()
	if ctx.Err() != nil {
		return ctx.Err()
	}

	var all []time.Duration
	var tot worker
	for _, w := range workers {
		all = append(all, w.lat...)
		tot.progress += w.progress
		tot.expected += w.expected
		tot.foreign += w.foreign
		tot.errs += w.errs
		if tot.firstErr == nil {
			tot.firstErr = w.firstErr
		}
	}
	secs := cfg.Duration.Seconds()
	calls := len(all)
	lat := summarise(all)
	rep.Set("duration_s", secs)
	rep.Set("calls", calls)
	rep.Set("calls_per_s", round(float64(calls)/secs, 1))
	rep.Set("errors", tot.errs)
	rep.Set("p50_ms", lat.P50)
	rep.Set("p90_ms", lat.P90)
	rep.Set("p99_ms", lat.P99)
	rep.Set("max_ms", lat.Max)
	if cfg.Mode == ModeStream {
		rep.Set("n", cfg.N)
		rep.Set("progress_per_s", round(float64(tot.progress)/secs, 1))
		rep.Set("progress_expected", tot.expected)
		rep.Set("progress_received", tot.progress)
		rep.Set("lost", tot.expected-tot.progress)
		rep.Set("misrouted", tot.foreign)
	}
	var server time.Duration
	if len(cfg.Procs) > 0 {
		if cpuErr != nil {
			return fmt.Errorf("reading the server's CPU: %w", cpuErr)
		}
		var sum time.Duration
		by := map[string]float64{}
		for i, p := range cfg.Procs {
			d := cpu1[i] - cpu0[i]
			sum += d
			by[p.Name] = perCallUs(d, calls)
		}
		rep.Set("cpu_us_per_call", perCallUs(sum, calls))
		if len(cfg.Procs) > 1 {
			rep.Set("cpu_us_per_call_by", by)
		}
		rep.Set("server_cpu_cores", round(sum.Seconds()/secs, 2))
		server = sum
	}
	rep.Set("client_cpu_us_per_call", perCallUs(self1-self0, calls))
	if busyErr == nil && len(cfg.Procs) > 0 {
		// What the rest of the machine used meanwhile: other processes
		// compete with the server and the load generator for the cores.
		other := (busy1 - busy0) - server - (self1 - self0)
		rep.Set("other_cpu_cores", round(max(0, other.Seconds())/secs, 2))
	}
	if tot.firstErr != nil {
		rep.Set("first_error", tot.firstErr.Error())
	}
	return nil
}

func perCallUs(d time.Duration, calls int) float64 {
	if calls == 0 {
		return 0
	}
	return round(float64(d)/float64(time.Microsecond)/float64(calls), 1)
}

func sleepUntil(ctx context.Context, t time.Time) {
	d := time.Until(t)
	if d <= 0 {
		return
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-ctx.Done():
	}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// fullCheckEvery is how often a session checks a result's whole shape.
const fullCheckEvery = 32

// checkNotError fails a result whose isError is true, looking at its top
// level only.
func checkNotError(raw []byte) error {
	isError := false
	err := members(raw, func(key, value []byte) bool {
		if string(key) == `"isError"` {
			isError = string(value) == "true"
			return false
		}
		return true
	})
	if err != nil {
		return fmt.Errorf("bad tools/call result %.200q: %w", raw, err)
	}
	if isError {
		return fmt.Errorf("isError result: %.200s", raw)
	}
	return nil
}

// toolResult is the part of a CallToolResult the benchmark checks.
type toolResult struct {
	IsError bool `json:"isError"`
	Content []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	} `json:"content"`
	StructuredContent *struct {
		Text *string `json:"text"`
	} `json:"structuredContent"`
}

// checkToolResult fails an isError result.
func checkToolResult(raw []byte) error {
	var r toolResult
	if err := json.Unmarshal(raw, &r); err != nil {
		return fmt.Errorf("bad tools/call result: %w", err)
	}
	if r.IsError {
		return fmt.Errorf("isError result: %.200s", raw)
	}
	return nil
}

var errEchoShape = errors.New("echo result is not text content plus structuredContent {text}")

// checkEcho checks echo's result: structuredContent {"text": ...}, and a
// text content block holding either the text itself or the structured
// content serialised as JSON (what the spec suggests for clients that do
// not read structuredContent).
func checkEcho(raw []byte, text string) error {
	var r toolResult
	if err := json.Unmarshal(raw, &r); err != nil {
		return fmt.Errorf("bad tools/call result: %w", err)
	}
	if r.IsError {
		return fmt.Errorf("isError result: %.200s", raw)
	}
	if r.StructuredContent == nil || r.StructuredContent.Text == nil || *r.StructuredContent.Text != text ||
		len(r.Content) == 0 || r.Content[0].Type != "text" {
		return fmt.Errorf("%w: %.200s", errEchoShape, raw)
	}
	if got := r.Content[0].Text; got != text {
		var sc struct {
			Text *string `json:"text"`
		}
		if err := json.Unmarshal([]byte(got), &sc); err != nil || sc.Text == nil || *sc.Text != text {
			return fmt.Errorf("%w: %.200s", errEchoShape, raw)
		}
	}
	return nil
}
