package bridge

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/toolwire/toolwire/edge/policy/authn"
	mcpv1 "github.com/toolwire/toolwire/gen/go/toolwire/mcp/v1"
)

func elicitAnswer(name string) *mcpv1.InputResponses {
	s, _ := structpb.NewStruct(map[string]any{"name": name})
	return &mcpv1.InputResponses{Responses: map[string]*mcpv1.InputResponse{
		"name": {Kind: &mcpv1.InputResponse_Elicit{Elicit: &mcpv1.ElicitResult{Action: mcpv1.ElicitAction_ELICIT_ACTION_ACCEPT, Content: s}}},
	}}
}

func TestSealOpen(t *testing.T) {
	s := NewSealer([]byte("k1"), time.Minute)
	ctx := context.Background()
	bind := binding(ctx, "tools/call t", []byte("args"))
	rounds := []*mcpv1.InputResponses{elicitAnswer("Alice"), elicitAnswer("Bob")}
	state, err := s.seal(bind, rounds)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.open(bind, state)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(rounds, got, protocmp.Transform()); diff != "" {
		t.Errorf("rounds (-want +got):\n%s", diff)
	}
	if got, err := s.open(bind, ""); err != nil || got != nil {
		t.Errorf("empty state: %v, %v; want no rounds", got, err)
	}

	payload, mac, _ := strings.Cut(state, ".")
	raw, _ := base64.RawURLEncoding.DecodeString(payload)
	raw[len(raw)-1] ^= 1
	flipped := base64.RawURLEncoding.EncodeToString(raw) + "." + mac

	principal := authn.WithPrincipal(ctx, &authn.Principal{Method: "bearer", Subject: "mallory"})
	expired := NewSealer([]byte("k1"), time.Minute)
	expired.now = func() time.Time { return time.Now().Add(2 * time.Minute) }
	for _, tc := range []struct {
		name   string
		s      *Sealer
		bind   []byte
		state  string
		reason string
	}{
		{"appended", s, bind, state + "-TAMPERED", "tampered mac"},
		{"payload", s, bind, flipped, "tampered payload"},
		{"no dot", s, bind, strings.ReplaceAll(state, ".", ""), "malformed"},
		{"garbage", s, bind, "!!.??", "malformed"},
		{"other tool", s, binding(ctx, "tools/call u", []byte("args")), state, "other subject"},
		{"other arguments", s, binding(ctx, "tools/call t", []byte("args2")), state, "other arguments"},
		{"other principal", s, binding(principal, "tools/call t", []byte("args")), state, "other principal"},
		{"other key", NewSealer([]byte("k2"), time.Minute), bind, state, "other key"},
		{"expired", expired, bind, state, "expired"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.s.open(tc.bind, tc.state)
			var werr *jsonrpc.Error
			if !errors.As(err, &werr) || werr.Code != jsonrpc.CodeInvalidParams || werr.Message != "invalid requestState" {
				t.Errorf("open (%s) = %v; want -32602 invalid requestState", tc.reason, err)
			}
		})
	}
}

