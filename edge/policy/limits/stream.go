package limits

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// ErrStreamAbandoned is the cause a [StreamGuard] gives the context it
// cancels, and the error of writes after that.
var ErrStreamAbandoned = errors.New("limits: stream abandoned: the client stopped reading")

// Defaults of [StreamOptions].
const (
	DefaultMaxPending   = 1 << 20 // 1 MiB
	DefaultWriteTimeout = 10 * time.Second
)

// StreamOptions configures a [StreamGuard]. nil or zero fields mean the
// defaults.
type StreamOptions struct {
	// MaxPending bounds the bytes accepted from the handler and not yet
	// handed to the connection; a write that would pass it waits for room
	// (at most WriteTimeout). A single write larger than the bound is
	// accepted when nothing is pending, so one big message is never refused
	// for its size alone. 0 means DefaultMaxPending.
	MaxPending int
	// WriteTimeout bounds one write (and flush) to the connection, and the
	// wait of a handler's write for room; either lasting longer abandons the
	// stream. 0 means DefaultWriteTimeout.
	WriteTimeout time.Duration
}

// StreamGuard is an http.ResponseWriter for a streamed response that
// cancels the work behind the stream when its client stops reading.
//
// Writes are copied into a pending buffer and, while there is room, return
// at once; a goroutine
// of the guard writes and flushes them to the connection in order, with a
// write deadline of WriteTimeout set through http.ResponseController before
// each write. When pending bytes reach MaxPending, Write waits for room,
// which slows the handler and, through gRPC flow control, the backend: a
// client that reads slowly is served at its pace. The stream is abandoned,
// and cancel called with a cause wrapping [ErrStreamAbandoned], when the
// pending bytes stay over MaxPending for WriteTimeout, or a write to the
// connection fails or passes its deadline (which is how a client that never
// reads shows up once the kernel's socket buffers are full). The handler's
// writes fail from then on, so its loop ends and, through the cancelled
// context, so does the gRPC call feeding it. Memory stays within about
// twice MaxPending per stream: the pending buffer and the one being written.
//
// net/http itself cancels the request's context when a write to the
// connection fails, so a context derived from r.Context() may end with
// plain context.Canceled as its cause before the guard's cancel runs; the
// work ends either way, and [StreamGuard.Err] tells the reason.
//
// If the ResponseWriter cannot set write deadlines (http.ErrNotSupported),
// the guard writes in the caller's goroutine instead, with no buffer: a
// write that takes longer than WriteTimeout still cancels the context, but
// the write itself stays blocked until the connection fails.
//
// The handler must call [StreamGuard.Close] before it returns, and set
// headers before its first write. The guard does not expose the wrapped
// writer (no Unwrap), so that nothing writes around it.
type StreamGuard struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	cancel  context.CancelCauseFunc
	max     int
	timeout time.Duration
	async   bool

	wmu sync.Mutex // serializes use of w between the handler and the writer goroutine

	mu        sync.Mutex
	pending   []byte
	spare     []byte
	accepted  bool // a byte was accepted, so the status is 200 if not set yet
	flushWant bool
	closing   bool
	err       error
	room      chan struct{} // closed when pending bytes leave; nil if no write waits
	wake      chan struct{} // capacity 1: there is work
	done      chan struct{} // closed when the writer goroutine ends
}

// NewStreamGuard wraps w for one streamed response; cancel cancels the
// context of the work that feeds it (typically from
// context.WithCancelCause(r.Context())).
func NewStreamGuard(w http.ResponseWriter, cancel context.CancelCauseFunc, opts *StreamOptions) *StreamGuard {
	g := &StreamGuard{
		w:       w,
		rc:      http.NewResponseController(w),
		cancel:  cancel,
		max:     DefaultMaxPending,
		timeout: DefaultWriteTimeout,
		wake:    make(chan struct{}, 1),
		done:    make(chan struct{}),
	}
	if opts != nil {
		if opts.MaxPending > 0 {
			g.max = opts.MaxPending
		}
		if opts.WriteTimeout > 0 {
			g.timeout = opts.WriteTimeout
		}
	}
	// Clearing the deadline is harmless and tells whether deadlines work.
	g.async = !errors.Is(g.rc.SetWriteDeadline(time.Time{}), http.ErrNotSupported)
	if g.async {
		go g.run()
	} else {
		close(g.done)
	}
	return g
}

// Header returns the header map of the wrapped writer.
func (g *StreamGuard) Header() http.Header { return g.w.Header() }

// WriteHeader sends the status, unless a write already implied 200.
func (g *StreamGuard) WriteHeader(code int) {
	g.mu.Lock()
	accepted := g.accepted
	g.mu.Unlock()
	if accepted {
		return
	}
	g.wmu.Lock()
	defer g.wmu.Unlock()
	g.w.WriteHeader(code)
}

