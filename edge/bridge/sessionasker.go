package bridge

import (
	"context"
	"fmt"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	mcpv1 "github.com/toolwire/toolwire/gen/go/toolwire/mcp/v1"
)

// SessionAsker returns the [Asker] of a call on a session revision
// (2024-11-05 to 2025-11-25): each request of a round becomes a
// server-to-client request to ss's client (elicitation/create,
// sampling/createMessage, roots/list), all of a round at once, and the
// round is answered when every one of them is.
//
// Ask must get the request handler's context, or one derived from it: the
// SDK sends a server-to-client request on the stream of the client request
// whose context it is given, which on Streamable HTTP is the POST stream of
// the originating call.
//
// A request for a capability the client did not declare at initialize is
// not sent: its answer is an InputError (mcp.CodeMissingRequiredClientCapabilities),
// as is an error the client answers with. Only the end of ctx ends the
// call.
func SessionAsker(ss *mcp.ServerSession) Asker { return sessionAsker{ss} }

type sessionAsker struct{ ss *mcp.ServerSession }

func (a sessionAsker) Ask(ctx context.Context, _ int, reqs *mcpv1.InputRequests) (*mcpv1.InputResponses, error) {
	var caps Capabilities
	if p := a.ss.InitializeParams(); p != nil {
		caps = CapabilitiesOf(p.Capabilities)
	}
	out := &mcpv1.InputResponses{Responses: make(map[string]*mcpv1.InputResponse, len(reqs.GetRequests()))}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for key, r := range reqs.GetRequests() {
		wg.Go(func() {
			resp := a.ask(ctx, caps, r)
			mu.Lock()
			out.Responses[key] = resp
			mu.Unlock()
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// ask sends one request to the client and converts its answer.
func (a sessionAsker) ask(ctx context.Context, caps Capabilities, r *mcpv1.InputRequest) *mcpv1.InputResponse {
	c, name := capabilityOf(r)
	if c == 0 {
		return inputError(jsonrpc.CodeInvalidParams, "input request with no kind set")
	}
	if caps&c == 0 {
		return notDeclared(name)
	}
	params, err := InputRequestOf(r)
	if err != nil {
		return inputError(jsonrpc.CodeInvalidParams, err.Error())
	}
	var res mcp.InputResponse
	switch p := params.(type) {
	case *mcp.ElicitParams:
		res, err = a.ss.Elicit(ctx, p)
	case *mcp.CreateMessageParams:
		res, err = a.ss.CreateMessage(ctx, p)
	case *mcp.ListRootsParams:
		res, err = a.ss.ListRoots(ctx, p)
	default:
		err = fmt.Errorf("unsupported input request %T", params)
	}
	if err != nil {
		return inputErrorOf(err)
	}
	resp, err := InputResponseOf(res)
	if err != nil {
		return inputError(jsonrpc.CodeInternalError, err.Error())
	}
	return resp
}
