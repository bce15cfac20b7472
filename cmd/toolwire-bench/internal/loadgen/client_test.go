package loadgen

import (
	"encoding/json"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRequestBody(t *testing.T) {
	var ids atomic.Int64
	decode := func(b []byte) map[string]any {
		t.Helper()
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("not JSON: %s: %v", b, err)
		}
		return m
	}

	old := newSession("http://127.0.0.1:1/mcp", nil, Protocol20251125, &ids)
	got := decode(old.requestBody(nil, 7, "tools/call", "echo", []byte(`{"text":"hi"}`), 0))
	want := map[string]any{"jsonrpc": "2.0", "id": 7.0, "method": "tools/call",
		"params": map[string]any{"name": "echo", "arguments": map[string]any{"text": "hi"}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("2025-11-25 tools/call (-want +got):\n%s", diff)
	}
	got = decode(old.requestBody(nil, 8, "tools/call", "stream", nil, 8))
	want = map[string]any{"jsonrpc": "2.0", "id": 8.0, "method": "tools/call",
		"params": map[string]any{"name": "stream", "arguments": map[string]any{}, "_meta": map[string]any{"progressToken": 8.0}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("2025-11-25 tools/call with progress (-want +got):\n%s", diff)
	}

	nu := newSession("http://127.0.0.1:1/mcp", nil, Protocol20260728, &ids)
	meta := map[string]any{
		metaProtocolVersion:    Protocol20260728,
		metaClientCapabilities: map[string]any{},
		metaClientInfo:         map[string]any{"name": "toolwire-bench", "version": "1"},
	}
	got = decode(nu.requestBody(nil, 9, "server/discover", "", nil, 0))
	want = map[string]any{"jsonrpc": "2.0", "id": 9.0, "method": "server/discover", "params": map[string]any{"_meta": meta}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("2026-07-28 server/discover (-want +got):\n%s", diff)
	}
	got = decode(nu.requestBody(nil, 10, "tools/call", "stream", []byte(`{"n":1}`), 10))
	meta["progressToken"] = 10.0
	want = map[string]any{"jsonrpc": "2.0", "id": 10.0, "method": "tools/call",
		"params": map[string]any{"name": "stream", "arguments": map[string]any{"n": 1.0}, "_meta": meta}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("2026-07-28 tools/call (-want +got):\n%s", diff)
	}

	h := http.Header{}
	nu.setHeaders(h, "tools/call", "echo")
	for k, v := range map[string]string{"Mcp-Protocol-Version": Protocol20260728, "Mcp-Method": "tools/call", "Mcp-Name": "echo"} {
		if h.Get(k) != v {
			t.Errorf("2026-07-28 header %s = %q, want %q", k, h.Get(k), v)
		}
	}
	if h.Get("Mcp-Session-Id") != "" {
		t.Error("2026-07-28 request carries Mcp-Session-Id")
	}
	old.id = "s1"
	h = http.Header{}
	old.setHeaders(h, "tools/call", "echo")
	if h.Get("Mcp-Session-Id") != "s1" || h.Get("Mcp-Protocol-Version") != Protocol20251125 || h.Get("Mcp-Method") != "" {
		t.Errorf("2025-11-25 headers = %v", h)
	}
}

func TestCheckLoopback(t *testing.T) {
	for u, ok := range map[string]bool{
		"http://127.0.0.1:7070/mcp": true,
		"http://[::1]:7070/mcp":     true,
		"http://localhost:1/mcp":    true,
		"http://10.0.0.1:7070/mcp":  false,
		"http://example.com/mcp":    false,
		"https://127.0.0.1/mcp":     false,
	} {
		if err := checkLoopback(u); (err == nil) != ok {
			t.Errorf("checkLoopback(%s) = %v, want ok %v", u, err, ok)
		}
	}
}

func TestReportOrder(t *testing.T) {
	var r Report
	r.Set("server", "x")
	r.Set("mode", "call")
	r.Set("a", 1.5)
	r.Set("mode", "stream")
	b, err := json.Marshal(&r)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `{"server":"x","mode":"stream","a":1.5}`; got != want {
		t.Errorf("report = %s, want %s", got, want)
	}
}