// Write queues p for the connection. While the pending bytes are over
// MaxPending it waits for the writer goroutine to make room, for at most
// WriteTimeout; past that, or once the stream is abandoned, it fails with an
// error wrapping [ErrStreamAbandoned].
func (g *StreamGuard) Write(p []byte) (int, error) {
	if !g.async {
		return g.writeSync(p)
	}
	var timer *time.Timer
	expired := false
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		g.mu.Lock()
		switch {
		case g.err != nil:
			err := g.err
			g.mu.Unlock()
			return 0, err
		case g.closing:
			g.mu.Unlock()
			return 0, errors.New("limits: write to a closed StreamGuard")
		case len(g.pending) == 0 || len(g.pending)+len(p) <= g.max:
			g.pending = append(g.pending, p...)
			g.accepted = true
			g.mu.Unlock()
			g.signal()
			return len(p), nil
		}
		if expired {
			err := g.failLocked(fmt.Errorf("%w: %d bytes pending over the bound of %d for %v",
				ErrStreamAbandoned, len(g.pending), g.max, g.timeout))
			g.mu.Unlock()
			return 0, err
		}
		// Full: wait for the writer goroutine to take the pending bytes.
		if g.room == nil {
			g.room = make(chan struct{})
		}
		room := g.room
		g.mu.Unlock()
		if timer == nil {
			timer = time.NewTimer(g.timeout)
		}
		select {
		case <-room:
		case <-timer.C:
			expired = true // one more look: room may have come with the timer
		}
	}
}

// Flush asks for pending bytes, and the header, to reach the client; it
// does not wait. The guard flushes after every write anyway.
func (g *StreamGuard) Flush() {
	if !g.async {
		g.wmu.Lock()
		defer g.wmu.Unlock()
		g.finishWrite(g.rc.Flush())
		return
	}
	g.mu.Lock()
	g.flushWant = true
	g.mu.Unlock()
	g.signal()
}

// Err returns the reason the stream was abandoned, or nil.
func (g *StreamGuard) Err() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.err
}

// Close writes what is pending, each write still bounded by WriteTimeout,
// and stops the writer goroutine. Then, for a healthy stream, it clears the
// write deadline (a net/http server without WriteTimeout would otherwise
// keep it for the connection's next request); for an abandoned one it sets
// the deadline in the past, so that the server's own final write fails at
// once instead of blocking on the client that does not read, and the server
// drops the connection (HTTP/1) or resets the stream (HTTP/2). It returns
// [StreamGuard.Err]. It is safe to call more than once; the handler must
// call it before it returns.
func (g *StreamGuard) Close() error {
	g.mu.Lock()
	g.closing = true
	g.mu.Unlock()
	g.signal()
	<-g.done
	err := g.Err()
	deadline := time.Time{}
	if err != nil {
		deadline = time.Unix(1, 0)
	}
	g.wmu.Lock()
	_ = g.rc.SetWriteDeadline(deadline) // fails only on a broken connection, or without support
	g.wmu.Unlock()
	return err
}

func (g *StreamGuard) signal() {
	select {
	case g.wake <- struct{}{}:
	default:
	}
}

// run is the writer goroutine: it moves pending bytes to the connection
// until the guard is closed or abandoned.
func (g *StreamGuard) run() {
	defer close(g.done)
	for {
		g.mu.Lock()
		if g.err != nil || (g.closing && len(g.pending) == 0 && !g.flushWant) {
			g.mu.Unlock()
			return
		}
		if len(g.pending) == 0 && !g.flushWant {
			g.mu.Unlock()
			<-g.wake
			continue
		}
		buf := g.pending
		g.pending, g.spare = g.spare[:0], nil
		g.flushWant = false
		g.announceRoomLocked()
		g.mu.Unlock()

		g.wmu.Lock()
		err := g.rc.SetWriteDeadline(time.Now().Add(g.timeout))
		if err == nil && len(buf) > 0 {
			_, err = g.w.Write(buf)
		}
		if err == nil {
			err = g.rc.Flush()
		}
		g.wmu.Unlock()

		g.mu.Lock()
		if cap(buf) <= 2*g.max { // keep one buffer for reuse, unless a huge write grew it
			g.spare = buf[:0]
		}
		if err != nil {
			g.failLocked(fmt.Errorf("%w: %w", ErrStreamAbandoned, err))
		}
		g.mu.Unlock()
	}
}

// writeSync is Write without deadline support: the write happens here, and
// a timer cancels the work if it blocks too long.
func (g *StreamGuard) writeSync(p []byte) (int, error) {
	if err := g.Err(); err != nil {
		return 0, err
	}
	g.wmu.Lock()
	defer g.wmu.Unlock()
	g.mu.Lock()
	g.accepted = true
	g.mu.Unlock()
	timer := time.AfterFunc(g.timeout, func() {
		g.mu.Lock()
		defer g.mu.Unlock()
		g.failLocked(fmt.Errorf("%w: a write blocked for %v", ErrStreamAbandoned, g.timeout))
	})
	n, err := g.w.Write(p)
	if err == nil {
		err = g.rc.Flush()
	}
	timer.Stop()
	if err := g.finishWrite(err); err != nil {
		return n, err
	}
	return n, nil
}

// finishWrite abandons the stream if err is not nil, and returns the
// stream's error.
func (g *StreamGuard) finishWrite(err error) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if err != nil {
		g.failLocked(fmt.Errorf("%w: %w", ErrStreamAbandoned, err))
	}
	return g.err
}

// failLocked abandons the stream with cause, once, and returns the stream's
// error. g.mu is held.
func (g *StreamGuard) failLocked(cause error) error {
	if g.err == nil {
		g.err = cause
		g.pending = nil
		g.cancel(cause)
		g.signal()
		g.announceRoomLocked()
	}
	return g.err
}

// announceRoomLocked wakes the writes waiting for room. g.mu is held.
func (g *StreamGuard) announceRoomLocked() {
	if g.room != nil {
		close(g.room)
		g.room = nil
	}
}
