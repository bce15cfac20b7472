package edge_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/toolwire/toolwire/edge"
	"github.com/toolwire/toolwire/edge/internal/edgetest"
	"github.com/toolwire/toolwire/edge/observe"
	"github.com/toolwire/toolwire/edge/policy/authn"
)

// twin is the same backend behind two edges: one with the fast path, one
// serving everything through the SDK.
type twin struct {
	backend   *edgetest.Backend
	fast, sdk string // /mcp URLs
	fastEdge  *edge.Edge
}

func newTwin(t *testing.T, opts edge.Options) *twin {
	t.Helper()
	b := edgetest.Start(t)
	tw := &twin{backend: b}
	for _, sdkOnly := range []bool{false, true} {
		o := opts
		o.SDKOnly = sdkOnly
		o.Metrics = observe.NewMetrics(nil)
		e, err := edge.New(b.Catalog, b.Resolve, &o)
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(e.Handler())
		t.Cleanup(srv.Close)
		if sdkOnly {
			tw.sdk = srv.URL + "/mcp"
		} else {
			tw.fast = srv.URL + "/mcp"
			tw.fastEdge = e
		}
	}
	return tw
}

// rpc is one raw POST's outcome.
type rpc struct {
	status      int
	contentType string
	// msg is the JSON-RPC response, from a JSON body or the last SSE event;
	// nil when there was none.
	msg map[string]any
	// notes are the notifications sent before it on the stream.
	notes []map[string]any
}

func doPost(t *testing.T, url string, hdr map[string]string, body string) rpc {
	t.Helper()
	r, err := tryPost(url, hdr, body)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// tryPost is doPost for goroutines other than the test's.
func tryPost(url string, hdr map[string]string, body string) (rpc, error) {
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return rpc{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return rpc{}, err
	}
	out := rpc{status: resp.StatusCode, contentType: resp.Header.Get("Content-Type")}
	data := raw
	if strings.HasPrefix(out.contentType, "text/event-stream") {
		// The last event is the response; earlier ones are notifications.
		data = nil
		sc := bufio.NewScanner(strings.NewReader(string(raw)))
		for sc.Scan() {
			if d, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				var m map[string]any
				if err := json.Unmarshal([]byte(d), &m); err != nil {
					return out, fmt.Errorf("event %q: %v", d, err)
				}
				if _, ok := m["method"]; ok {
					out.notes = append(out.notes, m)
				} else if data != nil {
					return out, fmt.Errorf("more than one response: %s", raw)
				} else {
					data = []byte(d)
				}
			}
		}
	}
	if len(data) > 0 && (strings.HasPrefix(out.contentType, "application/json") || strings.HasPrefix(out.contentType, "text/event-stream")) {
		if err := json.Unmarshal(data, &out.msg); err != nil {
			return out, fmt.Errorf("response %q: %v", raw, err)
		}
		// Request ids differ by design; the key must be there on success.
		if res, ok := out.msg["result"].(map[string]any); ok {
			if meta, ok := res["_meta"].(map[string]any); ok {
				if _, ok := meta["io.github.toolwire/requestId"]; ok {
					meta["io.github.toolwire/requestId"] = "(id)"
				}
			}
		}
	}
	return out, nil
}

