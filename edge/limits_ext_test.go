package edge_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/toolwire/toolwire/edge"
	"github.com/toolwire/toolwire/edge/catalog"
	"github.com/toolwire/toolwire/edge/internal/edgetest"
	"github.com/toolwire/toolwire/edge/observe"
	"github.com/toolwire/toolwire/edge/policy/authn"
	"github.com/toolwire/toolwire/edge/policy/limits"
	"github.com/toolwire/toolwire/edge/policy/ratelimit"
	searchv1 "github.com/toolwire/toolwire/gen/go/examples/search/v1"
)

// frozen is a clock that does not move, so that budgets refill never and
// every figure in a refusal is exact.
func frozen() func() time.Time {
	t := time.Unix(1_700_000_000, 0)
	return func() time.Time { return t }
}

// limitedEdge serves the fake backend behind an edge with limits (the
// SDK's path only if sdkOnly), and returns its base URL and metrics.
func limitedEdge(t *testing.T, b *edgetest.Backend, l *edge.Limits, sdkOnly bool) (*edge.Edge, string, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	e, err := edge.New(b.Catalog, b.Resolve, &edge.Options{Metrics: observe.NewMetrics(reg), Limits: l, SDKOnly: sdkOnly})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(e.Handler())
	t.Cleanup(srv.Close)
	t.Cleanup(e.Close)
	return e, srv.URL, reg
}

// rpcError is the error member of a JSON-RPC response, or nil.
func rpcError(t *testing.T, r rpc) map[string]any {
	t.Helper()
	if r.msg == nil {
		t.Fatalf("no JSON-RPC response (HTTP %d)", r.status)
	}
	e, _ := r.msg["error"].(map[string]any)
	return e
}

func callBody(id int, tool, args string) string {
	return fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":%q,"arguments":%s}}`, id, tool, args)
}

// A principal's budget is spent per HTTP request, before the MCP layer:
// past it, 429 with Retry-After, the RateLimit fields and a JSON body, and
// the backend is not called. DELETE and notifications/cancelled still go
// through, and other surfaces (AdmitHTTP) draw on the same budget.
func TestPrincipalRateLimitOverHTTP(t *testing.T) {
	b := edgetest.Start(t)
	e, base, _ := limitedEdge(t, b, &edge.Limits{
		Rate:      ratelimit.NewLocal(&ratelimit.LocalOptions{Now: frozen()}),
		Principal: ratelimit.Class{Rate: 1, Burst: 3},
	}, false)
	url := base + "/mcp"

	sid := openSession(t, url) // initialize and notifications/initialized: 2 units
	hdr := map[string]string{"Mcp-Session-Id": sid, "Mcp-Protocol-Version": "2025-11-25"}
	resp := rawPOST(t, url, hdr, callBody(1, "echo", `{"text":"hi"}`))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("third request: %s", resp.Status)
	}
	if got := resp.Header.Get("RateLimit"); got != `"principal";r=0;t=3` {
		t.Errorf("RateLimit of an allowed call: %q", got)
	}
	calls := b.Echo.Calls.Load()

	resp = rawPOST(t, url, hdr, callBody(2, "echo", `{"text":"hi"}`))
	body, _ := io.ReadAll(resp.Body)
	want := map[string]string{
		"Retry-After":      "1",
		"RateLimit-Policy": `"principal";q=3;w=3`,
		"RateLimit":        `"principal";r=0;t=3`,
		"Content-Type":     "application/json",
	}
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("fourth request: %s %s; want 429", resp.Status, body)
	}
	for k, v := range want {
		if got := resp.Header.Get(k); got != v {
			t.Errorf("%s: %q, want %q", k, got, v)
		}
	}
	if got, w := strings.TrimSpace(string(body)), `{"error":"rate_limited","message":"rate limit exceeded","retryAfterMs":1000,"limit":3,"scope":"principal","policy":"principal"}`; got != w {
		t.Errorf("body:\n got %s\nwant %s", got, w)
	}
	if n := b.Echo.Calls.Load(); n != calls {
		t.Errorf("the backend was called for a refused request")
	}

	// A cancellation is let through a spent budget.
	resp = rawPOST(t, url, hdr, `{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":2}}`)
	if resp.StatusCode != http.StatusAccepted {
		t.Errorf("notifications/cancelled: %s; want 202", resp.Status)
	}
	// So is ending the session.
	req, _ := http.NewRequest(http.MethodDelete, url, nil)
	req.Header.Set("Mcp-Session-Id", sid)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusTooManyRequests {
		t.Errorf("DELETE was refused by the rate limit")
	}
	// Another surface in front of the same principal's budget.
	rest := httptest.NewServer(e.AdmitHTTP(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		t.Error("a REST request past the budget reached its handler")
	})))
	defer rest.Close()
	resp, err = http.Post(rest.URL+"/api/v1/echo", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("REST request past the budget: %s; want 429", resp.Status)
	}
}

