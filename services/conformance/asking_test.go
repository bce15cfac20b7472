package conformance_test

import (
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	conformancev1 "github.com/toolwire/toolwire/gen/go/examples/conformance/v1"
	mcpv1 "github.com/toolwire/toolwire/gen/go/toolwire/mcp/v1"
)

// The bidi tools of session revisions: one round, then the result.

func TestSampling(t *testing.T) {
	client, _, _ := serve(t, nil)
	type (
		req  = conformancev1.TestSamplingRequest
		resp = conformancev1.TestSamplingResponse
	)
	ask := &resp{InputRequests: questions(map[string]*mcpv1.InputRequest{"sampling": sampleQ("Test prompt for sampling", 100)})}
	first := &req{Prompt: "Test prompt for sampling"}
	t.Run("answered", func(t *testing.T) {
		converse(t, client.TestSampling, t.Context(), first, []step[req, resp]{
			{ask, &req{InputResponses: answers(map[string]*mcpv1.InputResponse{"sampling": sampleA("This is a test response from the client")})}},
			{&resp{Content: texts("LLM response: This is a test response from the client")}, nil},
		}, codes.OK)
	})
	t.Run("client cannot sample", func(t *testing.T) {
		converse(t, client.TestSampling, t.Context(), first, []step[req, resp]{
			{ask, &req{InputResponses: answers(map[string]*mcpv1.InputResponse{"sampling": errorA(-32021, "sampling not declared")})}},
		}, codes.FailedPrecondition)
	})
	t.Run("no answer", func(t *testing.T) {
		converse(t, client.TestSampling, t.Context(), first, []step[req, resp]{
			{ask, &req{InputResponses: answers(nil)}},
		}, codes.FailedPrecondition)
	})
}

