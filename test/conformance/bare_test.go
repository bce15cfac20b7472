package conformance_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// TestStdioBareClient runs, per session revision, what needs a client that
// declares neither sampling nor elicitation: the refusal of a tool that
// requires an undeclared capability, and a cancelled call.
//
// toolwire runs with one tool call slot and a queue of one
// (--concurrency 1 --concurrency-queue 1): a call made after the cancelled
// one can only run once the cancelled call has released its slot, which is
// how the test knows, without sleeping, that the cancellation reached the
// handler.
func TestStdioBareClient(t *testing.T) {
	for _, version := range sessionVersions {
		t.Run(version, func(t *testing.T) {
			t.Parallel()
			s := startSession(t, version, false, "--concurrency", "1", "--concurrency-queue", "1", "--queue-timeout", "5s")
			t.Run("sep-2575-server-rejects-undeclared-capability", s.rejectsUndeclaredCapability)
			t.Run("cancelled-call", s.cancelledCall)
		})
	}
}

// rejectsUndeclaredCapability: test_missing_capability needs sampling,
// which this client did not declare: a JSON-RPC error -32021 whose data
// names the capability as a ClientCapabilities object, and no result.
func (s *session) rejectsUndeclaredCapability(t *testing.T) {
	res, err := s.cs.CallTool(callCtx(t), &mcp.CallToolParams{Name: "test_missing_capability", Arguments: map[string]any{}})
	var werr *jsonrpc.Error
	if !errors.As(err, &werr) {
		t.Fatalf("tools/call test_missing_capability = %v, %v; want JSON-RPC error %d", res, err, mcp.CodeMissingRequiredClientCapabilities)
	}
	if werr.Code != mcp.CodeMissingRequiredClientCapabilities {
		t.Errorf("error code = %d (%s), want %d", werr.Code, werr.Message, mcp.CodeMissingRequiredClientCapabilities)
	}
	var data struct {
		RequiredCapabilities map[string]json.RawMessage `json:"requiredCapabilities"`
	}
	if err := json.Unmarshal(werr.Data, &data); err != nil {
		t.Fatalf("error data %s: %v", werr.Data, err)
	}
	if sampling, ok := data.RequiredCapabilities["sampling"]; !ok || len(sampling) == 0 || sampling[0] != '{' {
		t.Errorf("error data = %s, want requiredCapabilities.sampling an object", werr.Data)
	}
}

// cancelledCall: a long call cancelled with notifications/cancelled gets no
// response, its backend call ends, and the session keeps working.
func (s *session) cancelledCall(t *testing.T) {
	const token = "cancel-test-1"
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	params := &mcp.CallToolParams{Name: "slow_compute", Arguments: map[string]any{"seconds": 30, "label": "cancelled"}}
	params.SetProgressToken(token)
	done := make(chan error, 1)
	go func() {
		_, err := s.cs.CallTool(ctx, params)
		done <- err
	}()
	// slow_compute reports progress at once: the call is running.
	s.nextProgress(t, token)
	// The request's log line may follow the progress it caused.
	var req wireMsg
	eventually(t, "the slow_compute request on the wire", func() bool {
		var ok bool
		req, ok = s.wire.lastRequest(func(m wireMsg) bool {
			var p struct{ Name string }
			return m.Method == "tools/call" && json.Unmarshal(m.Params, &p) == nil && p.Name == "slow_compute"
		})
		return ok
	})
	cancel()
	if err := receive(t, done, "return of the cancelled call"); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled call returned %v, want context.Canceled", err)
	}
	// The SDK sends notifications/cancelled as the call returns.
	eventually(t, "notifications/cancelled for request "+string(req.ID), func() bool {
		return s.wire.sentNotification("notifications/cancelled", func(p json.RawMessage) bool {
			var c struct {
				RequestID json.RawMessage `json:"requestId"`
			}
			return json.Unmarshal(p, &c) == nil && string(c.RequestID) == string(req.ID)
		})
	})
	// This call waits for the only slot, held by slow_compute for 30 s
	// unless the cancellation ended it.
	res := s.call(t, &mcp.CallToolParams{Name: "test_simple_text", Arguments: map[string]any{}})
	wantText(t, res, "This is a simple text response for testing.")
	if err := s.cs.Ping(callCtx(t), nil); err != nil {
		t.Fatalf("ping after the cancellation: %v", err)
	}
	if resp, ok := s.wire.responseTo(req.ID); ok {
		t.Errorf("the cancelled request %s got a response: %s", req.ID, resp.Line)
	}
}
