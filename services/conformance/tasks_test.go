package conformance_test

import (
	"testing"

	"google.golang.org/grpc/codes"

	conformancev1 "github.com/toolwire/toolwire/gen/go/examples/conformance/v1"
	mcpv1 "github.com/toolwire/toolwire/gen/go/toolwire/mcp/v1"
	"github.com/toolwire/toolwire/server"
)

// The bidi task fixtures. The edge makes a bidi call a task with its first
// message unless that message asks for input: confirm_delete and
// multi_input report progress first, test_tool_with_task asks first.

func TestConfirmDelete(t *testing.T) {
	client, _, _ := serve(t, nil)
	type (
		req  = conformancev1.ConfirmDeleteRequest
		resp = conformancev1.ConfirmDeleteResponse
	)
	progress := &resp{Progress: server.Progress(0, 1, "waiting for confirmation")}
	ask := &resp{InputRequests: questions(map[string]*mcpv1.InputRequest{"confirm": elicitQ(t, "Delete mrtr-resume.txt?",
		`{"type":"object","properties":{"confirm":{"type":"boolean","description":"Whether to delete the file"}},"required":["confirm"]}`)})}
	first := &req{Filename: "mrtr-resume.txt"}
	tests := []struct {
		name   string
		answer *mcpv1.InputResponse
		want   string
	}{
		{"confirmed", acceptA(t, `{"confirm":true}`), "Deleted mrtr-resume.txt."},
		{"not confirmed", acceptA(t, `{"confirm":false}`), "Kept mrtr-resume.txt."},
		{"declined", declineA(), "Kept mrtr-resume.txt."},
		{"unanswerable", errorA(-32021, "no elicitation"), "Kept mrtr-resume.txt."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			converse(t, client.ConfirmDelete, t.Context(), first, []step[req, resp]{
				{progress, nil},
				{ask, &req{InputResponses: answers(map[string]*mcpv1.InputResponse{"confirm": tt.answer})}},
				{&resp{Content: texts(tt.want)}, nil},
			}, codes.OK)
		})
	}
	t.Run("answers under other keys", func(t *testing.T) {
		converse(t, client.ConfirmDelete, t.Context(), first, []step[req, resp]{
			{progress, nil},
			{ask, &req{InputResponses: answers(map[string]*mcpv1.InputResponse{"unknown-key": acceptA(t, `{"ignored":true}`)})}},
			{&resp{Content: texts("Kept mrtr-resume.txt.")}, nil},
		}, codes.OK)
	})
}

func TestMultiInput(t *testing.T) {
	client, _, _ := serve(t, nil)
	type (
		req  = conformancev1.MultiInputRequest
		resp = conformancev1.MultiInputResponse
	)
	ask := &resp{InputRequests: questions(map[string]*mcpv1.InputRequest{
		"name":    elicitQ(t, "What is your name?", nameSchema),
		"confirm": elicitQ(t, "Do you confirm?", `{"type":"object","properties":{"confirm":{"type":"boolean"}},"required":["confirm"]}`),
	})}
	converse(t, client.MultiInput, t.Context(), &req{}, []step[req, resp]{
		{&resp{Progress: server.Progress(0, 1, "waiting for input")}, nil},
		{ask, &req{InputResponses: answers(map[string]*mcpv1.InputResponse{
			"name":    acceptA(t, `{"name":"partial-1","confirm":true}`),
			"confirm": acceptA(t, `{"name":"partial-2","confirm":true}`),
		})}},
		{&resp{Content: texts("multi_input: name=partial-1, confirm=true")}, nil},
	}, codes.OK)
}

func TestToolWithTask(t *testing.T) {
	client, _, _ := serve(t, nil)
	type (
		req  = conformancev1.TestToolWithTaskRequest
		resp = conformancev1.TestToolWithTaskResponse
	)
	ask := &resp{InputRequests: questions(map[string]*mcpv1.InputRequest{"user_name": elicitQ(t, "What is your name?", nameSchema)})}
	converse(t, client.TestToolWithTask, t.Context(), &req{}, []step[req, resp]{
		{ask, &req{InputResponses: answers(nil)}},
		{ask, &req{InputResponses: answers(map[string]*mcpv1.InputResponse{"user_name": acceptA(t, `{"name":"Alice"}`)})}},
		{&resp{Progress: server.Progress(0, 1, "greeting Alice")}, nil},
		{&resp{Content: texts("Hello, Alice!")}, nil},
	}, codes.OK)
}
