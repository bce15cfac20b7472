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

// serveStreamable routes each /mcp request to the handler of its era.
//
// The SDK serves either sessions (2025-03-26 to 2025-11-25) or sessionless
// requests (2026-07-28) per handler, never both, so one URL needs a router.
// Revision strings are dates and compare as strings.
func (e *Edge) serveStreamable(w http.ResponseWriter, r *http.Request) {
	dw := dropResponseWriter{w}
	if r.Method == http.MethodPost && r.Header.Get(headerProtocolVersion) >= firstSessionlessVersion {
		// The SDK ties the handler to the request (PropagateRequestCancellation).
		e.stateless.ServeHTTP(dw, r)
		return
	}
	if r.Method == http.MethodPost && r.Header.Get(headerSessionID) != "" {
		// A session's calls run on the session's context, not the POST's;
		// tag the POST so that the call can be tied to it (see linkCancellation).
		defer e.posts.track(r)()
	}
	e.stateful.ServeHTTP(dw, r)
}

// serveSSE serves the legacy HTTP+SSE transport: GET opens the event stream
// and its session, POST ?sessionid= carries the client's messages.
func (e *Edge) serveSSE(w http.ResponseWriter, r *http.Request) {
	e.sse.ServeHTTP(dropResponseWriter{w}, r)
}
