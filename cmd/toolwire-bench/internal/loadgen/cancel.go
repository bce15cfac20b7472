package loadgen

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"
)

// SleepCancelledMetric is the gauge the backends set when a sleep handler's
// context ends before its time is up: Unix seconds, nanosecond precision.
const SleepCancelledMetric = "toolwire_echo_sleep_cancelled_at_seconds"

// streamEndBound is how long, after a notifications/cancelled, the call's
// own POST stream may stay open before it counts as left open.
const streamEndBound = 2 * time.Second

// parseGauge returns the value of the unlabelled sample name in Prometheus
// text exposition; ok is false when there is none.
func parseGauge(r io.Reader, name string) (v float64, ok bool, err error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	prefix := []byte(name)
	for sc.Scan() {
		line := sc.Bytes()
		rest, found := bytes.CutPrefix(line, prefix)
		if !found || len(rest) == 0 || (rest[0] != ' ' && rest[0] != '\t') {
			continue
		}
		f := bytes.Fields(rest)
		v, err := strconv.ParseFloat(string(f[0]), 64)
		if err != nil {
			return 0, false, fmt.Errorf("%s: %w", name, err)
		}
		return v, true, nil
	}
	return 0, false, sc.Err()
}

// gaugeReader reads the sleep-cancelled gauge from a metrics URL.
type gaugeReader struct {
	url string
	hc  *http.Client
}

// read returns the gauge, 0 while the server has not exported it.
func (g *gaugeReader) read(ctx context.Context) (float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, g.url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := g.hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("%s: HTTP %s", g.url, resp.Status)
	}
	v, _, err := parseGauge(resp.Body, SleepCancelledMetric)
	_, _ = io.Copy(io.Discard, resp.Body)
	return v, err
}

func unixSeconds(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

// trialRead is what the reader of a trial's POST saw.
type trialRead struct {
	ex  exchange
	err error
}

// runCancel runs cfg.Trials trials, one after another, on one session: start
// a long sleep, cancel it, and time how long the cancellation took to reach
// the handler, by the gauge the handler sets when its context ends.
func runCancel(ctx context.Context, cfg *Config, rep *Report) error {
	tr := newTransport(4)
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}
	mtr := newTransport(2)
	defer mtr.CloseIdleConnections()
	gauge := &gaugeReader{url: cfg.MetricsURL, hc: &http.Client{Transport: mtr, Timeout: 5 * time.Second}}
	if _, err := gauge.read(ctx); err != nil {
		return fmt.Errorf("reading the gauge: %w", err)
	}

	var ids atomic.Int64
	s := newSession(cfg.URL, hc, cfg.Protocol, &ids)
	octx, cancel := context.WithTimeout(ctx, 10*time.Second)
	err := s.open(octx)
	cancel()
	if err != nil {
		return err
	}
	defer closeSessions([]*session{s})
	fmt.Fprintf(cfg.Log, "%s cancel (%s): %d trials\n", cfg.Server, cfg.How, cfg.Trials)

	args := mustJSON(map[string]int{"ms": cfg.SleepMs})
	var lat []time.Duration
	var failures, violations, leftOpen, errs int
	var firstErr error
	fail := func(err error) {
		errs++
		if firstErr == nil {
			firstErr = err
		}
	}
	run := 0
	for ; run < cfg.Trials; run++ {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if cfg.GiveUp > 0 && run == cfg.GiveUp && failures == run {
			fmt.Fprintf(cfg.Log, "%s cancel (%s): the first %d trials all failed; giving up\n", cfg.Server, cfg.How, run)
			break
		}
		// A transport of its own, so that closing the call's connection
		// closes a real TCP connection and nothing else.
		ttr := newTransport(1)
		thc := &http.Client{Transport: ttr}
		tctx, tcancel := context.WithCancel(ctx)
		id := s.nextID()
		body := s.requestBody(nil, id, "tools/call", "sleep", args, 0)
		done := make(chan trialRead, 1)
		go func() {
			var r trialRead
			resp, err := s.post(tctx, thc, "tools/call", "sleep", body)
			if err == nil {
				r.err = readMessages(resp, id, 0, &r.ex)
				resp.Body.Close()
			} else {
				r.err = err
			}
			done <- r
		}()

		sleepUntil(ctx, time.Now().Add(cfg.StartDelay))
		g0, err := gauge.read(ctx)
		if err != nil {
			tcancel()
			ttr.CloseIdleConnections()
			return fmt.Errorf("reading the gauge: %w", err)
		}
		var early *trialRead
		select {
		case r := <-done:
			// The call ended before it was cancelled.
			early = &r
		default:
		}

		t0 := time.Now()
		switch cfg.How {
		case HowNotify:
			params := fmt.Sprintf(`{"requestId":%d,"reason":"toolwire-bench"}`, id)
			if err := s.notify(ctx, hc, "notifications/cancelled", params); err != nil {
				fail(err)
			}
		case HowClose:
			tcancel()
		}
		moved := false
		deadline := t0.Add(cfg.CancelTimeout)
		for time.Now().Before(deadline) && ctx.Err() == nil {
			g, err := gauge.read(ctx)
			if err != nil {
				fail(err)
				break
			}
			if g != g0 {
				moved = true
				lat = append(lat, time.Duration((g-unixSeconds(t0))*float64(time.Second)))
				break
			}
			time.Sleep(2 * time.Millisecond)
		}
		if !moved {
			failures++
		}

		// What the call's own POST brought: after notifications/cancelled,
		// no response, and an end to the stream.
		var r trialRead
		if early != nil {
			r = *early
		} else if cfg.How == HowNotify {
			timer := time.NewTimer(streamEndBound)
			select {
			case r = <-done:
			case <-timer.C:
				leftOpen++
				tcancel()
				r = <-done
			}
			timer.Stop()
		} else {
			r = <-done
		}
		if early != nil {
			fail(fmt.Errorf("the sleep call ended before it was cancelled: %v", cmpErr(r)))
		}
		if cfg.How == HowNotify {
			if r.ex.responses > 0 {
				violations++
			}
			if r.err != nil && !errors.Is(r.err, context.Canceled) {
				fail(r.err)
			}
		}
		tcancel()
		ttr.CloseIdleConnections()
	}

	l := summarise(lat)
	rep.Set("how", cfg.How)
	rep.Set("trials", run)
	rep.Set("success", run-failures)
	rep.Set("success_pct", round(100*float64(run-failures)/float64(run), 1))
	if len(lat) > 0 {
		rep.Set("p50_ms", l.P50)
		rep.Set("p90_ms", l.P90)
		rep.Set("p99_ms", l.P99)
		rep.Set("max_ms", l.Max)
	}
	if cfg.How == HowNotify {
		rep.Set("responses_after_cancel", violations)
		rep.Set("streams_left_open", leftOpen)
	}
	rep.Set("errors", errs)
	if firstErr != nil {
		rep.Set("first_error", firstErr.Error())
	}
	return nil
}

// cmpErr describes how an early call ended.
func cmpErr(r trialRead) string {
	switch {
	case r.err != nil:
		return r.err.Error()
	case r.ex.response != nil && r.ex.response.Error != nil:
		return r.ex.response.Error.Error()
	case r.ex.response != nil:
		return fmt.Sprintf("result %.200s", r.ex.response.Result)
	}
	return "no response"
}