func TestElicitationTools(t *testing.T) {
	client, _, _ := serve(t, nil)
	t.Run("test_elicitation", func(t *testing.T) {
		type (
			req  = conformancev1.TestElicitationRequest
			resp = conformancev1.TestElicitationResponse
		)
		ask := &resp{InputRequests: questions(map[string]*mcpv1.InputRequest{"elicitation": elicitQ(t, "Please provide your information",
			`{"type":"object","properties":{"username":{"type":"string","description":"User's response"},`+
				`"email":{"type":"string","description":"User's email address"}},"required":["username","email"]}`)})}
		first := &req{Message: "Please provide your information"}
		converse(t, client.TestElicitation, t.Context(), first, []step[req, resp]{
			{ask, &req{InputResponses: answers(map[string]*mcpv1.InputResponse{
				"elicitation": acceptA(t, `{"username":"testuser","email":"test@example.com"}`),
			})}},
			{&resp{Content: texts(`User response: action=accept, content={"email":"test@example.com","username":"testuser"}`)}, nil},
		}, codes.OK)
		converse(t, client.TestElicitation, t.Context(), first, []step[req, resp]{
			{ask, &req{InputResponses: answers(map[string]*mcpv1.InputResponse{"elicitation": declineA()})}},
			{&resp{Content: texts(`User response: action=decline, content={}`)}, nil},
		}, codes.OK)
		converse(t, client.TestElicitation, t.Context(), first, []step[req, resp]{
			{ask, &req{InputResponses: answers(map[string]*mcpv1.InputResponse{"elicitation": errorA(-32021, "no elicitation")})}},
		}, codes.FailedPrecondition)
	})
	t.Run("test_elicitation_sep1034_defaults", func(t *testing.T) {
		type (
			req  = conformancev1.TestElicitationSep1034DefaultsRequest
			resp = conformancev1.TestElicitationSep1034DefaultsResponse
		)
		schema := `{"type":"object","properties":{
			"name":{"type":"string","description":"User name","default":"John Doe"},
			"age":{"type":"integer","description":"User age","default":30},
			"score":{"type":"number","description":"User score","default":95.5},
			"status":{"type":"string","description":"User status","enum":["active","inactive","pending"],"default":"active"},
			"verified":{"type":"boolean","description":"Verification status","default":true}}}`
		converse(t, client.TestElicitationSep1034Defaults, t.Context(), &req{}, []step[req, resp]{
			{&resp{InputRequests: questions(map[string]*mcpv1.InputRequest{"elicitation": elicitQ(t, "Test defaults for primitives", schema)})},
				&req{InputResponses: answers(map[string]*mcpv1.InputResponse{
					"elicitation": acceptA(t, `{"name":"Jane Smith","age":25,"score":88,"status":"inactive","verified":false}`),
				})}},
			{&resp{Content: texts(`Elicitation completed: action=accept, content={"age":25,"name":"Jane Smith","score":88,"status":"inactive","verified":false}`)}, nil},
		}, codes.OK)
	})
	t.Run("test_elicitation_sep1330_enums", func(t *testing.T) {
		type (
			req  = conformancev1.TestElicitationSep1330EnumsRequest
			resp = conformancev1.TestElicitationSep1330EnumsResponse
		)
		schema := `{"type":"object","properties":{
			"untitledSingle":{"type":"string","enum":["option1","option2","option3"]},
			"titledSingle":{"type":"string","oneOf":[{"const":"value1","title":"First Option"},{"const":"value2","title":"Second Option"},{"const":"value3","title":"Third Option"}]},
			"legacyEnum":{"type":"string","enum":["opt1","opt2","opt3"],"enumNames":["Option One","Option Two","Option Three"]},
			"untitledMulti":{"type":"array","minItems":1,"maxItems":3,"items":{"type":"string","enum":["option1","option2","option3"]}},
			"titledMulti":{"type":"array","minItems":1,"maxItems":3,"items":{"anyOf":[{"const":"value1","title":"First Option"},{"const":"value2","title":"Second Option"},{"const":"value3","title":"Third Option"}]}}}}`
		converse(t, client.TestElicitationSep1330Enums, t.Context(), &req{}, []step[req, resp]{
			{&resp{InputRequests: questions(map[string]*mcpv1.InputRequest{"elicitation": elicitQ(t, "Test enum schemas", schema)})},
				&req{InputResponses: answers(map[string]*mcpv1.InputResponse{
					"elicitation": acceptA(t, `{"untitledSingle":"option1","titledSingle":"value1","legacyEnum":"opt1","untitledMulti":["option1","option2"],"titledMulti":["value1","value2"]}`),
				})}},
			{&resp{Content: texts(`Elicitation completed: action=accept, content={"legacyEnum":"opt1","titledMulti":["value1","value2"],` +
				`"titledSingle":"value1","untitledMulti":["option1","option2"],"untitledSingle":"option1"}`)}, nil},
		}, codes.OK)
	})
}

// The multi-round-trip (MRTR) family of 2026-07-28.

