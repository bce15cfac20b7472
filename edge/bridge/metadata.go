package bridge

import (
	"context"

	"google.golang.org/grpc/metadata"

	"github.com/toolwire/toolwire/edge/observe"
)

// MetaRequestID is the result _meta key that tells the client the request id
// the edge used, for support and log searches.
const MetaRequestID = "io.github.toolwire/requestId"

// outgoing sets the backend call's metadata from the MCP request. This is the
// one place where client-side identifiers become gRPC metadata:
//   - x-request-id: the client's X-Request-Id header when well formed, else new;
//   - traceparent/tracestate: from _meta (reserved for W3C trace context since
//     2026-07-28), else from the HTTP headers, else a new trace.
func outgoing(ctx context.Context, c *Call) (context.Context, string) {
	tp, ts := c.HeaderTraceparent, c.HeaderTracestate
	if c.MetaTraceparent != "" {
		tp, ts = c.MetaTraceparent, c.MetaTracestate
	}
	id, traceparent := observe.IDs(c.HeaderRequestID, tp)
	kv := []string{observe.MDRequestID, id, observe.MDTraceparent, traceparent}
	if ts != "" && tp != "" {
		kv = append(kv, observe.MDTracestate, ts)
	}
	return metadata.AppendToOutgoingContext(ctx, kv...), id
}
