// Package bridge turns an MCP tools/call into a gRPC call and its answer back
// into an MCP result.
//
// One call goes: JSON arguments checked against the tool's input schema →
// protojson into the request message → a gRPC call on the backend's
// connection, with the call's deadline and metadata → each streamed event
// (progress, log) forwarded to the client as it arrives → the payload as
// structuredContent and text. A gRPC status becomes an isError result or a
// JSON-RPC error through one table, in errors.go.
//
// Arguments and results of flat messages (scalar fields only) skip
// protojson's reflection: they go through the binary wire form, with the
// same JSON on both sides (transcode.go); other messages, and inputs the fast
// path does not handle exactly, use protojson.
//
// A response field of type repeated toolwire.mcp.v1.Content makes the
// result's content those blocks (of every payload message, over a stream),
// with structuredContent only when other payload fields remain (result.go).
// A bidi-streaming tool may ask its client for input: each
// toolwire.mcp.v1.InputRequests it sends is one round, which an [Asker]
// answers on the same stream (interact.go). On session revisions the
// questions become server-to-client requests on the call's own stream
// ([SessionAsker]); on 2026-07-28 the call ends with an input_required
// result and resumes, replayed from a sealed requestState, when the client
// calls again with its answers (mrtr.go).
//
// The bridge knows nothing of HTTP or sessions: the edge gives it the call's
// context already tied to whatever can cancel it.
package bridge
