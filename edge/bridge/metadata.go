package bridge

import (
	"context"

	"google.golang.org/grpc/metadata"

	"github.com/toolwire/toolwire/edge/observe"
	"github.com/toolwire/toolwire/edge/policy/authn"
	"github.com/toolwire/toolwire/internal/credential"
	"github.com/toolwire/toolwire/server"
)

// MetaRequestID is the result _meta key that tells the client the request id
// the edge used, for support and log searches.
const MetaRequestID = "io.github.toolwire/requestId"

// outgoing sets the backend call's metadata from the MCP request. This is the
// one place where client-side identifiers become gRPC metadata:
//   - x-request-id: the client's X-Request-Id header when well formed, else new;
//   - traceparent/tracestate: from _meta (reserved for W3C trace context since
//     2026-07-28), else from the HTTP headers, else a new trace;
//   - toolwire-client-capabilities (server.MDClientCapabilities): the MCP
//     client's capabilities (Call.Caps), when it declared any.
func outgoing(ctx context.Context, c *Call) (context.Context, string) {
	tp, ts := c.HeaderTraceparent, c.HeaderTracestate
	if c.MetaTraceparent != "" {
		tp, ts = c.MetaTraceparent, c.MetaTracestate
	}
	id, traceparent := observe.IDs(c.HeaderRequestID, tp)
	var buf [8]string
	kv := append(buf[:0], observe.MDRequestID, id, observe.MDTraceparent, traceparent)
	if ts != "" && tp != "" {
		kv = append(kv, observe.MDTracestate, ts)
	}
	if c.Caps&^CapsKnown != 0 {
		// A client that declared nothing sends no key, like a caller that
		// is no MCP client: neither can answer an input request.
		kv = append(kv, server.MDClientCapabilities, c.Caps.String())
	}
	return metadata.AppendToOutgoingContext(ctx, kv...), id
}

// withCredential adds to ctx's outgoing metadata a credential minted by m
// for p and the backend audience: who the caller is, with which scopes, for
// which backend, until the earlier of the credential's TTL and p's expiry.
// The client's own token is never forwarded. Without a minter or a principal
// (stdio, an edge without authentication) the call carries no credential.
func withCredential(ctx context.Context, m *credential.Minter, audience string, p *authn.Principal) (context.Context, error) {
	if m == nil || p == nil {
		return ctx, nil
	}
	return m.OutgoingContext(ctx, audience, credential.Principal{
		Subject:  string(p.Method) + ":" + p.Subject,
		Scopes:   p.Scopes,
		NotAfter: p.Expiry,
	})
}
