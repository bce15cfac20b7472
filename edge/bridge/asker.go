package bridge

import (
	"context"

	mcpv1 "github.com/toolwire/toolwire/gen/go/toolwire/mcp/v1"
)

// Asker answers the input rounds of a bidi-streaming call: each
// toolwire.mcp.v1.InputRequests the backend sends is one round, numbered
// from 0, and Ask returns the InputResponses the bridge sends back on the
// same stream. Where the answers come from is the transport's business:
//   - on a session revision, server-to-client requests on the call's stream;
//   - on 2026-07-28, the client's inputResponses and the sealed requestState
//     (an Asker that has no answer yet ends the call with an input_required
//     result);
//   - for a task, tasks/update.
//
// An error ends the call; ctx is the call's.
type Asker interface {
	Ask(ctx context.Context, round int, reqs *mcpv1.InputRequests) (*mcpv1.InputResponses, error)
}
