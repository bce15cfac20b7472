package edge

import (
	"context"
	"crypto/rand"
	"mime"
	"net/http"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/toolwire/toolwire/edge/policy/authn"
	"github.com/toolwire/toolwire/edge/policy/limits"
)

// sseHandler serves the legacy HTTP+SSE transport (2024-11-05): GET opens the
// event stream and its session, POST ?sessionid= carries client messages.
//
// It has the shape of the SDK's SSEHandler and uses the SDK's
// SSEServerTransport for all protocol work. It is written here because the
// edge must know which session a GET opened: the SDK runs that session's calls
// on contexts that outlive the stream, and its session only ends after they
// return, so nothing else would cancel them when the stream closes.
type sseHandler struct {
	server  *mcp.Server
	parents *sync.Map // *mcp.ServerSession → context.Context
	// guard, keepAlive and maxDuration bound the GET streams (streams.go):
	// a guard's options (nil: none), the period of keep-alive comments and
	// the longest a stream lives (zero or negative: none).
	guard                  *limits.StreamOptions
	keepAlive, maxDuration time.Duration

	mu         sync.Mutex
	transports map[string]sseSession
}

// sseSession is a live HTTP+SSE session: its transport, and the principal
// of the GET that opened it (nil without authentication), which alone may
// post to it.
type sseSession struct {
	t     *mcp.SSEServerTransport
	owner *authn.Principal
}

// sameCaller reports whether the principal in ctx is owner: the same
// method and subject (scopes may differ, as a client steps up).
func sameCaller(ctx context.Context, owner *authn.Principal) bool {
	if owner == nil {
		return true
	}
	p, ok := authn.FromContext(ctx)
	return ok && p.Method == owner.Method && p.Subject == owner.Subject
}

func newSSEHandler(server *mcp.Server, parents *sync.Map) *sseHandler {
	return &sseHandler{server: server, parents: parents, transports: map[string]sseSession{}}
}

func (h *sseHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodPost:
		if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
			http.Error(w, "Content-Type must be application/json", http.StatusUnsupportedMediaType)
			return
		}
		id := r.URL.Query().Get("sessionid")
		if id == "" {
			http.Error(w, "sessionid must be provided", http.StatusBadRequest)
			return
		}
		h.mu.Lock()
		s := h.transports[id]
		h.mu.Unlock()
		// Another principal's post learns nothing: not even that the
		// session exists.
		if s.t == nil || !sameCaller(r.Context(), s.owner) {
			http.Error(w, "session not found", http.StatusNotFound)
			return
		}
		s.t.ServeHTTP(w, r)
	case http.MethodGet:
		h.serveStream(w, r)
	default:
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
	}
}

func (h *sseHandler) serveStream(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("Connection", "keep-alive")
	id := rand.Text()
	endpoint, err := r.URL.Parse("?sessionid=" + id)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	// The session lives as long as ctx: the stream's request, cut short by
	// the maximum duration or by the guard when the client stops reading.
	ctx, cancel := context.WithCancelCause(r.Context())
	defer cancel(nil)
	if h.maxDuration > 0 {
		var stop context.CancelFunc
		ctx, stop = limits.WithMaxDuration(ctx, h.maxDuration)
		defer stop()
	}
	// The transport and the keep-alive comments write through out, which
	// serializes them. Deferred first, the guard closes last, once the
	// session has stopped writing.
	var out streamWriter
	if h.guard != nil {
		g := limits.NewStreamGuard(w, cancel, h.guard)
		defer g.Close()
		out = g
	} else {
		out = &lockedWriter{w: w}
	}
	t := &mcp.SSEServerTransport{Endpoint: endpoint.RequestURI(), Response: out}
	h.mu.Lock()
	owner, _ := authn.FromContext(r.Context())
	h.transports[id] = sseSession{t: t, owner: owner}
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		delete(h.transports, id)
		h.mu.Unlock()
	}()

	ss, err := h.server.Connect(ctx, t, nil)
	if err != nil {
		if ctx.Err() == nil {
			http.Error(out, "connection failed", http.StatusInternalServerError)
		}
		return
	}
	h.parents.Store(ss, ctx)
	defer h.parents.Delete(ss)
	defer ss.Close()
	ended := make(chan struct{})
	go func() { _ = ss.Wait(); close(ended) }()
	var tick <-chan time.Time
	if h.keepAlive > 0 {
		t := time.NewTicker(h.keepAlive)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-ended:
			return
		case <-tick:
			// A comment that fails to go out ends the stream: the client is
			// gone, or stopped reading.
			if _, err := out.Write(keepAliveComment); err != nil {
				return
			}
			out.Flush()
		}
	}
}

// sessionParent returns the context whose end cancels ss's calls, for
// sessions the edge opened itself (HTTP+SSE, stdio).
func (e *Edge) sessionParent(ss *mcp.ServerSession) (context.Context, bool) {
	v, ok := e.parents.Load(ss)
	if !ok {
		return nil, false
	}
	return v.(context.Context), true
}