// rawPOST sends a raw POST and returns the response, its body unread; the test
// closes it at its end.
func rawPOST(t *testing.T, url string, hdr map[string]string, body string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// A tool's rate class is known only once the call is parsed: past its
// budget the call gets the JSON-RPC error -32029 (scope "tool"), in an HTTP
// 200, the same from the fast path and the SDK's path, and the backend is
// not called.
func TestRateClassRefusal(t *testing.T) {
	var answers []map[string]any
	for _, sdkOnly := range []bool{false, true} {
		t.Run(fmt.Sprintf("sdkOnly=%v", sdkOnly), func(t *testing.T) {
			b := edgetest.Start(t)
			_, base, reg := limitedEdge(t, b, &edge.Limits{
				Rate:    ratelimit.NewLocal(&ratelimit.LocalOptions{Now: frozen()}),
				Classes: map[string]ratelimit.Class{catalog.DefaultRateClass: {Rate: 0.5, Burst: 2}},
			}, sdkOnly)
			url := base + "/mcp"
			sid := openSession(t, url)
			hdr := map[string]string{"Mcp-Session-Id": sid, "Mcp-Protocol-Version": "2025-11-25"}
			for i := 1; i <= 2; i++ {
				if e := rpcError(t, doPost(t, url, hdr, callBody(i, "echo", `{"text":"hi"}`))); e != nil {
					t.Fatalf("call %d: %v", i, e)
				}
			}
			calls := b.Echo.Calls.Load()
			r := doPost(t, url, hdr, callBody(3, "echo", `{"text":"hi"}`))
			if r.status != http.StatusOK {
				t.Errorf("HTTP %d; want 200", r.status)
			}
			want := map[string]any{
				"code":    float64(ratelimit.CodeRateLimited),
				"message": "rate limit exceeded",
				"data":    map[string]any{"retryAfterMs": float64(2000), "limit": float64(2), "scope": "tool", "policy": "default"},
			}
			if diff := cmp.Diff(want, rpcError(t, r)); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
			if n := b.Echo.Calls.Load(); n != calls {
				t.Errorf("the backend was called for a refused call")
			}
			if n := metricValue(t, reg, "toolwire_tool_calls_total", observe.OutcomeLimited, "echo"); n != 1 {
				t.Errorf("toolwire_tool_calls_total{outcome=limited} = %v; want 1", n)
			}
			answers = append(answers, r.msg)
		})
	}
	if len(answers) == 2 {
		if diff := cmp.Diff(answers[0], answers[1]); diff != "" {
			t.Errorf("fast path and SDK answers differ (-fast +sdk):\n%s", diff)
		}
	}
}

// metricValue is the value of the series of metric name with the given
// label values (in label-name order) in reg, or 0 if there is none.
func metricValue(t *testing.T, reg *prometheus.Registry, name string, labels ...string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	series:
		for _, m := range f.GetMetric() {
			for i, l := range m.GetLabel() {
				if i >= len(labels) || l.GetValue() != labels[i] {
					continue series
				}
			}
			if c := m.GetCounter(); c != nil {
				return c.GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	return 0
}

// A tool that costs more than its class's burst could never run: New says
// so.
func TestRateCostOverBurstRefused(t *testing.T) {
	svc := searchv1.File_examples_search_v1_search_proto.Services().Get(0)
	cat, err := catalog.New([]protoreflect.ServiceDescriptor{svc}, nil)
	if err != nil {
		t.Fatal(err)
	}
	resolve := func(protoreflect.FullName) (grpc.ClientConnInterface, bool) { return nil, true }
	_, err = edge.New(cat, resolve, &edge.Options{Metrics: observe.NewMetrics(prometheus.NewRegistry()), Limits: &edge.Limits{
		Rate:    ratelimit.NewLocal(nil),
		Classes: map[string]ratelimit.Class{"search": {Rate: 1, Burst: 1}},
	}})
	if err == nil || !strings.Contains(err.Error(), `tool search_documents costs 2 units of rate class "search", whose burst is 1`) {
		t.Errorf("New: %v; want the cost over burst refused", err)
	}
}

// Calls past a concurrency bound wait in a bounded queue, for a bounded
// time; past the queue they are refused at once. Both refusals are the
// JSON-RPC error -32030, naming the scope and the reason.
func TestConcurrencyLimits(t *testing.T) {
	b := edgetest.Start(t)
	limReg := prometheus.NewRegistry()
	_, base, _ := limitedEdge(t, b, &edge.Limits{
		Concurrency: limits.NewLimiter(&limits.Options{
			PerPrincipal: limits.Limit{MaxInFlight: 1, MaxQueue: 1},
			WaitTimeout:  time.Second,
			Registerer:   limReg,
		}),
	}, false)
	url := base + "/mcp"
	hdr := hdr2026("sleep")
	body := func(id int) string {
		return fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"sleep","arguments":{"ms":30000},%s}}`, id, meta2026)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	holder := make(chan error, 1)
	go func() {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body(1)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		holder <- err
	}()
	waitFor(t, b.Echo.Started, "the first sleep to hold the slot")

	queued := make(chan rpc, 1)
	go func() {
		r, err := tryPost(url, hdr, body(2))
		if err != nil {
			t.Error(err)
		}
		queued <- r
	}()
	// The second call waits in the queue; once it does, a third finds the
	// queue full and is refused at once.
	for metricValue(t, limReg, "toolwire_concurrency_queued", "principal") != 1 {
		select {
		case r := <-queued:
			t.Fatalf("the second call did not wait: %v", r.msg)
		case <-time.After(5 * time.Millisecond):
		}
	}
	full := doPost(t, url, hdr, body(3))
	want := map[string]any{
		"code":    float64(limits.CodeOverloaded),
		"message": "too many calls in flight",
		"data":    map[string]any{"scope": "principal", "reason": "queue_full", "retryAfterMs": float64(1000)},
	}
	if diff := cmp.Diff(want, rpcError(t, full)); diff != "" {
		t.Errorf("queue full (-want +got):\n%s", diff)
	}
	r := <-queued
	want["data"] = map[string]any{"scope": "principal", "reason": "wait_timeout", "retryAfterMs": float64(1000)}
	if diff := cmp.Diff(want, rpcError(t, r)); diff != "" {
		t.Errorf("wait timeout (-want +got):\n%s", diff)
	}
	if n := b.Echo.Calls.Load(); n != 1 {
		t.Errorf("backend calls: %d; want 1 (the refused calls never reach it)", n)
	}
	cancel()
	waitFor(t, b.Echo.Ended, "the first sleep to be cancelled")
	<-holder
}

// A tool's max_concurrency option bounds its calls over all callers: the
// fake's sleep declares 64.
func TestToolConcurrencyFromContract(t *testing.T) {
	b := edgetest.Start(t)
	tools := edge.ToolLimits(b.Catalog, 0)
	if diff := cmp.Diff(map[string]limits.Limit{"sleep": {MaxInFlight: 64}}, tools); diff != "" {
		t.Fatalf("ToolLimits (-want +got):\n%s", diff)
	}
	_, base, _ := limitedEdge(t, b, &edge.Limits{
		Concurrency: limits.NewLimiter(&limits.Options{Tools: tools, Registerer: prometheus.NewRegistry()}),
	}, false)
	url := base + "/mcp"
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	for i := range 64 {
		wg.Go(func() {
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(fmt.Sprintf(
				`{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"sleep","arguments":{"ms":30000},%s}}`, i, meta2026)))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Accept", "application/json, text/event-stream")
			for k, v := range hdr2026("sleep") {
				req.Header.Set(k, v)
			}
			if resp, err := http.DefaultClient.Do(req); err == nil {
				resp.Body.Close()
			}
		})
	}
	for range 64 {
		waitFor(t, b.Echo.Started, "64 sleeps to start")
	}
	r := doPost(t, url, hdr2026("sleep"), fmt.Sprintf(`{"jsonrpc":"2.0","id":99,"method":"tools/call","params":{"name":"sleep","arguments":{"ms":1},%s}}`, meta2026))
	if e := rpcError(t, r); e == nil || e["data"].(map[string]any)["scope"] != "tool" {
		t.Errorf("the 65th sleep: %v; want refused for the tool's bound", r.msg)
	}
	// echo has no bound of its own.
	if e := rpcError(t, doPost(t, url, hdr2026("echo"), fmt.Sprintf(`{"jsonrpc":"2.0","id":100,"method":"tools/call","params":{"name":"echo","arguments":{"text":"x"},%s}}`, meta2026))); e != nil {
		t.Errorf("echo beside 64 sleeps: %v", e)
	}
	cancel()
	for range 64 {
		waitFor(t, b.Echo.Ended, "the sleeps to be cancelled")
	}
	wg.Wait()
}

// Over stdio there is no HTTP: the principal's budget is spent per
// tools/call, and a call past it gets -32029 with scope "principal".
func TestStdioRateLimit(t *testing.T) {
	b := edgetest.Start(t)
	e, _, _ := limitedEdge(t, b, &edge.Limits{
		Rate:      ratelimit.NewLocal(&ratelimit.LocalOptions{Now: frozen()}),
		Principal: ratelimit.Class{Rate: 1, Burst: 1},
	}, false)
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	go func() {
		_ = e.ServeStdio(context.Background(), inR, outW)
		_ = outW.Close()
	}()
	defer inW.Close()
	sc := bufio.NewScanner(outR)
	send := func(s string) map[string]any {
		t.Helper()
		if _, err := io.WriteString(inW, s+"\n"); err != nil {
			t.Fatal(err)
		}
		if !sc.Scan() {
			t.Fatalf("stdout ended: %v", sc.Err())
		}
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	send(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}`)
	if _, err := io.WriteString(inW, `{"jsonrpc":"2.0","method":"notifications/initialized"}`+"\n"); err != nil {
		t.Fatal(err)
	}
	if m := send(callBody(2, "echo", `{"text":"a"}`)); m["error"] != nil {
		t.Fatalf("first call: %v", m)
	}
	m := send(callBody(3, "echo", `{"text":"b"}`))
	want := map[string]any{
		"code": float64(-32029), "message": "rate limit exceeded",
		"data": map[string]any{"retryAfterMs": float64(1000), "limit": float64(1), "scope": "principal", "policy": "principal"},
	}
	if diff := cmp.Diff(want, m["error"]); diff != "" {
		t.Errorf("second call (-want +got):\n%s", diff)
	}
}

