package edge

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/toolwire/toolwire/edge/bridge"
)

// How a cancellation reaches a running tool call, by transport:
//
//   - notifications/cancelled, any transport: the SDK cancels the handler's
//     context itself.
//   - Streamable HTTP, 2026-07-28: closing the POST is the cancellation; the
//     SDK's PropagateRequestCancellation ties the handler to the request.
//   - Streamable HTTP sessions: the SDK runs calls on the session's context,
//     built from the initialize request, so a POST whose client went away
//     cancels nothing. The router tags each POST; linkCancellation ties the
//     call to that POST's context.
//   - HTTP+SSE and stdio: calls run on the session's context, and the session
//     only ends once they return. The edge opens these sessions itself
//     (sse.go, ServeStdio) and ties their calls to the GET stream's context or
//     to stdin's end.
//
// The handler's context reaches the gRPC call, whose cancellation resets the
// stream to the backend.

// postTagHeader carries the router's tag for a POST into RequestExtra.Header.
// Any value a client sends is overwritten.
const postTagHeader = "Toolwire-Post-Tag"

// postRegistry maps POST tags to the live request contexts.
type postRegistry struct {
	next atomic.Uint64
	m    sync.Map // tag string → context.Context
}

func newPostRegistry() *postRegistry { return &postRegistry{} }

// track tags r and registers its context until the returned func is called.
func (p *postRegistry) track(r *http.Request) (untrack func()) {
	tag := strconv.FormatUint(p.next.Add(1), 36)
	r.Header.Set(postTagHeader, tag)
	p.m.Store(tag, r.Context())
	return func() { p.m.Delete(tag) }
}

func (p *postRegistry) lookup(tag string) (context.Context, bool) {
	v, ok := p.m.Load(tag)
	if !ok {
		return nil, false
	}
	return v.(context.Context), true
}

// linkCancellation is receiving middleware that ties each tools/call to what
// can cancel it besides notifications/cancelled (see the top of this file).
func (e *Edge) linkCancellation(next mcp.MethodHandler) mcp.MethodHandler {
	return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
		if method != "tools/call" {
			return next(ctx, method, req)
		}
		var parent context.Context
		if extra := req.GetExtra(); extra != nil {
			// Streamable HTTP. Sessionless requests are tied by the SDK;
			// session POSTs carry the router's tag.
			if extra.Header != nil {
				if tag := extra.Header.Get(postTagHeader); tag != "" {
					parent, _ = e.posts.lookup(tag)
				}
			}
		} else if ss, ok := req.GetSession().(*mcp.ServerSession); ok {
			// HTTP+SSE or stdio: the GET stream's or stdin's context.
			parent, _ = e.sessionParent(ss)
		}
		if parent == nil {
			return next(ctx, method, req)
		}
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		stop := context.AfterFunc(parent, cancel)
		defer stop()
		return next(ctx, method, req)
	}
}

// dropMarker is what the bridge puts in the result of a cancelled call.
var dropMarker = []byte(bridge.DropMarker())

// dropResponseWriter drops any write that carries a cancelled call's result.
// The SDK writes each SSE event, and each JSON response, in one Write.
type dropResponseWriter struct{ http.ResponseWriter }

func (w dropResponseWriter) Write(p []byte) (int, error) {
	if bytes.Contains(p, dropMarker) {
		return len(p), nil
	}
	return w.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the real writer (Flush).
func (w dropResponseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Flush flushes the real writer.
func (w dropResponseWriter) Flush() { _ = http.NewResponseController(w.ResponseWriter).Flush() }

// dropWriteCloser is the stdio form: the SDK writes one message per Write.
type dropWriteCloser struct{ io.WriteCloser }

func (w dropWriteCloser) Write(p []byte) (int, error) {
	if bytes.Contains(p, dropMarker) {
		return len(p), nil
	}
	return w.WriteCloser.Write(p)
}

// eofReader cancels when a read fails: stdin's end is the stdio session's end.
type eofReader struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (r eofReader) Read(p []byte) (int, error) {
	n, err := r.ReadCloser.Read(p)
	if err != nil {
		r.cancel()
	}
	return n, err
}
