package loadgen

import (
	"context"
	"fmt"
	"io"
	"mime"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// openStream opens the session's standalone GET SSE stream and returns its
// body once the server has answered 200 text/event-stream.
func (s *session) openStream(ctx context.Context) (io.ReadCloser, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url, nil)
	if err != nil {
		return nil, err
	}
	s.setHeaders(req.Header, "", "")
	req.Header.Set("Accept", "text/event-stream")
	resp, err := s.hc.Do(req)
	if err != nil {
		return nil, err
	}
	ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if resp.StatusCode != http.StatusOK || ct != "text/event-stream" {
		resp.Body.Close()
		return nil, fmt.Errorf("GET stream: HTTP %s, Content-Type %q", resp.Status, resp.Header.Get("Content-Type"))
	}
	return resp.Body, nil
}

// runIdle opens cfg.Sessions sessions, each holding its GET stream open, and
// reports how much the server's RSS grew per session.
func runIdle(ctx context.Context, cfg *Config, rep *Report) error {
	rssSum := func() (int64, error) {
		var sum int64
		for _, p := range cfg.Procs {
			kib, err := processRSS(p.PID)
			if err != nil {
				return 0, err
			}
			sum += kib
		}
		return sum, nil
	}
	before, err := rssSum()
	if err != nil {
		return err
	}

	tr := newTransport(cfg.Sessions + 16)
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}
	var ids atomic.Int64
	streamCtx, stopStreams := context.WithCancel(ctx)
	defer stopStreams()

	fmt.Fprintf(cfg.Log, "%s idle: opening %d sessions with GET streams\n", cfg.Server, cfg.Sessions)
	sessions := make([]*session, cfg.Sessions)
	var readers sync.WaitGroup
	var ok atomic.Int64
	var mu sync.Mutex
	var firstErr error
	t0 := time.Now()
	_ = parallel(ctx, cfg.Sessions, 32, func(ctx context.Context, i int) error {
		octx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		s := newSession(cfg.URL, hc, cfg.Protocol, &ids)
		err := s.open(octx)
		if err == nil {
			sessions[i] = s
			// The stream outlives this function, so it hangs off
			// streamCtx; only the wait for its answer is bounded.
			var body io.ReadCloser
			body, err = s.openStreamBounded(streamCtx, 10*time.Second)
			if err == nil {
				ok.Add(1)
				readers.Go(func() {
					_, _ = io.Copy(io.Discard, body)
					body.Close()
				})
			}
		}
		if err != nil {
			mu.Lock()
			if firstErr == nil {
				firstErr = err
			}
			mu.Unlock()
		}
		return nil
	})
	opened := time.Since(t0)
	sleepUntil(ctx, time.Now().Add(cfg.Settle))
	after, err := rssSum()
	if err != nil {
		return err
	}

	stopStreams()
	readers.Wait()
	closeSessions(sessions)

	n := ok.Load()
	rep.Set("sessions", cfg.Sessions)
	rep.Set("sessions_ok", n)
	rep.Set("open_s", round(opened.Seconds(), 2))
	rep.Set("rss_before_kib", before)
	rep.Set("rss_after_kib", after)
	if n > 0 {
		rep.Set("rss_per_session_kib", round(float64(after-before)/float64(n), 1))
	}
	rep.Set("errors", cfg.Sessions-int(n))
	if firstErr != nil {
		rep.Set("first_error", firstErr.Error())
	}
	return nil
}

// openStreamBounded opens the GET stream under ctx, giving up if the
// server has not answered within d.
func (s *session) openStreamBounded(ctx context.Context, d time.Duration) (io.ReadCloser, error) {
	ctx, cancel := context.WithCancel(ctx)
	timer := time.AfterFunc(d, cancel)
	body, err := s.openStream(ctx)
	if !timer.Stop() {
		if err == nil {
			body.Close()
		}
		cancel()
		return nil, fmt.Errorf("GET stream: no answer within %v", d)
	}
	if err != nil {
		cancel()
		return nil, err
	}
	return &cancelOnClose{ReadCloser: body, cancel: cancel}, nil
}

type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c *cancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.cancel()
	return err
}
