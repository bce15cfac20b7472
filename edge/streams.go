package edge

import (
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/toolwire/toolwire/edge/policy/limits"
)

// How streams are bounded (Limits.Stream, Limits.MaxStreamDuration,
// Options.KeepAlive):
//
//   - Every event stream the edge writes through net/http goes through a
//     limits.StreamGuard: the SSE responses to POSTs (the fast path's and
//     the SDK's), the GET streams the SDK serves, and HTTP+SSE streams. A
//     client that stops reading fills the guard's bounded buffer; past its
//     write timeout the stream is abandoned, its connection's writes fail,
//     and the calls feeding it are cancelled, their gRPC streams too.
//   - The GET streams the edge serves on a taken-over connection
//     (getstream.go) write with a deadline of their own and close on the
//     first failed write: they need no guard.
//   - GET streams end after Limits.MaxStreamDuration; HTTP+SSE streams get
//     keep-alive comments every Options.KeepAlive, as the taken-over GET
//     streams do.

// guardedWriter is the writer of a response that may become an event stream.
// It passes everything through until the handler sends the header of a
// text/event-stream response, and from then on writes through a
// limits.StreamGuard. A JSON response costs this struct and nothing else.
//
// The guard's cancel fails the connection's writes: net/http then cancels
// the request's context, which the work of every stream hangs from (the
// fast path runs calls on it, and cancel.go ties the SDK's calls to it).
type guardedWriter struct {
	http.ResponseWriter
	opts        *limits.StreamOptions
	guard       *limits.StreamGuard
	wroteHeader bool
}

func newGuardedWriter(w http.ResponseWriter, opts *limits.StreamOptions) *guardedWriter {
	return &guardedWriter{ResponseWriter: w, opts: opts}
}

func isEventStream(h http.Header) bool {
	return strings.HasPrefix(h.Get("Content-Type"), "text/event-stream")
}

func (w *guardedWriter) WriteHeader(code int) {
	if w.wroteHeader || code < 200 {
		w.ResponseWriter.WriteHeader(code) // net/http sorts these out
		return
	}
	w.wroteHeader = true
	if code == http.StatusOK && isEventStream(w.Header()) {
		w.guard = limits.NewStreamGuard(w.ResponseWriter, w.abandon, w.opts)
		w.guard.WriteHeader(code)
		return
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *guardedWriter) Write(p []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if w.guard != nil {
		return w.guard.Write(p)
	}
	return w.ResponseWriter.Write(p)
}

// FlushError is what http.ResponseController.Flush calls.
func (w *guardedWriter) FlushError() error {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if w.guard != nil {
		w.guard.Flush()
		return nil
	}
	return http.NewResponseController(w.ResponseWriter).Flush()
}

// Flush implements http.Flusher, for callers that assert it.
func (w *guardedWriter) Flush() { _ = w.FlushError() }

// Unwrap lets http.ResponseController reach the real writer (Hijack, write
// deadlines) until the response becomes a guarded stream; from then on
// nothing may write around the guard.
func (w *guardedWriter) Unwrap() http.ResponseWriter {
	if w.guard != nil {
		return nil
	}
	return w.ResponseWriter
}

// abandon is the guard's cancel: a write deadline in the past fails the
// write that is blocked on the client, if any, and every later one.
func (w *guardedWriter) abandon(error) {
	_ = http.NewResponseController(w.ResponseWriter).SetWriteDeadline(time.Unix(1, 0))
}

// close ends the guarded stream, if the response became one: what is
// pending is written, within the write timeout. The handler calls it before
// it returns.
func (w *guardedWriter) close() {
	if w.guard != nil {
		_ = w.guard.Close()
	}
}

// limitStream readies a GET stream the SDK serves: it ends after
// Limits.MaxStreamDuration, and is guarded. done must run when it ends.
func (e *Edge) limitStream(w http.ResponseWriter, r *http.Request) (_ *http.Request, _ dropResponseWriter, done func()) {
	done = func() {}
	if e.maxStream > 0 {
		ctx, cancel := limits.WithMaxDuration(r.Context(), e.maxStream)
		r, done = r.WithContext(ctx), cancel
	}
	if e.streamOpts == nil {
		return r, dropResponseWriter{w}, done
	}
	gw := newGuardedWriter(w, e.streamOpts)
	cancel := done
	return r, dropResponseWriter{gw}, func() { gw.close(); cancel() }
}

// lockedWriter serializes the writes of an HTTP+SSE stream without a guard,
// so that keep-alive comments can go out between the transport's events.
type lockedWriter struct {
	mu sync.Mutex
	w  http.ResponseWriter
}

func (w *lockedWriter) Header() http.Header { return w.w.Header() }

func (w *lockedWriter) WriteHeader(code int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.w.WriteHeader(code)
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w.Write(p)
}

func (w *lockedWriter) FlushError() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return http.NewResponseController(w.w).Flush()
}

// streamWriter is what an HTTP+SSE stream writes through: a guard, or a
// lockedWriter.
type streamWriter interface {
	http.ResponseWriter
	Flush()
}

func (w *lockedWriter) Flush() { _ = w.FlushError() }

// keepAliveComment is the SSE comment idle streams carry, as getstream.go's.
var keepAliveComment = []byte(": keep-alive\n\n")