// smallReceiveBuffer dials with a 4 KiB receive buffer, so that a client
// that does not read blocks the server after a few kilobytes rather than
// megabytes.
var smallReceiveBuffer = &net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
	var serr error
	err := c.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
	if err != nil {
		return err
	}
	return serr
}}

// A client that stops reading a call's event stream has the stream
// abandoned once its bounded buffer stays full past the write timeout, and
// the call, with its gRPC stream, cancelled: on the fast path and the SDK's.
func TestAbandonedStreamCancelsCall(t *testing.T) {
	for _, sdkOnly := range []bool{false, true} {
		t.Run(fmt.Sprintf("sdkOnly=%v", sdkOnly), func(t *testing.T) {
			b := edgetest.Start(t)
			_, base, reg := limitedEdge(t, b, &edge.Limits{
				Stream: &limits.StreamOptions{MaxPending: 4 << 10, WriteTimeout: 200 * time.Millisecond},
			}, sdkOnly)
			url := base + "/mcp"
			sid := openSession(t, url)
			conn, err := smallReceiveBuffer.Dial("tcp", strings.TrimPrefix(base, "http://"))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			body := `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"stream","arguments":{"n":100000},"_meta":{"progressToken":"p"}}}`
			fmt.Fprintf(conn, "POST /mcp HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nMcp-Session-Id: %s\r\nMcp-Protocol-Version: 2025-11-25\r\nContent-Length: %d\r\n\r\n%s",
				strings.TrimPrefix(base, "http://"), sid, len(body), body)
			// The client reads nothing. The call ends, cancelled.
			cancelled := func() float64 {
				return metricValue(t, reg, "toolwire_tool_calls_total", observe.OutcomeCancelled, "stream")
			}
			start := time.Now()
			for cancelled() != 1 {
				if time.Since(start) > waitBound {
					t.Fatalf("the call of a client that stopped reading was not cancelled within %v", waitBound)
				}
				time.Sleep(10 * time.Millisecond)
			}
			t.Logf("cancelled %v after the request", time.Since(start).Round(time.Millisecond))
			// The edge dropped the connection: the client finds its end
			// once it reads what was sent.
			_ = conn.SetReadDeadline(time.Now().Add(waitBound))
			if _, err := io.Copy(io.Discard, conn); err != nil {
				t.Errorf("reading to the end of the abandoned connection: %v", err)
			}
		})
	}
}