func TestRoundTripAsker(t *testing.T) {
	s := NewSealer(nil, 0)
	ctx := context.Background()
	elicit := func(key string) *mcpv1.InputRequests {
		return &mcpv1.InputRequests{Requests: map[string]*mcpv1.InputRequest{
			key: {Kind: &mcpv1.InputRequest_Elicit{Elicit: &mcpv1.ElicitRequest{Message: "?"}}},
		}}
	}
	sampling := &mcpv1.InputRequests{Requests: map[string]*mcpv1.InputRequest{
		"q": {Kind: &mcpv1.InputRequest_Sampling{Sampling: &mcpv1.SamplingRequest{MaxTokens: 5}}},
	}}
	caps := CapsKnown | CapElicitation

	// Round 0 with no answers: input_required, with a state of no rounds.
	a, err := s.Asker(ctx, "tools/call t", nil, "", nil, caps)
	if err != nil {
		t.Fatal(err)
	}
	_, err = a.Ask(ctx, 0, elicit("name"))
	var ir *InputRequiredError
	if !errors.As(err, &ir) {
		t.Fatalf("round 0 = %v; want input required", err)
	}
	if _, ok := ir.Requests["name"].(*mcp.ElicitParams); !ok || len(ir.Requests) != 1 {
		t.Fatalf("requests = %v", ir.Requests)
	}

	// The retry answers round 0 from its inputResponses (an extra key is
	// ignored); round 1 needs more.
	retry := mcp.InputResponseMap{
		"name":  &mcp.ElicitResult{Action: "accept", Content: map[string]any{"name": "Alice"}},
		"extra": &mcp.ElicitResult{Action: "decline"},
	}
	a, err = s.Asker(ctx, "tools/call t", nil, ir.State, retry, caps)
	if err != nil {
		t.Fatal(err)
	}
	got, err := a.Ask(ctx, 0, elicit("name"))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(elicitAnswer("Alice"), got, protocmp.Transform()); diff != "" {
		t.Errorf("round 0 (-want +got):\n%s", diff)
	}
	// Sampling is not declared: answered by the edge, not asked.
	got, err = a.Ask(ctx, 1, sampling)
	if err != nil {
		t.Fatal(err)
	}
	if e := got.GetResponses()["q"].GetError(); e.GetCode() != int32(mcp.CodeMissingRequiredClientCapabilities) {
		t.Errorf("undeclared sampling answer = %v", got)
	}
	_, err = a.Ask(ctx, 2, elicit("color"))
	if !errors.As(err, &ir) {
		t.Fatalf("round 2 = %v; want input required", err)
	}

	// The last state replays rounds 0 and 1; an answer of the wrong kind
	// for round 2 asks again.
	a, err = s.Asker(ctx, "tools/call t", nil, ir.State, mcp.InputResponseMap{"color": &mcp.ListRootsResult{}}, caps)
	if err != nil {
		t.Fatal(err)
	}
	for round, reqs := range []*mcpv1.InputRequests{elicit("name"), sampling} {
		if _, err := a.Ask(ctx, round, reqs); err != nil {
			t.Fatalf("replaying round %d: %v", round, err)
		}
	}
	if _, err = a.Ask(ctx, 2, elicit("color")); !errors.As(err, &ir) {
		t.Fatalf("round 2 with a wrong answer = %v; want input required", err)
	}
	if !proto.Equal(elicitAnswer("Alice"), mustOpen(t, s, ir.State)[0]) {
		t.Errorf("state lost round 0")
	}

	// A state of other arguments is refused.
	if _, err := s.Asker(ctx, "tools/call t", []byte("x"), ir.State, nil, caps); err == nil {
		t.Errorf("a state sealed for other arguments was accepted")
	}
}

func mustOpen(t *testing.T, s *Sealer, state string) []*mcpv1.InputResponses {
	t.Helper()
	rounds, err := s.open(binding(context.Background(), "tools/call t", nil), state)
	if err != nil {
		t.Fatal(err)
	}
	return rounds
}

func TestMissingCapabilities(t *testing.T) {
	err := MissingCapabilities("t", []string{"sampling", "elicitation"}, CapsKnown|CapElicitation)
	var werr *jsonrpc.Error
	if !errors.As(err, &werr) || werr.Code != -32021 {
		t.Fatalf("error = %v; want -32021", err)
	}
	if got, want := string(werr.Data), `{"requiredCapabilities":{"sampling":{}}}`; got != want {
		t.Errorf("data = %s; want %s", got, want)
	}
	if err := MissingCapabilities("t", []string{"sampling"}, CapsKnown|CapSampling); err != nil {
		t.Errorf("declared: %v", err)
	}
	if got, want := (CapsKnown | CapSampling | CapRoots | CapTasks).String(), "sampling,roots,tasks"; got != want {
		t.Errorf("String = %q; want %q", got, want)
	}
}
