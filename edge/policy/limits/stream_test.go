package limits

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"
)

// stuckWriter is a ResponseWriter whose client never reads: every write
// blocks until the write deadline passes, as a full socket would.
type stuckWriter struct {
	header   http.Header
	mu       sync.Mutex
	deadline time.Time
	changed  chan struct{}
}

func newStuckWriter() *stuckWriter {
	return &stuckWriter{header: http.Header{}, changed: make(chan struct{}, 1)}
}

func (w *stuckWriter) Header() http.Header { return w.header }
func (w *stuckWriter) WriteHeader(int)     {}
func (w *stuckWriter) Flush()              {}

func (w *stuckWriter) SetWriteDeadline(t time.Time) error {
	w.mu.Lock()
	w.deadline = t
	w.mu.Unlock()
	select {
	case w.changed <- struct{}{}:
	default:
	}
	return nil
}

func (w *stuckWriter) Write(p []byte) (int, error) {
	for {
		w.mu.Lock()
		d := w.deadline
		w.mu.Unlock()
		if !d.IsZero() && !time.Now().Before(d) {
			return 0, os.ErrDeadlineExceeded
		}
		wait := time.Hour
		if !d.IsZero() {
			wait = time.Until(d)
		}
		select {
		case <-time.After(wait):
		case <-w.changed:
		}
	}
}

// TestStreamGuardBoundsMemory feeds a guard whose connection is stuck and
// checks that pending bytes never pass the bound, that the work's context
// is cancelled with ErrStreamAbandoned, and that writes fail from then on.
func TestStreamGuardBoundsMemory(t *testing.T) {
	const maxPending = 8 << 10
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	g := NewStreamGuard(newStuckWriter(), cancel, &StreamOptions{MaxPending: maxPending, WriteTimeout: 100 * time.Millisecond})
	if !g.async {
		t.Fatal("the guard did not see SetWriteDeadline")
	}
	chunk := make([]byte, 1000)
	start := time.Now()
	accepted, most := 0, 0
	var err error
	for {
		if _, err = g.Write(chunk); err != nil {
			break
		}
		accepted += len(chunk)
		g.mu.Lock()
		most = max(most, len(g.pending))
		g.mu.Unlock()
		if time.Since(start) > 30*time.Second {
			t.Fatal("writes still accepted after 30 s on a stuck connection")
		}
	}
	t.Logf("abandoned after %v; %d bytes accepted, at most %d pending (bound %d); cause: %v",
		time.Since(start).Round(time.Millisecond), accepted, most, maxPending, context.Cause(ctx))
	if !errors.Is(err, ErrStreamAbandoned) {
		t.Errorf("write error %v; want ErrStreamAbandoned", err)
	}
	if most > maxPending {
		t.Errorf("%d bytes pending; want at most %d", most, maxPending)
	}
	if accepted > 2*maxPending+len(chunk) {
		t.Errorf("%d bytes accepted by a stuck stream; want at most %d", accepted, 2*maxPending+len(chunk))
	}
	if !errors.Is(context.Cause(ctx), ErrStreamAbandoned) {
		t.Errorf("context cause %v; want ErrStreamAbandoned", context.Cause(ctx))
	}
	if err := g.Close(); !errors.Is(err, ErrStreamAbandoned) {
		t.Errorf("Close: %v; want ErrStreamAbandoned", err)
	}
	if _, err := g.Write(chunk); !errors.Is(err, ErrStreamAbandoned) {
		t.Errorf("write after abandonment: %v; want ErrStreamAbandoned", err)
	}
}

// TestStreamGuardWithoutDeadlines checks the fallback for writers that
// cannot set write deadlines: writes go straight through.
func TestStreamGuardWithoutDeadlines(t *testing.T) {
	rec := httptest.NewRecorder()
	_, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	g := NewStreamGuard(rec, cancel, nil)
	if g.async {
		t.Fatal("async mode on a ResponseRecorder, which has no write deadline")
	}
	g.Header().Set("Content-Type", "text/event-stream")
	g.WriteHeader(http.StatusAccepted)
	for _, s := range []string{"a", "b", "c"} {
		if _, err := g.Write([]byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
	if rec.Code != http.StatusAccepted || rec.Body.String() != "abc" || !rec.Flushed {
		t.Errorf("recorder: %d %q flushed=%v; want 202 \"abc\" flushed", rec.Code, rec.Body, rec.Flushed)
	}
}