func TestInputRequiredResultElicitation(t *testing.T) {
	client, _, _ := serve(t, nil)
	type (
		req  = conformancev1.TestInputRequiredResultElicitationRequest
		resp = conformancev1.TestInputRequiredResultElicitationResponse
	)
	ask := &resp{InputRequests: questions(map[string]*mcpv1.InputRequest{"user_name": elicitQ(t, "What is your name?", nameSchema)})}
	reply := func(resps map[string]*mcpv1.InputResponse) *req { return &req{InputResponses: answers(resps)} }
	alice := acceptA(t, `{"name":"Alice"}`)
	t.Run("answered", func(t *testing.T) {
		converse(t, client.TestInputRequiredResultElicitation, t.Context(), &req{}, []step[req, resp]{
			{ask, reply(map[string]*mcpv1.InputResponse{"user_name": alice})},
			{&resp{Content: texts("Hello, Alice!")}, nil},
		}, codes.OK)
	})
	t.Run("extra keys are ignored", func(t *testing.T) {
		converse(t, client.TestInputRequiredResultElicitation, t.Context(), &req{}, []step[req, resp]{
			{ask, reply(map[string]*mcpv1.InputResponse{
				"user_name": alice, "unknown_extra_key": acceptA(t, `{"foo":"bar"}`), "another_unexpected": acceptA(t, `{"baz":123}`),
			})},
			{&resp{Content: texts("Hello, Alice!")}, nil},
		}, codes.OK)
	})
	t.Run("missing or unusable answers are asked again", func(t *testing.T) {
		converse(t, client.TestInputRequiredResultElicitation, t.Context(), &req{}, []step[req, resp]{
			{ask, reply(map[string]*mcpv1.InputResponse{"wrong_key": acceptA(t, `{"data":"wrong"}`)})},
			{ask, reply(map[string]*mcpv1.InputResponse{"user_name": errorA(-32602, "not an object")})},
			{ask, reply(map[string]*mcpv1.InputResponse{"user_name": acceptA(t, `{"name":""}`)})},
			{ask, reply(map[string]*mcpv1.InputResponse{"user_name": alice})},
			{&resp{Content: texts("Hello, Alice!")}, nil},
		}, codes.OK)
	})
	t.Run("gives up after four rounds", func(t *testing.T) {
		none := reply(map[string]*mcpv1.InputResponse{"user_name": declineA()})
		converse(t, client.TestInputRequiredResultElicitation, t.Context(), &req{}, []step[req, resp]{
			{ask, none}, {ask, none}, {ask, none}, {ask, none},
		}, codes.FailedPrecondition)
	})
	t.Run("the client ends the call", func(t *testing.T) {
		stream, err := client.TestInputRequiredResultElicitation(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if err := stream.Send(&req{}); err != nil {
			t.Fatal(err)
		}
		if _, err := stream.Recv(); err != nil {
			t.Fatal(err)
		}
		if err := stream.CloseSend(); err != nil {
			t.Fatal(err)
		}
		if _, err := stream.Recv(); status.Code(err) != codes.FailedPrecondition {
			t.Errorf("Recv after CloseSend = %v, want FailedPrecondition", err)
		}
	})
}

func TestInputRequiredResultSampling(t *testing.T) {
	client, _, _ := serve(t, nil)
	type (
		req  = conformancev1.TestInputRequiredResultSamplingRequest
		resp = conformancev1.TestInputRequiredResultSamplingResponse
	)
	ask := &resp{InputRequests: questions(map[string]*mcpv1.InputRequest{"capital_question": sampleQ("What is the capital of France?", 100)})}
	converse(t, client.TestInputRequiredResultSampling, t.Context(), &req{}, []step[req, resp]{
		{ask, &req{InputResponses: answers(nil)}},
		{ask, &req{InputResponses: answers(map[string]*mcpv1.InputResponse{"capital_question": sampleA("The capital of France is Paris.")})}},
		{&resp{Content: texts("Sampling response: The capital of France is Paris.")}, nil},
	}, codes.OK)
}

func TestInputRequiredResultListRoots(t *testing.T) {
	client, _, _ := serve(t, nil)
	type (
		req  = conformancev1.TestInputRequiredResultListRootsRequest
		resp = conformancev1.TestInputRequiredResultListRootsResponse
	)
	ask := &resp{InputRequests: questions(map[string]*mcpv1.InputRequest{"client_roots": rootsQ()})}
	converse(t, client.TestInputRequiredResultListRoots, t.Context(), &req{}, []step[req, resp]{
		{ask, &req{InputResponses: answers(map[string]*mcpv1.InputResponse{"client_roots": rootsA("file:///test/root", "file:///other")})}},
		{&resp{Content: texts("Client exposed 2 root(s): file:///test/root, file:///other")}, nil},
	}, codes.OK)
	converse(t, client.TestInputRequiredResultListRoots, t.Context(), &req{}, []step[req, resp]{
		{ask, &req{InputResponses: answers(map[string]*mcpv1.InputResponse{"client_roots": rootsA()})}},
		{&resp{Content: texts("Client exposed 0 root(s): ")}, nil},
	}, codes.OK)
}

func TestInputRequiredResultConfirmations(t *testing.T) {
	client, _, _ := serve(t, nil)
	confirm := elicitQ(t, "Please confirm", `{"type":"object","properties":{"ok":{"type":"boolean"}},"required":["ok"]}`)
	const stateOK = "state-ok: requestState received and confirmation accepted"
	t.Run("test_input_required_result_request_state", func(t *testing.T) {
		type (
			req  = conformancev1.TestInputRequiredResultRequestStateRequest
			resp = conformancev1.TestInputRequiredResultRequestStateResponse
		)
		ask := &resp{InputRequests: questions(map[string]*mcpv1.InputRequest{"confirm": confirm})}
		converse(t, client.TestInputRequiredResultRequestState, t.Context(), &req{}, []step[req, resp]{
			{ask, &req{InputResponses: answers(map[string]*mcpv1.InputResponse{"confirm": declineA()})}},
			{ask, &req{InputResponses: answers(map[string]*mcpv1.InputResponse{"confirm": acceptA(t, `{"ok":true}`)})}},
			{&resp{Content: texts(stateOK)}, nil},
		}, codes.OK)
	})
	t.Run("test_input_required_result_tampered_state", func(t *testing.T) {
		type (
			req  = conformancev1.TestInputRequiredResultTamperedStateRequest
			resp = conformancev1.TestInputRequiredResultTamperedStateResponse
		)
		ask := &resp{InputRequests: questions(map[string]*mcpv1.InputRequest{"confirm": confirm})}
		converse(t, client.TestInputRequiredResultTamperedState, t.Context(), &req{}, []step[req, resp]{
			{ask, &req{InputResponses: answers(map[string]*mcpv1.InputResponse{"confirm": acceptA(t, `{"ok":true}`)})}},
			{&resp{Content: texts(stateOK)}, nil},
		}, codes.OK)
	})
}

func TestInputRequiredResultMultipleInputs(t *testing.T) {
	client, _, _ := serve(t, nil)
	type (
		req  = conformancev1.TestInputRequiredResultMultipleInputsRequest
		resp = conformancev1.TestInputRequiredResultMultipleInputsResponse
	)
	ask := &resp{InputRequests: questions(map[string]*mcpv1.InputRequest{
		"user_name":    elicitQ(t, "What is your name?", nameSchema),
		"greeting":     sampleQ("Generate a greeting", 50),
		"client_roots": rootsQ(),
	})}
	converse(t, client.TestInputRequiredResultMultipleInputs, t.Context(), &req{}, []step[req, resp]{
		// A partial answer is asked again, whole.
		{ask, &req{InputResponses: answers(map[string]*mcpv1.InputResponse{"user_name": acceptA(t, `{"name":"Alice"}`)})}},
		{ask, &req{InputResponses: answers(map[string]*mcpv1.InputResponse{
			"user_name": acceptA(t, `{"name":"Alice"}`), "greeting": sampleA("Hello there!"), "client_roots": rootsA("file:///test/root"),
		})}},
		{&resp{Content: texts("Hello there! Alice — 1 root(s) visible")}, nil},
	}, codes.OK)
}

func TestInputRequiredResultMultiRound(t *testing.T) {
	client, _, _ := serve(t, nil)
	type (
		req  = conformancev1.TestInputRequiredResultMultiRoundRequest
		resp = conformancev1.TestInputRequiredResultMultiRoundResponse
	)
	step1 := &resp{InputRequests: questions(map[string]*mcpv1.InputRequest{"step1": elicitQ(t, "Step 1: What is your name?", nameSchema)})}
	step2 := &resp{InputRequests: questions(map[string]*mcpv1.InputRequest{"step2": elicitQ(t, "Step 2: What is your favorite color?",
		`{"type":"object","properties":{"color":{"type":"string"}},"required":["color"]}`)})}
	converse(t, client.TestInputRequiredResultMultiRound, t.Context(), &req{}, []step[req, resp]{
		{step1, &req{InputResponses: answers(map[string]*mcpv1.InputResponse{"step1": acceptA(t, `{"name":"Alice"}`)})}},
		{step2, &req{InputResponses: answers(map[string]*mcpv1.InputResponse{"step2": acceptA(t, `{"color":"blue"}`)})}},
		{&resp{Content: texts("Multi-round complete: Alice likes blue")}, nil},
	}, codes.OK)
	converse(t, client.TestInputRequiredResultMultiRound, t.Context(), &req{}, []step[req, resp]{
		{step1, &req{InputResponses: answers(map[string]*mcpv1.InputResponse{"step1": declineA()})}},
		{step2, &req{InputResponses: answers(nil)}},
		{&resp{Content: texts("Multi-round complete: unknown likes unknown")}, nil},
	}, codes.OK)
}

func TestInputRequiredResultCapabilities(t *testing.T) {
	client, _, _ := serve(t, nil)
	type (
		req  = conformancev1.TestInputRequiredResultCapabilitiesRequest
		resp = conformancev1.TestInputRequiredResultCapabilitiesResponse
	)
	name := elicitQ(t, "What is your name?", nameSchema)
	greeting := sampleQ("Generate a short greeting", 50)
	fulfilled := &resp{Content: texts("Capability-aware input requests fulfilled")}
	tests := []struct {
		caps string // "" sends no capabilities
		ask  map[string]*mcpv1.InputRequest
	}{
		{"sampling", map[string]*mcpv1.InputRequest{"greeting": greeting}},
		{"elicitation", map[string]*mcpv1.InputRequest{"user_name": name}},
		{"roots, elicitation ,tasks", map[string]*mcpv1.InputRequest{"user_name": name, "client_roots": rootsQ()}},
		{"elicitation,sampling,roots", map[string]*mcpv1.InputRequest{"user_name": name, "greeting": greeting, "client_roots": rootsQ()}},
		{"tasks", nil},
		{"", nil},
	}
	for _, tt := range tests {
		t.Run("caps="+tt.caps, func(t *testing.T) {
			ctx := t.Context()
			if tt.caps != "" {
				ctx = withCapabilities(ctx, tt.caps)
			}
			if tt.ask == nil {
				converse(t, client.TestInputRequiredResultCapabilities, ctx, &req{}, []step[req, resp]{
					{&resp{Content: texts("No declared client capability supports an in-band input request")}, nil},
				}, codes.OK)
				return
			}
			converse(t, client.TestInputRequiredResultCapabilities, ctx, &req{}, []step[req, resp]{
				{&resp{InputRequests: questions(tt.ask)}, &req{InputResponses: answers(map[string]*mcpv1.InputResponse{"greeting": sampleA("Hi")})}},
				{fulfilled, nil},
			}, codes.OK)
		})
	}
}

func TestInputRequiredResultPrompt(t *testing.T) {
	client, _, _ := serve(t, nil)
	type (
		req  = conformancev1.TestInputRequiredResultPromptRequest
		resp = conformancev1.TestInputRequiredResultPromptResponse
	)
	ask := &resp{InputRequests: questions(map[string]*mcpv1.InputRequest{"user_context": elicitQ(t, "What context should the prompt use?",
		`{"type":"object","properties":{"context":{"type":"string"}},"required":["context"]}`)})}
	converse(t, client.TestInputRequiredResultPrompt, t.Context(), &req{}, []step[req, resp]{
		{ask, &req{InputResponses: answers(map[string]*mcpv1.InputResponse{"user_context": acceptA(t, `{"context":"test context"}`)})}},
		{&resp{Result: &mcpv1.PromptResult{
			Description: "A prompt with elicited context",
			Messages:    []*mcpv1.PromptMessage{user(textC("Context: test context"))},
		}}, nil},
	}, codes.OK)
}