// openSession initializes a 2025-11-25 session on url, sends
// notifications/initialized, and returns its id.
func openSession(t *testing.T, url string) string {
	t.Helper()
	sid := openSessionAs(t, url, "")
	r := doPost(t, url, map[string]string{"Mcp-Session-Id": sid, "Mcp-Protocol-Version": "2025-11-25"},
		`{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	if r.status != http.StatusAccepted {
		t.Fatalf("notifications/initialized: %d", r.status)
	}
	return sid
}

const meta2026 = `"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"t","version":"1"}}`

func hdr2026(name string) map[string]string {
	return map[string]string{"Mcp-Protocol-Version": "2026-07-28", "Mcp-Method": "tools/call", "Mcp-Name": name}
}

// Whatever path answers, a client sees the same message: the fast path's
// answers are compared with the SDK's for the same requests, on sessions and
// sessionless. Requests the fast path must leave to the SDK are among them,
// and are checked to have been left (SSE answers).
func TestFastPathMatchesSDK(t *testing.T) {
	tw := newTwin(t, edge.Options{})
	sids := map[string]string{tw.fast: openSession(t, tw.fast), tw.sdk: openSession(t, tw.sdk)}
	session := func(url string) map[string]string {
		return map[string]string{"Mcp-Session-Id": sids[url], "Mcp-Protocol-Version": "2025-11-25"}
	}
	sessionless := func(name string) func(string) map[string]string {
		return func(string) map[string]string { return hdr2026(name) }
	}
	for _, tc := range []struct {
		name string
		hdr  func(url string) map[string]string
		body string
		fast bool // the fast path answers
		fail *status.Status
	}{
		{"ok", session, `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"}}}`, true, nil},
		{"string id with escapes", session, `{"jsonrpc":"2.0","id":"a\"b\u00e9","method":"tools/call","params":{"name":"echo","arguments":{"text":"q\"uote\\ \u2028 é 😀 \n"}}}`, true, nil},
		{"whitespace and order", session, " {\n\"params\" : {\"arguments\":{ \"text\" : \"x\" } , \"name\":\"echo\"},\"method\":\"tools/call\" ,\"id\":-3,\"jsonrpc\":\"2.0\"}\n", true, nil},
		{"no arguments", session, `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo"}}`, true, nil},
		{"null arguments", session, `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":null}}`, true, nil},
		{"invalid arguments", session, `{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"echo","arguments":{"message":"hi","text":5}}}`, true, nil},
		{"with _meta", session, `{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"},"_meta":{"progressToken":"p1","traceparent":"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01","io.github.toolwire/timeoutMs":"5000","x":[1,{"y":null}]}}}`, true, nil},
		{"backend failure", session, `{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"}}}`, true, status.New(codes.FailedPrecondition, "not now")},
		{"permission denied", session, `{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"}}}`, true, status.New(codes.PermissionDenied, "no")},
		{"deadline", session, `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"sleep","arguments":{"ms":5000},"_meta":{"io.github.toolwire/timeoutMs":50}}}`, true, nil},
		// Left to the SDK.
		{"unknown tool", session, `{"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"nope","arguments":{}}}`, false, nil},
		{"streaming tool", session, `{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"stream","arguments":{"n":2}}}`, true, nil},
		{"streaming tool with progress", session, `{"jsonrpc":"2.0","id":"s","method":"tools/call","params":{"name":"stream","arguments":{"n":5},"_meta":{"progressToken":"tok"}}}`, true, nil},
		{"streaming tool, numeric token", session, `{"jsonrpc":"2.0","id":"s2","method":"tools/call","params":{"name":"stream","arguments":{"n":3},"_meta":{"progressToken":17}}}`, true, nil},
		{"object progress token", session, `{"jsonrpc":"2.0","id":"s3","method":"tools/call","params":{"name":"stream","arguments":{"n":1},"_meta":{"progressToken":{}}}}`, false, nil},
		{"float id", session, `{"jsonrpc":"2.0","id":1.5,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"}}}`, false, nil},
		{"duplicate member", session, `{"jsonrpc":"2.0","id":10,"method":"tools/call","params":{"name":"echo","name":"echo","arguments":{"text":"hi"}}}`, false, nil},
		{"unknown member", session, `{"jsonrpc":"2.0","id":11,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"},"task":{}}}`, false, nil},
		{"other method", session, `{"jsonrpc":"2.0","id":12,"method":"tools/list"}`, false, nil},
		{"2026 _meta on a session", session, `{"jsonrpc":"2.0","id":13,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"},` + meta2026 + `}}`, false, nil},
		{"sessionless ok", sessionless("echo"), `{"jsonrpc":"2.0","id":20,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"},` + meta2026 + `}}`, true, nil},
		{"sessionless stream", sessionless("stream"), `{"jsonrpc":"2.0","id":26,"method":"tools/call","params":{"name":"stream","arguments":{"n":4},"_meta":{"progressToken":"p","io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"t","version":"1"}}}}`, true, nil},
		{"sessionless invalid arguments", sessionless("echo"), `{"jsonrpc":"2.0","id":21,"method":"tools/call","params":{"name":"echo","arguments":{"nope":1},` + meta2026 + `}}`, true, nil},
		{"sessionless backend failure", sessionless("echo"), `{"jsonrpc":"2.0","id":22,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"},` + meta2026 + `}}`, true, status.New(codes.Unavailable, "down")},
		{"sessionless name mismatch", sessionless("sleep"), `{"jsonrpc":"2.0","id":23,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"},` + meta2026 + `}}`, false, nil},
		{"sessionless no _meta", sessionless("echo"), `{"jsonrpc":"2.0","id":24,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"}}}`, false, nil},
		{"sessionless bad clientInfo", sessionless("echo"), `{"jsonrpc":"2.0","id":25,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":5}}}}`, false, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tw.backend.Echo.FailWith.Store(tc.fail)
			defer tw.backend.Echo.FailWith.Store(nil)
			before := tw.fastEdge.FastServed()
			f := doPost(t, tw.fast, tc.hdr(tw.fast), tc.body)
			tookFast := tw.fastEdge.FastServed() > before
			s := doPost(t, tw.sdk, tc.hdr(tw.sdk), tc.body)
			if f.status != s.status {
				t.Errorf("status: fast path %d, SDK %d", f.status, s.status)
			}
			if diff := cmp.Diff(s.msg, f.msg); diff != "" {
				t.Errorf("message differs (-SDK +fast path):\n%s", diff)
			}
			if diff := cmp.Diff(s.notes, f.notes); diff != "" {
				t.Errorf("notifications differ (-SDK +fast path):\n%s", diff)
			}
			if tookFast != tc.fast {
				t.Errorf("fast path took it: %v, want %v", tookFast, tc.fast)
			}
			if s.msg == nil && s.status == http.StatusOK {
				t.Errorf("the SDK sent no message; the case tests nothing")
			}
		})
	}
}

// A second call with the id of one in flight on the same session is refused
// as the SDK refuses it, and the first is unharmed.
func TestFastPathDuplicateID(t *testing.T) {
	tw := newTwin(t, edge.Options{})
	sid := openSession(t, tw.fast)
	h := map[string]string{"Mcp-Session-Id": sid, "Mcp-Protocol-Version": "2025-11-25"}
	first := make(chan rpc, 1)
	go func() {
		r, _ := tryPost(tw.fast, h, `{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"sleep","arguments":{"ms":300}}}`)
		first <- r
	}()
	waitFor(t, tw.backend.Echo.Started, "the first call to start")
	dup := doPost(t, tw.fast, h, `{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"echo","arguments":{"text":"x"}}}`)
	if dup.status != http.StatusBadRequest || dup.msg["error"] == nil {
		t.Errorf("duplicate id: %d %v, want 400 with a JSON-RPC error", dup.status, dup.msg)
	}
	if r := <-first; r.status != http.StatusOK || r.msg["result"] == nil {
		t.Errorf("first call: %d %v", r.status, r.msg)
	}
}

// notifications/cancelled for a fast-path call cancels it: the backend's
// context ends and no response is sent.
func TestFastPathCancelledNotification(t *testing.T) {
	tw := newTwin(t, edge.Options{})
	sid := openSession(t, tw.fast)
	h := map[string]string{"Mcp-Session-Id": sid, "Mcp-Protocol-Version": "2025-11-25"}
	call := make(chan rpc, 1)
	go func() {
		r, _ := tryPost(tw.fast, h, `{"jsonrpc":"2.0","id":"c1","method":"tools/call","params":{"name":"sleep","arguments":{"ms":30000}}}`)
		call <- r
	}()
	waitFor(t, tw.backend.Echo.Started, "sleep to start")
	if r := doPost(t, tw.fast, h, `{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"c1","reason":"user"}}`); r.status != http.StatusAccepted {
		t.Fatalf("cancel: %d", r.status)
	}
	waitFor(t, tw.backend.Echo.Ended, "the backend's context to end")
	select {
	case r := <-call:
		if r.msg != nil {
			t.Errorf("a response was sent to the cancelled call: %v", r.msg)
		}
	case <-time.After(waitBound):
		t.Fatal("the cancelled call's POST never ended")
	}
	// A notification for an unknown id goes to the SDK, which accepts it.
	if r := doPost(t, tw.fast, h, `{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"zz"}}`); r.status != http.StatusAccepted {
		t.Errorf("cancel of an unknown id: %d", r.status)
	}
}

// Sessions expire when idle, whichever path serves their calls: a session
// used only through the fast path lives on while it is used, and after the
// timeout without requests it is gone on both paths (404).
func TestSessionExpiry(t *testing.T) {
	const timeout = time.Second
	tw := newTwin(t, edge.Options{SessionTimeout: timeout})
	for _, url := range []string{tw.fast, tw.sdk} {
		sid := openSession(t, url)
		h := map[string]string{"Mcp-Session-Id": sid, "Mcp-Protocol-Version": "2025-11-25"}
		call := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"}}}`
		for end := time.Now().Add(3 * timeout); time.Now().Before(end); time.Sleep(timeout / 10) {
			if r := doPost(t, url, h, call); r.status != http.StatusOK {
				t.Fatalf("%s: a session in use expired: %d", url, r.status)
			}
		}
		// Any request would keep it alive: look once, well after the timeout.
		time.Sleep(3 * timeout)
		if r := doPost(t, url, h, call); r.status != http.StatusNotFound {
			t.Fatalf("%s (fast path: %v): the idle session did not expire: %d", url, url == tw.fast, r.status)
		}
	}
}

// DELETE ends a session on both paths, and cancels its fast-path calls.
func TestDeleteEndsSession(t *testing.T) {
	tw := newTwin(t, edge.Options{})
	sid := openSession(t, tw.fast)
	h := map[string]string{"Mcp-Session-Id": sid, "Mcp-Protocol-Version": "2025-11-25"}
	go func() {
		_, _ = tryPost(tw.fast, h, `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"sleep","arguments":{"ms":30000}}}`)
	}()
	waitFor(t, tw.backend.Echo.Started, "sleep to start")
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodDelete, tw.fast, nil)
	req.Header.Set("Mcp-Session-Id", sid)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE: %s", resp.Status)
	}
	waitFor(t, tw.backend.Echo.Ended, "the session's call to be cancelled")
	if r := doPost(t, tw.fast, h, `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"}}}`); r.status != http.StatusNotFound {
		t.Errorf("call after DELETE: %d, want 404", r.status)
	}
}

