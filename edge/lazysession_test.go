package edge_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/toolwire/toolwire/edge"
)

// initialize posts an initialize body and returns the outcome with the
// session id the server gave.
func initialize(t *testing.T, url, body string) (rpc, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	sid := resp.Header.Get("Mcp-Session-Id")
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	// Ask again for the decoded message (a second session, closed below).
	r := doPost(t, url, nil, body)
	return r, sid
}

func deleteSession(t *testing.T, url, sid string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodDelete, url, nil)
	req.Header.Set("Mcp-Session-Id", sid)
	req.Header.Set("Mcp-Protocol-Version", "2025-11-25")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// The edge answers a well-formed initialize itself, with exactly the SDK's
// result for the version asked for; anything else goes to the SDK.
func TestLazyInitializeMatchesSDK(t *testing.T) {
	tw := newTwin(t, edge.Options{})
	for _, tc := range []struct {
		name, body string
		fast       bool
	}{
		{"2025-11-25", `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`, true},
		{"2025-06-18, string id, capabilities", `{"jsonrpc":"2.0","id":"init-\u00e9","method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{"roots":{"listChanged":true},"sampling":{},"elicitation":{}},"clientInfo":{"name":"t","version":"1","title":"T"}}}`, true},
		{"2025-03-26", `{"jsonrpc":"2.0","id":2,"method":"initialize","params":{"protocolVersion":"2025-03-26","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`, true},
		{"2024-11-05", `{"jsonrpc":"2.0","id":3,"method":"initialize","params":{"protocolVersion":"2024-11-05","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`, true},
		{"unknown version", `{"jsonrpc":"2.0","id":4,"method":"initialize","params":{"protocolVersion":"2031-01-01","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`, true},
		{"2026-07-28 asked by initialize", `{"jsonrpc":"2.0","id":5,"method":"initialize","params":{"protocolVersion":"2026-07-28","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`, true},
		// Left to the SDK.
		{"no clientInfo", `{"jsonrpc":"2.0","id":6,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{}}}`, false},
		{"bad params", `{"jsonrpc":"2.0","id":7,"method":"initialize","params":{"protocolVersion":7}}`, false},
		{"not JSON", `{"jsonrpc":"2.0","id":8,"method":"initialize"`, false},
		{"a batch", `[{"jsonrpc":"2.0","id":9,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}]`, false},
		{"not initialize", `{"jsonrpc":"2.0","id":10,"method":"tools/list"}`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := tw.fastEdge.FastServed()
			got, gotSID := initialize(t, tw.fast, tc.body)
			want, wantSID := initialize(t, tw.sdk, tc.body)
			if diff := cmp.Diff(want.msg, got.msg); diff != "" {
				t.Errorf("answer (-sdk +edge):\n%s", diff)
			}
			if got.status != want.status || (gotSID == "") != (wantSID == "") {
				t.Errorf("edge: HTTP %d, session %q; SDK: HTTP %d, session %q", got.status, gotSID, want.status, wantSID)
			}
			served := tw.fastEdge.FastServed() - before
			if tc.fast && served != 2 || !tc.fast && served != 0 {
				t.Errorf("the edge answered %d of the 2 initializes, want fast=%v", served, tc.fast)
			}
		})
	}
}

// A session the edge opened gets its SDK session at the first request the
// SDK must answer, and behaves from then on as one the SDK opened, under the
// id the client knows.
func TestLazySessionLifecycle(t *testing.T) {
	tw := newTwin(t, edge.Options{})
	steps := []struct {
		name, body string
	}{
		{"call before initialized", `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"}}}`},
		{"initialized", `{"jsonrpc":"2.0","method":"notifications/initialized"}`},
		{"call", `{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"}}}`},
		{"tools/list", `{"jsonrpc":"2.0","id":4,"method":"tools/list"}`},
		{"ping", `{"jsonrpc":"2.0","id":5,"method":"ping"}`},
		{"setLevel", `{"jsonrpc":"2.0","id":6,"method":"logging/setLevel","params":{"level":"debug"}}`},
		{"call after", `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"}}}`},
		{"second initialize", `{"jsonrpc":"2.0","id":8,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`},
	}
	body := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{"sampling":{}},"clientInfo":{"name":"t","version":"1"}}}`
	_, fastSID := initialize(t, tw.fast, body)
	_, sdkSID := initialize(t, tw.sdk, body)
	for _, st := range steps {
		got := doPost(t, tw.fast, map[string]string{"Mcp-Session-Id": fastSID, "Mcp-Protocol-Version": "2025-11-25"}, st.body)
		want := doPost(t, tw.sdk, map[string]string{"Mcp-Session-Id": sdkSID, "Mcp-Protocol-Version": "2025-11-25"}, st.body)
		if got.status != want.status {
			t.Errorf("%s: HTTP %d, SDK %d", st.name, got.status, want.status)
		}
		if diff := cmp.Diff(want.msg, got.msg); diff != "" {
			t.Errorf("%s (-sdk +edge):\n%s", st.name, diff)
		}
	}
	if got, want := deleteSession(t, tw.fast, fastSID), deleteSession(t, tw.sdk, sdkSID); got != want || got != http.StatusNoContent {
		t.Errorf("DELETE: %d, SDK %d", got, want)
	}
	for _, url := range []string{tw.fast, tw.sdk} {
		sid := map[string]string{tw.fast: fastSID, tw.sdk: sdkSID}[url]
		if r := doPost(t, url, map[string]string{"Mcp-Session-Id": sid, "Mcp-Protocol-Version": "2025-11-25"}, `{"jsonrpc":"2.0","id":9,"method":"ping"}`); r.status != http.StatusNotFound {
			t.Errorf("%s: ping after DELETE: HTTP %d, want 404", url, r.status)
		}
	}
}

// A session the edge opened and that never needed the SDK is closed by the
// edge alone: DELETE answers as the SDK does, and the id is gone.
func TestLazySessionDelete(t *testing.T) {
	tw := newTwin(t, edge.Options{})
	sid := openSession(t, tw.fast)
	if r := doPost(t, tw.fast, map[string]string{"Mcp-Session-Id": sid, "Mcp-Protocol-Version": "2025-11-25"},
		`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"}}}`); r.status != http.StatusOK {
		t.Fatalf("call: HTTP %d", r.status)
	}
	if code := deleteSession(t, tw.fast, sid); code != http.StatusNoContent {
		t.Fatalf("DELETE: HTTP %d, want 204", code)
	}
	if code := deleteSession(t, tw.fast, sid); code != http.StatusNotFound {
		t.Errorf("second DELETE: HTTP %d, want 404", code)
	}
	for _, body := range []string{
		`{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"}}}`,
		`{"jsonrpc":"2.0","id":4,"method":"tools/list"}`,
	} {
		if r := doPost(t, tw.fast, map[string]string{"Mcp-Session-Id": sid, "Mcp-Protocol-Version": "2025-11-25"}, body); r.status != http.StatusNotFound {
			t.Errorf("%s after DELETE: HTTP %d, want 404", body, r.status)
		}
	}
}
