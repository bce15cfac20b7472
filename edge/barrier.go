package edge

import (
	"context"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// barrierTimeout bounds how long a result waits for the client's answer to
// the barrier ping; a client that does not answer gets its result anyway.
const barrierTimeout = 500 * time.Millisecond

// barrier makes sure an HTTP+SSE or stdio client has taken in a call's
// notifications before it sees the call's result.
//
// The TypeScript SDK handles a notification on a later microtask but a
// response at once, and drops its progress handler with the response; when
// the last notification and the result arrive in one read, the notification
// is lost. Flushing each message on its own does not prevent that on SSE and
// stdio, where the two often land in one read. A ping is a request the client
// must answer, and it answers after the notifications it read before it, so
// once the pong is back the result can follow. It costs one round trip, only
// on calls that forwarded events, only on these transports: the SDK's
// Streamable HTTP client already reads events one by one, and 2026-07-28 has
// no server-to-client requests.
func (e *Edge) barrier(ctx context.Context, req *mcp.CallToolRequest) {
	if req.Extra != nil || req.Session == nil {
		return // Streamable HTTP
	}
	if _, ok := e.sessionParent(req.Session); !ok {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, barrierTimeout)
	defer cancel()
	if err := req.Session.Ping(ctx, nil); err != nil && ctx.Err() == nil {
		e.logger.Debug("barrier ping failed", "error", err)
	}
}
