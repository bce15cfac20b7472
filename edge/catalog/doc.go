// Package catalog turns gRPC service descriptors into MCP tools.
//
// [New] reads the descriptors compiled into the program (or fetched through
// gRPC reflection) and makes a [Tool] of every RPC, unless its
// (toolwire.mcp.v1.tool) option excludes it. Each tool carries:
//
//   - its name, title, description and annotations, from the tool option, the
//     RPC's leading comment and its idempotency_level;
//   - its gRPC method path, streaming [Kind], [StreamMode] and timeouts;
//   - which response fields carry events ([EventKind]) rather than payload;
//   - an input and an output JSON Schema (draft 2020-12), generated from the
//     request and response messages after the proto3 JSON mapping, with
//     protovalidate rules turned into schema keywords where they map;
//   - a compiled validator behind [Tool.ValidateArgs], which reports every way
//     a call's arguments break the input schema, each at its JSON pointer.
//     Valid arguments take a fast path, one pass over the JSON without
//     allocating, which accepts only what the schema validator accepts and
//     leaves everything else to it (fastvalidate.go), so that the answer
//     and its wording are the schema validator's.
//
// # Schema shape
//
// Schemas use proto field names (snake_case), as the edge decodes arguments
// with protojson, which accepts them, and encodes results with UseProtoNames.
// Strict LLM providers reject anyOf, oneOf and allOf, so none is emitted: the
// members of a proto oneof are plain properties whose descriptions say that at
// most one may be set. Recursive messages go to "$defs" and are referenced
// with "$ref"; every other message is inlined.
//
// The input schema is strict (additionalProperties false) and accepts 64-bit
// integers as JSON numbers or decimal strings, as protojson does. It is a
// little stricter than protojson where that helps a model: enums by name
// only, 32-bit integers as numbers only, finite numbers only, and no null for
// "unset" (leave the field out), except on wrapper fields
// (google.protobuf.Int32Value and the others), where the JSON mapping keeps
// null as "no value". Required fields are the protovalidate-required ones and
// proto2's. The output schema describes what protojson emits with
// UseProtoNames (and without EmitUnpopulated): 64-bit integers as strings,
// NaN and the infinities as strings, and no event fields, which become
// notifications rather than result payload.
//
// A request must map to a JSON object, or [New] fails. A response that does
// not (a well-known type such as google.protobuf.StringValue) gets no output
// schema: MCP requires an object there.
//
// # Client streams
//
// An RPC whose client streams and whose server does not cannot be one MCP
// tool call, which sends exactly one arguments object. [New] fails on such an
// RPC rather than drop it silently: mark it (toolwire.mcp.v1.tool).exclude,
// or leave it out with [Options].Include.
package catalog
