package edge

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// An idle session's cost is mostly its standalone GET stream. Served by
// net/http and the SDK, a parked stream holds the connection's goroutine with
// the stack it grew while serving, net/http's background-read goroutine and
// its read, write and chunking buffers, and the SDK's handler waiting for
// the stream to end: about 50 KiB of live memory per session, where the
// SDK's session itself costs about 7 (measured in-process; BENCHMARKS.md).
//
// So the edge serves the GET stream itself, on the connection taken over
// (Hijack), with no goroutine at all: the stream is a connection and a
// keep-alive timer. The messages the SDK would put on it, notifications
// unrelated to any request, are caught by sending middleware
// (standaloneNotifications) and written here. No goroutine reads the
// connection: a client that went away is noticed when a keep-alive comment
// fails to write, within two keep-alive periods, and the stream is closed.
//
// Only HTTP/1.x streams are taken over (HTTP/2 cannot be hijacked);
// anything unusual stays with the SDK and net/http as before. The edge
// numbers the stream's events and resumes it from a Last-Event-ID itself
// (resume.go).

// DefaultKeepAlive is the period of SSE keep-alive comments on idle streams.
const DefaultKeepAlive = 25 * time.Second

// streamWriteTimeout bounds one write to a stream's connection: a client
// that stops reading has its stream ended, not the writer blocked.
const streamWriteTimeout = 10 * time.Second

// serveStream serves the GET stream of live session s on r's connection,
// taken over. It reports false, having written nothing, when the SDK must
// serve it instead.
func (e *Edge) serveStream(w http.ResponseWriter, r *http.Request, s *liveSession) bool {
	version := r.Header.Get(headerProtocolVersion)
	if r.ProtoMajor != 1 || !fastSessionVersions[version] {
		return false
	}
	if _, streamOK := accepts(r.Header["Accept"]); !streamOK {
		return false
	}
	// A resuming client names the last event it has (resume.go).
	lastIDs, resuming := r.Header["Last-Event-Id"]
	var last uint64
	if resuming {
		n, ours, ok := parseResumeID(lastIDs[0])
		if !ok || !ours {
			resumeError(w, !ok, lastIDs[0])
			return true
		}
		last = n
	}
	// The history's lock orders the stream's events: none is numbered or
	// written between the replay (or the priming event) and the stream's
	// attaching.
	l := &s.events
	l.mu.Lock()
	defer l.mu.Unlock()
	var replay [][]byte
	if resuming {
		var ok bool
		if replay, ok = l.resumeFrom(last); !ok {
			resumeError(w, false, lastIDs[0])
			return true
		}
	} else if s.streaming() {
		// As the SDK answers a second GET stream.
		http.Error(w, "stream ID conflicts with ongoing stream", http.StatusConflict)
		return true
	}
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return false
	}
	hw := &hijackedWriter{conn: conn, h: http.Header{}, keepAlive: e.keepAlive, writeTimeout: streamWriteTimeout}
	if e.streamOpts != nil && e.streamOpts.WriteTimeout > 0 {
		hw.writeTimeout = e.streamOpts.WriteTimeout
	}
	hw.h.Set("Cache-Control", "no-cache, no-transform")
	hw.h.Set("Content-Type", "text/event-stream")
	if !s.attach(hw, resuming) {
		_ = conn.Close()
		return true
	}
	if l.next == 0 {
		l.next = 1 // ids count from 1, once per session
	}
	l.on = true
	if e.maxStream > 0 {
		hw.mu.Lock()
		hw.deadline = time.AfterFunc(e.maxStream, hw.close)
		hw.mu.Unlock()
	}
	// An SSE comment first, so that proxies pass the header on at once (as
	// the SDK does); then the events the client missed, or, from
	// 2025-11-25, the priming event that lets it resume a stream that has
	// carried nothing yet (older clients may not expect an empty event).
	b := []byte(": ok\n\n")
	if !resuming && version >= "2025-11-25" {
		b = l.appendPriming(b)
	}
	_, _ = hw.Write(b)
	for _, ev := range replay {
		if _, err := hw.Write(ev); err != nil {
			break
		}
	}
	return true
}

