package bridge

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	mcpv1 "github.com/toolwire/toolwire/gen/go/toolwire/mcp/v1"
)

var bidiStreamDesc = grpc.StreamDesc{ServerStreams: true, ClientStreams: true}

// Interact runs one bidi-streaming call of fullMethod on conn, for a tool,
// a prompt or a resource that may ask its client for input:
//
//   - it opens the stream on ctx and sends first (the request);
//   - it reads the backend's messages in order. A message whose asks field
//     (of type toolwire.mcp.v1.InputRequests) is set is one input round: the
//     asker answers it, and a fresh request message (newIn) with only the
//     answers field (of type toolwire.mcp.v1.InputResponses) set goes back
//     on the stream. Rounds are numbered from 0;
//   - every other message (events and payload) goes to onMessage; each is
//     a fresh newOut message, which onMessage may keep;
//   - the call ends when the backend ends the stream, with nil or the
//     backend's status error.
//
// The edge never half-closes its side before the backend ends the stream,
// for it cannot know whether more rounds follow: a backend ends the call by
// returning. An error from the asker or from onMessage ends the call with
// that error, and the stream is cancelled when Interact returns, whatever
// ended it; so is an [*InputRequiredError], with which a 2026-07-28 asker
// ends a call that needs answers it does not have yet. A nil asker answers
// every request with an InputError: there is nobody to ask.
//
// asks and answers may be nil for a call that never asks.
func Interact(ctx context.Context, conn grpc.ClientConnInterface, fullMethod string, first proto.Message,
	newIn, newOut func() proto.Message, asks, answers protoreflect.FieldDescriptor,
	asker Asker, onMessage func(protoreflect.Message) error,
) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cs, err := conn.NewStream(ctx, &bidiStreamDesc, fullMethod)
	if err != nil {
		return err
	}
	if err := cs.SendMsg(first); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	sendOK := true
	round := 0
	for {
		out := newOut()
		if err := cs.RecvMsg(out); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		m := out.ProtoReflect()
		if asks == nil || !m.Has(asks) {
			if err := onMessage(m); err != nil {
				return err
			}
			continue
		}
		reqs, err := as(m.Get(asks).Message(), &mcpv1.InputRequests{})
		if err != nil {
			return fmt.Errorf("input round %d: %w", round, err)
		}
		var resp *mcpv1.InputResponses
		if asker == nil {
			resp = unanswered(reqs)
		} else if resp, err = asker.Ask(ctx, round, reqs); err != nil {
			return err
		}
		round++
		if answers == nil || !sendOK {
			continue
		}
		in := newIn()
		if err := setMessage(in.ProtoReflect(), answers, resp); err != nil {
			return fmt.Errorf("input round %d: %w", round-1, err)
		}
		if err := cs.SendMsg(in); err != nil {
			if !errors.Is(err, io.EOF) {
				return err
			}
			// The backend has ended the stream; RecvMsg returns its status.
			sendOK = false
		}
	}
}

// unanswered answers every request of reqs with an InputError.
func unanswered(reqs *mcpv1.InputRequests) *mcpv1.InputResponses {
	resp := &mcpv1.InputResponses{Responses: make(map[string]*mcpv1.InputResponse, len(reqs.GetRequests()))}
	for k := range reqs.GetRequests() {
		resp.Responses[k] = inputError(mcp.CodeMissingRequiredClientCapabilities, "this call has no client to ask")
	}
	return resp
}

// setMessage sets m's message field fd to v, which has fd's type: v itself
// when m is a generated message, a copy for a dynamic one.
func setMessage(m protoreflect.Message, fd protoreflect.FieldDescriptor, v proto.Message) error {
	target := m.NewField(fd).Message()
	if target.Interface() != nil && target.Type() == v.ProtoReflect().Type() {
		m.Set(fd, protoreflect.ValueOfMessage(v.ProtoReflect()))
		return nil
	}
	b, err := proto.Marshal(v)
	if err != nil {
		return err
	}
	if err := proto.Unmarshal(b, target.Interface()); err != nil {
		return err
	}
	m.Set(fd, protoreflect.ValueOfMessage(target))
	return nil
}

// RequestAsker returns the [Asker] of a request other than a tool call that
// may ask its client for input (prompts/get, resources/read of a
// bidi-streaming RPC), as the bridge picks one for its tools:
//
//   - on a session revision, [SessionAsker] of ss;
//   - on 2026-07-28 (ss's protocol version, as the SDK's stateless handler
//     records it), sealer's multi-round-trip asker for subject (such as
//     "prompts/get NAME"), the request message in (its deterministic
//     encoding is what the state is bound to), and the request's
//     requestState and inputResponses. An invalid state is a JSON-RPC error
//     -32602; a call that needs input ends with an [*InputRequiredError],
//     whose Requests and State become the result's inputRequests and
//     requestState.
//
// caps are the client's capabilities ([CapabilitiesOf] of the request's
// ClientCapabilities()).
func RequestAsker(ctx context.Context, ss *mcp.ServerSession, sealer *Sealer, subject string, in proto.Message,
	state string, responses mcp.InputResponseMap, caps Capabilities,
) (Asker, error) {
	if !roundTrips(ss) {
		if ss == nil {
			return nil, nil
		}
		return SessionAsker(ss), nil
	}
	args, err := proto.MarshalOptions{Deterministic: true}.Marshal(in)
	if err != nil {
		return nil, err
	}
	return sealer.Asker(ctx, subject, args, state, responses, caps)
}
