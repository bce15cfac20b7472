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
//     streams ([Limits]; limits.go, streams.go).
package edge