// standaloneNotifications is sending middleware that writes the
// notifications the SDK would send on a session's standalone GET stream
// (those sent outside any request's handling: list changes, resource
// updates) to the stream the edge serves itself, when there is one.
func (e *Edge) standaloneNotifications(next mcp.MethodHandler) mcp.MethodHandler {
	return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
		if !strings.HasPrefix(method, "notifications/") || ctx.Value(inRequestKey{}) != nil {
			return next(ctx, method, req)
		}
		ss, ok := req.GetSession().(*mcp.ServerSession)
		if !ok {
			return next(ctx, method, req)
		}
		s := e.sessions.bySDKID(ss.ID())
		if s == nil {
			return next(ctx, method, req)
		}
		if e.notifiedAlready(s, method) {
			return nil, nil // the edge wrote it before the SDK session opened
		}
		if !s.events.serving() {
			return next(ctx, method, req)
		}
		params, err := json.Marshal(req.GetParams())
		if err != nil {
			return nil, err
		}
		msg := make([]byte, 0, len(params)+len(method)+48)
		msg = append(msg, `{"jsonrpc":"2.0","method":`...)
		msg = appendString(msg, method)
		msg = append(msg, `,"params":`...)
		msg = append(msg, params...)
		msg = append(msg, '}')
		if s.publish(msg) {
			return nil, nil
		}
		return next(ctx, method, req)
	}
}

// inRequestKey marks the context of a request's handling (see
// markRequests): what is sent under it belongs to that request's stream.
type inRequestKey struct{}

// markRequests is receiving middleware that marks each request's context,
// so that standaloneNotifications can tell its notifications apart.
func markRequests(next mcp.MethodHandler) mcp.MethodHandler {
	return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
		return next(context.WithValue(ctx, inRequestKey{}, true), method, req)
	}
}

// hijackedWriter writes a taken-over stream: the status line and header go
// out with the first write, each write goes straight to the connection, and
// the body ends when the connection closes (Connection: close; nothing else
// follows on it).
type hijackedWriter struct {
	conn      net.Conn
	h         http.Header
	keepAlive time.Duration
	// writeTimeout bounds each write: a client that stops reading is cut
	// off after it (the stream guard's write timeout).
	writeTimeout time.Duration
	// onClose runs once when the stream ends, whatever ends it.
	onClose func()

	mu      sync.Mutex
	started bool
	closed  bool
	timer   *time.Timer
	// deadline ends the stream at the maximum stream duration, if any.
	deadline *time.Timer
}

func (w *hijackedWriter) Header() http.Header { return w.h }

func (w *hijackedWriter) WriteHeader(code int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writeHeaderLocked(code)
}

func (w *hijackedWriter) writeHeaderLocked(code int) {
	if w.started || w.closed {
		return
	}
	w.started = true
	w.h.Set("Connection", "close")
	w.h.Del("Content-Length")
	b := make([]byte, 0, 256)
	b = append(b, "HTTP/1.1 "...)
	b = strconv.AppendInt(b, int64(code), 10)
	b = append(b, ' ')
	b = append(b, http.StatusText(code)...)
	b = append(b, "\r\n"...)
	for k, vs := range w.h {
		for _, v := range vs {
			b = append(append(append(append(b, k...), ": "...), v...), "\r\n"...)
		}
	}
	b = append(b, "\r\n"...)
	w.writeLocked(b)
	if code == http.StatusOK && w.keepAlive > 0 {
		w.timer = time.AfterFunc(w.keepAlive, w.ping)
	}
}

func (w *hijackedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writeHeaderLocked(http.StatusOK)
	if w.closed {
		return 0, net.ErrClosed
	}
	if err := w.writeLocked(p); err != nil {
		return 0, err
	}
	return len(p), nil
}

// FlushError is what http.ResponseController.Flush calls: writes are not
// buffered, so there is nothing to do.
func (w *hijackedWriter) FlushError() error { return nil }

func (w *hijackedWriter) writeLocked(p []byte) error {
	if w.closed {
		return net.ErrClosed
	}
	_ = w.conn.SetWriteDeadline(time.Now().Add(w.writeTimeout))
	if _, err := w.conn.Write(p); err != nil {
		// The client is gone or stopped reading: end the stream.
		w.closeLocked()
		return err
	}
	return nil
}

// ping writes a keep-alive comment, which also finds out whether the client
// is still there.
func (w *hijackedWriter) ping() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return
	}
	if w.writeLocked([]byte(": keep-alive\n\n")) == nil {
		w.timer.Reset(w.keepAlive)
	}
}

func (w *hijackedWriter) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closeLocked()
}

func (w *hijackedWriter) closeLocked() {
	if w.closed {
		return
	}
	w.closed = true
	if w.timer != nil {
		w.timer.Stop()
	}
	if w.deadline != nil {
		w.deadline.Stop()
	}
	_ = w.conn.Close()
	if w.onClose != nil {
		go w.onClose() // it takes the session's lock, which a writer may hold
	}
}