// A streaming call whose client reads is not disturbed by the guard: the
// fast path and the SDK send the same events.
func TestGuardedStreamsMatchSDK(t *testing.T) {
	tw := newTwin(t, edge.Options{Limits: &edge.Limits{Stream: &limits.StreamOptions{MaxPending: 512, WriteTimeout: time.Second}}})
	for _, url := range []string{tw.fast, tw.sdk} {
		sid := openSession(t, url)
		r := doPost(t, url, map[string]string{"Mcp-Session-Id": sid, "Mcp-Protocol-Version": "2025-11-25"},
			`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"stream","arguments":{"n":500},"_meta":{"progressToken":"p"}}}`)
		if len(r.notes) != 500 || r.msg == nil || r.msg["error"] != nil {
			t.Errorf("%s: %d notifications and %v; want 500 and a result", url, len(r.notes), r.msg)
		}
		for i, n := range r.notes {
			if got := n["params"].(map[string]any)["progress"]; got != float64(i+1) {
				t.Fatalf("%s: notification %d has progress %v", url, i, got)
			}
		}
	}
}

// An HTTP+SSE stream carries keep-alive comments, and ends at its maximum
// duration.
func TestSSEStreamKeepAliveAndMaxDuration(t *testing.T) {
	b := edgetest.Start(t)
	e, err := edge.New(b.Catalog, b.Resolve, &edge.Options{
		Metrics:   observe.NewMetrics(prometheus.NewRegistry()),
		KeepAlive: 50 * time.Millisecond,
		Limits: &edge.Limits{
			Stream:            &limits.StreamOptions{},
			MaxStreamDuration: 500 * time.Millisecond,
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(e.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/sse")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	done := make(chan []string, 1)
	go func() {
		var got []string
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			got = append(got, sc.Text())
		}
		done <- got
	}()
	select {
	case got := <-done:
		if len(got) < 2 || got[0] != "event: endpoint" {
			t.Fatalf("stream: %q", got)
		}
		if n := strings.Count(strings.Join(got, "\n"), ": keep-alive"); n < 1 {
			t.Errorf("no keep-alive comment in %q", got)
		}
	case <-time.After(waitBound):
		t.Fatal("the stream did not end at its maximum duration")
	}
}

// With authentication, the principal is the authenticated subject, not the
// address: two service accounts on one address have a budget each, and
// their concurrency is counted apart.
func TestAuthenticatedPrincipalsHaveTheirOwnBudgets(t *testing.T) {
	keyA, hashA := authn.GenerateAPIKey()
	keyB, hashB := authn.GenerateAPIKey()
	keys, err := authn.NewAPIKeys([]authn.APIKey{{Hash: hashA, Subject: "a"}, {Hash: hashB, Subject: "b"}})
	if err != nil {
		t.Fatal(err)
	}
	auth, err := authn.New(&authn.Options{APIKeys: keys})
	if err != nil {
		t.Fatal(err)
	}
	b := edgetest.Start(t)
	e, err := edge.New(b.Catalog, b.Resolve, &edge.Options{
		Metrics: observe.NewMetrics(prometheus.NewRegistry()),
		Auth:    auth,
		Limits: &edge.Limits{
			Rate:      ratelimit.NewLocal(&ratelimit.LocalOptions{Now: frozen()}),
			Principal: ratelimit.Class{Rate: 1, Burst: 2},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(e.Handler())
	defer srv.Close()
	status := func(key string) int {
		r := doPost(t, srv.URL+"/mcp", map[string]string{
			"Authorization": "Bearer " + key, "Mcp-Protocol-Version": "2026-07-28", "Mcp-Method": "tools/call", "Mcp-Name": "echo",
		}, fmt.Sprintf(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"x"},%s}}`, meta2026))
		return r.status
	}
	got := []int{status(keyA), status(keyA), status(keyA), status(keyB), status(keyB), status(keyB)}
	want := []int{200, 200, 429, 200, 200, 429}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("statuses of a, a, a, b, b, b (-want +got):\n%s", diff)
	}
}