// A session belongs to the principal that opened it: another principal's
// requests naming it are answered as for an unknown session, on both paths,
// and the owner's go on working.
func TestSessionBoundToPrincipal(t *testing.T) {
	b := edgetest.Start(t)
	for _, sdkOnly := range []bool{false, true} {
		e, err := edge.New(b.Catalog, b.Resolve, &edge.Options{Metrics: observe.NewMetrics(nil), SDKOnly: sdkOnly})
		if err != nil {
			t.Fatal(err)
		}
		// Stands in for the authentication middleware: the principal is
		// whoever X-Test-User names.
		h := e.Handler()
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p := &authn.Principal{Subject: r.Header.Get("X-Test-User"), Method: authn.MethodJWT}
			h.ServeHTTP(w, r.WithContext(authn.WithPrincipal(r.Context(), p)))
		}))
		t.Cleanup(srv.Close)
		url := srv.URL + "/mcp"
		sid := openSessionAs(t, url, "alice")
		call := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"}}}`
		as := func(user string) map[string]string {
			return map[string]string{"Mcp-Session-Id": sid, "Mcp-Protocol-Version": "2025-11-25", "X-Test-User": user}
		}
		for _, body := range []string{call, `{"jsonrpc":"2.0","id":2,"method":"tools/list"}`} {
			if r := doPost(t, url, as("bob"), body); r.status != http.StatusNotFound {
				t.Errorf("SDK only %v: bob on alice's session: %d, want 404", sdkOnly, r.status)
			}
		}
		for _, method := range []string{http.MethodGet, http.MethodDelete} {
			req, _ := http.NewRequest(method, url, nil)
			req.Header.Set("Accept", "text/event-stream")
			for k, v := range as("bob") {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusNotFound {
				t.Errorf("SDK only %v: bob's %s on alice's session: %d, want 404", sdkOnly, method, resp.StatusCode)
			}
		}
		if r := doPost(t, url, as("alice"), call); r.status != http.StatusOK || r.msg["result"] == nil {
			t.Errorf("SDK only %v: alice's call: %d %v", sdkOnly, r.status, r.msg)
		}
	}
}

func openSessionAs(t *testing.T, url, user string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(
		`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if user != "" {
		req.Header.Set("X-Test-User", user)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	sid := resp.Header.Get("Mcp-Session-Id")
	if sid == "" {
		t.Fatalf("initialize: %s, no session id", resp.Status)
	}
	return sid
}
