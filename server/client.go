package server

import (
	"context"
	"strings"

	"google.golang.org/grpc/metadata"
)

// MDClientCapabilities is the gRPC metadata key in which the edge tells a
// backend which MCP client capabilities the caller declared, as a
// comma-separated list of names: "elicitation", "sampling", "roots", and
// "tasks" (the io.modelcontextprotocol/tasks extension). A call that
// carries no such key came from a caller that is no MCP client (an internal
// gRPC or REST caller), which can answer no input request.
const MDClientCapabilities = "toolwire-client-capabilities"

// ClientCapability reports whether the MCP client behind the call declared
// the capability name (see MDClientCapabilities). A bidi-streaming tool
// uses it to ask only for input the client can give.
func ClientCapability(ctx context.Context, name string) bool {
	md, _ := metadata.FromIncomingContext(ctx)
	for _, v := range md.Get(MDClientCapabilities) {
		for c := range strings.SplitSeq(v, ",") {
			if strings.TrimSpace(c) == name {
				return true
			}
		}
	}
	return false
}
