package edge

import (
	"net/http"
)

const (
	headerProtocolVersion = "Mcp-Protocol-Version"
	headerSessionID       = "Mcp-Session-Id"
	// firstSessionlessVersion is the first revision without sessions; from it
	// on a request carries its version in MCP-Protocol-Version and _meta.
	firstSessionlessVersion = "2026-07-28"
)

// serveStreamable routes each /mcp request to the handler of its era, or
// answers it on the fast path (fastpath.go).
//
// The SDK serves either sessions (2025-03-26 to 2025-11-25) or sessionless
// requests (2026-07-28) per handler, never both, so one URL needs a router.
// Revision strings are dates and compare as strings.
func (e *Edge) serveStreamable(w http.ResponseWriter, r *http.Request) {
	if e.streamOpts != nil && r.Method == http.MethodPost {
		// A POST's answer becomes an event stream when its call sends
		// events: guard it (streams.go).
		gw := newGuardedWriter(w, e.streamOpts)
		defer gw.close()
		w = gw
	}
	dw := dropResponseWriter{w}
	if r.Method == http.MethodPost && r.Header.Get(headerProtocolVersion) >= firstSessionlessVersion {
		// A call's Mcp-Param-* headers are checked once, for every path.
		if !e.checkParamHeaders(w, r) {
			return
		}
		// The tasks extension's requests go to the SDK (tasks_http.go).
		if e.serveTasks(w, dw, r) {
			return
		}
		if e.fast != nil && e.fast.serveSessionless(w, r) {
			return
		}
		// The SDK ties the handler to the request (PropagateRequestCancellation).
		e.stateless.ServeHTTP(dw, r)
		return
	}
	var s *liveSession
	if id := r.Header.Get(headerSessionID); id != "" {
		// Every request that names a live session keeps it from expiring.
		if s = e.sessions.acquire(id, ownerOf(r.Context())); s != nil {
			defer s.release()
		} else if e.sessions.exists(id) {
			// Another principal's session: answered as an unknown one, so
			// that the caller learns nothing (the SDK would say 403).
			http.Error(w, "session not found", http.StatusNotFound)
			return
		}
	}
	switch {
	case r.Method == http.MethodPost && s == nil && e.fast != nil && r.Header.Get(headerSessionID) == "":
		if e.serveInitialize(w, r) {
			return
		}
	case r.Method == http.MethodPost && s != nil:
		if e.fast != nil && e.fast.serveSession(w, r, s) {
			return
		}
		// A session's calls run on the session's context, not the POST's;
		// tag the POST so that the call can be tied to it (see linkCancellation).
		defer e.posts.track(r)()
	case r.Method == http.MethodGet && s != nil && e.fast != nil:
		if e.serveStream(w, r, s) {
			return
		}
		if !s.streaming() {
			// The SDK serves the stream, with no event ids: the edge's
			// history would hold its messages back (resume.go).
			s.events.off()
		}
	case r.Method == http.MethodDelete && s != nil:
		if s.sdkSession() == nil && s.closeLazy() {
			w.WriteHeader(http.StatusNoContent) // as the SDK answers
			return
		}
		if !e.toSDK(w, r, s) {
			return
		}
		sw := &statusWriter{ResponseWriter: w}
		e.stateful.ServeHTTP(sw, r)
		if sw.status/100 == 2 {
			s.close()
		}
		return
	}
	if s != nil && !e.toSDK(w, r, s) {
		return
	}
	if r.Method == http.MethodGet {
		var done func()
		r, dw, done = e.limitStream(w, r)
		defer done()
	}
	e.stateful.ServeHTTP(dw, r)
}

// toSDK readies r, a request on session s, for the SDK: it opens s's SDK
// session if it has none (lazysession.go) and names it by the SDK's id. It
// answers 404 and reports false if s has ended meanwhile.
func (e *Edge) toSDK(w http.ResponseWriter, r *http.Request, s *liveSession) bool {
	if err := e.openSDK(r, s); err != nil {
		http.Error(w, "session not found", http.StatusNotFound)
		return false
	}
	s.mu.Lock()
	sdkID := s.sdkID
	s.mu.Unlock()
	if sdkID != s.id {
		r.Header = r.Header.Clone()
		r.Header.Set(headerSessionID, sdkID)
	}
	return true
}

// statusWriter records the status of a response.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(p)
}

// serveSSE serves the legacy HTTP+SSE transport: GET opens the event stream
// and its session, POST ?sessionid= carries the client's messages.
func (e *Edge) serveSSE(w http.ResponseWriter, r *http.Request) {
	e.sse.ServeHTTP(dropResponseWriter{w}, r)
}
