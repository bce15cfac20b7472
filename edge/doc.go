// Package edge is toolwire's MCP edge: it speaks MCP to agents over Streamable
// HTTP, legacy HTTP+SSE and stdio, and serves each tool call by calling a gRPC
// backend through package bridge.
//
// The protocol itself comes from the official Go SDK
// (github.com/modelcontextprotocol/go-sdk). This package adds what the SDK
// lacks, around it and never inside it:
//   - one URL for both protocol eras: 2026-07-28 requests go to a stateless
//     SDK handler, everything else to a stateful one (router.go);
//   - cancellation that reaches the backend in every era (cancel.go);
//   - no response for a cancelled request (cancel.go, the drop filter);
//   - Host and Origin validation against DNS rebinding (guard.go);
//   - rate and concurrency limits per principal and per tool, and bounded
//     streams ([Limits]; limits.go, streams.go);
//   - authentication, scope checks and the principal's binding to its
//     sessions (auth.go, sessions.go);
//   - resources, templates, subscriptions, prompts and completions, each a
//     backend RPC declared by an option (features.go);
//   - the tasks extension, io.modelcontextprotocol/tasks, on live gRPC calls
//     (tasks*.go);
//   - Mcp-Param-* header checks for both paths (params.go);
//   - a catalog that changes at run time, with list_changed to every session
//     kind (catalogswap.go).
//
// Bidi tools that ask their client for input (elicitation, sampling, roots)
// are package bridge's: server-to-client requests on sessions, sealed
// multi-round trips on 2026-07-28.
//
// For speed it answers the hot requests itself, never differently from the
// SDK (tests compare the two): tools/call (fastpath.go), initialize with the
// session it opens, whose SDK session is opened only when needed
// (lazysession.go), and the standalone GET stream (getstream.go).
package edge
