package conformance

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"

	mcpv1 "github.com/toolwire/toolwire/gen/go/toolwire/mcp/v1"
)

// This file holds what the bidi-streaming fixtures share: reading the
// arguments, asking one round of questions and reading its answers, and
// building and reading input requests and responses.

// maxRounds bounds the rounds of a fixture that asks again until it gets a
// usable answer, so that a client that never gives one ends the call.
const maxRounds = 4

// answerer is a request message of a bidi fixture, which carries the
// answers of the previous round after the first message.
type answerer[Req any] interface {
	*Req
	GetInputResponses() *mcpv1.InputResponses
}

// arguments receives a bidi call's first request message: its arguments.
func arguments[Req, Resp any](stream grpc.BidiStreamingServer[Req, Resp]) (*Req, error) {
	req, err := stream.Recv()
	if errors.Is(err, io.EOF) {
		return nil, status.Error(codes.InvalidArgument, "the call ended before it sent its arguments")
	}
	return req, err
}

// ask sends one round of questions, in the response message wrap makes,
// and returns the answers, by the questions' keys. The round's answers are
// the next request message.
func ask[Req, Resp any, P answerer[Req]](stream grpc.BidiStreamingServer[Req, Resp], wrap func(*mcpv1.InputRequests) *Resp, reqs map[string]*mcpv1.InputRequest) (map[string]*mcpv1.InputResponse, error) {
	if err := stream.Send(wrap(&mcpv1.InputRequests{Requests: reqs})); err != nil {
		return nil, err
	}
	in, err := stream.Recv()
	if errors.Is(err, io.EOF) {
		return nil, status.Error(codes.FailedPrecondition, "the call ended before the client answered")
	}
	if err != nil {
		return nil, err
	}
	return P(in).GetInputResponses().GetResponses(), nil
}

// elicit asks the user for input with a message and the JSON Schema of the
// answer.
func elicit(message, schema string) (*mcpv1.InputRequest, error) {
	s := &structpb.Struct{}
	if err := protojson.Unmarshal([]byte(schema), s); err != nil {
		return nil, status.Errorf(codes.Internal, "a fixture's requested schema is no JSON object: %v", err)
	}
	return &mcpv1.InputRequest{Kind: &mcpv1.InputRequest_Elicit{Elicit: &mcpv1.ElicitRequest{Message: message, RequestedSchema: s}}}, nil
}

// sample asks the client's LLM to answer prompt, a user message.
func sample(prompt string, maxTokens int32) *mcpv1.InputRequest {
	return &mcpv1.InputRequest{Kind: &mcpv1.InputRequest_Sampling{Sampling: &mcpv1.SamplingRequest{
		Messages:  []*mcpv1.SamplingMessage{{Role: mcpv1.Role_ROLE_USER, Content: text(prompt)}},
		MaxTokens: maxTokens,
	}}}
}

// listRoots asks for the client's roots.
func listRoots() *mcpv1.InputRequest {
	return &mcpv1.InputRequest{Kind: &mcpv1.InputRequest_Roots{Roots: &mcpv1.RootsRequest{}}}
}

// nameSchema is the requested schema of the fixtures that ask for a name.
const nameSchema = `{"type":"object","properties":{"name":{"type":"string"}},"required":["name"]}`

// answered returns the answer to the question key, or a FailedPrecondition
// error when there is none or the client answered with an error: for the
// fixtures that ask once and report what they got.
func answered(resps map[string]*mcpv1.InputResponse, key string) (*mcpv1.InputResponse, error) {
	r, ok := resps[key]
	if !ok || r.GetKind() == nil {
		return nil, status.Errorf(codes.FailedPrecondition, "the client gave no answer to %q", key)
	}
	if e := r.GetError(); e != nil {
		return nil, status.Errorf(codes.FailedPrecondition, "the client could not answer %q: %s (code %d)", key, e.GetMessage(), e.GetCode())
	}
	return r, nil
}

// acceptedContent returns the content of the answer to the elicitation key
// when the user accepted it, and nil otherwise.
func acceptedContent(resps map[string]*mcpv1.InputResponse, key string) map[string]any {
	e := resps[key].GetElicit()
	if e == nil || e.GetAction() != mcpv1.ElicitAction_ELICIT_ACTION_ACCEPT {
		return nil
	}
	return e.GetContent().AsMap()
}

// acceptedString returns the string field of an accepted elicitation's
// content, or "".
func acceptedString(resps map[string]*mcpv1.InputResponse, key, field string) string {
	s, _ := acceptedContent(resps, key)[field].(string)
	return s
}

// samplingText returns the text of the answer to the sampling request key,
// and whether there is a sampling answer.
func samplingText(resps map[string]*mcpv1.InputResponse, key string) (string, bool) {
	s := resps[key].GetSampling()
	if s == nil {
		return "", false
	}
	if t, ok := s.GetContent().GetKind().(*mcpv1.Content_Text); ok {
		return t.Text, true
	}
	return "(non-text response)", true
}

// rootURIs returns the URIs of the answer to the roots request key, and
// whether there is a roots answer.
func rootURIs(resps map[string]*mcpv1.InputResponse, key string) ([]string, bool) {
	r := resps[key].GetRoots()
	if r == nil {
		return nil, false
	}
	uris := make([]string, 0, len(r.GetRoots()))
	for _, root := range r.GetRoots() {
		uris = append(uris, root.GetUri())
	}
	return uris, true
}

// elicitResult renders an elicitation answer as the fixtures report it:
// "action=accept, content={...}".
func elicitResult(e *mcpv1.ElicitResult) string {
	action := strings.TrimPrefix(strings.ToLower(e.GetAction().String()), "elicit_action_")
	return fmt.Sprintf("action=%s, content=%s", action, jsonText(e.GetContent().AsMap()))
}
