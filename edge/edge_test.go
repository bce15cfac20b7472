package edge_test

import (
	"bufio"
	"context"

	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/toolwire/toolwire/edge"
	"github.com/toolwire/toolwire/edge/internal/edgetest"
	"github.com/toolwire/toolwire/edge/observe"
)

// waitBound bounds condition waits. It is not a performance assertion: the
// cancellation latency is reported by the benchmarks, not checked here.
const waitBound = 10 * time.Second

type fixture struct {
	backend *edgetest.Backend
	edge    *edge.Edge
	url     string
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	b := edgetest.Start(t)
	e, err := edge.New(b.Catalog, b.Resolve, &edge.Options{Metrics: observe.NewMetrics(nil)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(e.Handler())
	t.Cleanup(srv.Close)
	return &fixture{backend: b, edge: e, url: srv.URL}
}

// progressLog collects progress notifications by token.
type progressLog struct {
	mu sync.Mutex
	by map[any][]float64
}

func (p *progressLog) handler(_ context.Context, req *mcp.ProgressNotificationClientRequest) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.by[req.Params.ProgressToken] = append(p.by[req.Params.ProgressToken], req.Params.Progress)
}

func (p *progressLog) get(token any) []float64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]float64(nil), p.by[token]...)
}

// transports are every way an MCP client reaches the edge.
var transports = []struct {
	name    string
	connect func(t *testing.T, f *fixture, c *mcp.Client) *mcp.ClientSession
}{
	{"streamable-2025-11-25", func(t *testing.T, f *fixture, c *mcp.Client) *mcp.ClientSession {
		return connect(t, c, &mcp.StreamableClientTransport{Endpoint: f.url + "/mcp"}, "2025-11-25")
	}},
	{"streamable-2025-03-26", func(t *testing.T, f *fixture, c *mcp.Client) *mcp.ClientSession {
		return connect(t, c, &mcp.StreamableClientTransport{Endpoint: f.url + "/mcp"}, "2025-03-26")
	}},
	{"streamable-2026-07-28", func(t *testing.T, f *fixture, c *mcp.Client) *mcp.ClientSession {
		return connect(t, c, &mcp.StreamableClientTransport{Endpoint: f.url + "/mcp"}, "2026-07-28")
	}},
	{"sse-2024-11-05", func(t *testing.T, f *fixture, c *mcp.Client) *mcp.ClientSession {
		return connect(t, c, &mcp.SSEClientTransport{Endpoint: f.url + "/sse"}, "2024-11-05")
	}},
	{"stdio", func(t *testing.T, f *fixture, c *mcp.Client) *mcp.ClientSession {
		cs, _ := connectStdio(t, f, c)
		return cs
	}},
}

func connect(t testing.TB, c *mcp.Client, tr mcp.Transport, version string) *mcp.ClientSession {
	t.Helper()
	cs, err := c.Connect(context.Background(), tr, &mcp.ClientSessionOptions{ProtocolVersion: version})
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { _ = cs.Close() })
	if version >= "2026-07-28" {
		if got := cs.InitializeResult().ProtocolVersion; got != version {
			t.Fatalf("negotiated %s, want %s", got, version)
		}
	}
	return cs
}

// connectStdio serves the edge over pipes and returns the client session and
// the pipe the client writes to (closing it is stdin's EOF).
func connectStdio(t testing.TB, f *fixture, c *mcp.Client) (*mcp.ClientSession, io.Closer) {
	t.Helper()
	inR, inW := io.Pipe()   // client → edge
	outR, outW := io.Pipe() // edge → client
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = f.edge.ServeStdio(context.Background(), inR, outW)
		_ = outW.Close()
	}()
	cs, err := c.Connect(context.Background(), &mcp.IOTransport{Reader: outR, Writer: inW}, nil)
	if err != nil {
		t.Fatalf("connect stdio: %v", err)
	}
	t.Cleanup(func() {
		_ = cs.Close()
		_ = inW.Close()
		<-done
	})
	return cs, inW
}

func TestTransports(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			f := newFixture(t)
			progress := &progressLog{by: map[any][]float64{}}
			c := mcp.NewClient(&mcp.Implementation{Name: "test", Version: "1"},
				&mcp.ClientOptions{ProgressNotificationHandler: progress.handler})
			cs := tr.connect(t, f, c)
			ctx := context.Background()

			t.Run("list", func(t *testing.T) {
				res, err := cs.ListTools(ctx, nil)
				if err != nil {
					t.Fatal(err)
				}
				var names []string
				for _, tool := range res.Tools {
					names = append(names, tool.Name)
					if tool.Description == "" {
						t.Errorf("tool %s has no description", tool.Name)
					}
				}
				if diff := cmp.Diff([]string{"echo", "sleep", "stream"}, names); diff != "" {
					t.Errorf("tools (-want +got):\n%s", diff)
				}
			})

			t.Run("echo", func(t *testing.T) {
				res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"text": "héllo"}})
				if err != nil {
					t.Fatal(err)
				}
				if res.IsError {
					t.Fatalf("isError: %v", text(res))
				}
				if diff := cmp.Diff(map[string]any{"text": "héllo"}, res.StructuredContent); diff != "" {
					t.Errorf("structuredContent (-want +got):\n%s", diff)
				}
				if got := text(res); got != `{"text":"héllo"}` {
					t.Errorf("text content = %q", got)
				}
			})

			t.Run("stream progress", func(t *testing.T) {
				params := &mcp.CallToolParams{Name: "stream", Arguments: map[string]any{"n": 20, "interval_ms": 1}}
				params.SetProgressToken("tok-" + tr.name)
				res, err := cs.CallTool(ctx, params)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(map[string]any{"result": "done"}, res.StructuredContent); diff != "" {
					t.Errorf("result (-want +got):\n%s", diff)
				}
				// Notifications are delivered before the result on the same
				// stream, but the client handles them asynchronously.
				var got []float64
				for deadline := time.Now().Add(waitBound); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
					if got = progress.get("tok-" + tr.name); len(got) >= 20 {
						break
					}
				}
				want := make([]float64, 20)
				for i := range want {
					want[i] = float64(i + 1)
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("progress (-want +got):\n%s", diff)
				}
			})

			t.Run("invalid arguments never reach the backend", func(t *testing.T) {
				before := f.backend.Echo.Calls.Load()
				res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "stream", Arguments: map[string]any{"n": -1, "interval_ms": "soon", "extra": true}})
				if err != nil {
					t.Fatal(err)
				}
				if !res.IsError {
					t.Fatal("want isError")
				}
				for _, field := range []string{"/n", "/interval_ms", "/extra"} {
					if !strings.Contains(text(res), field) {
						t.Errorf("error text does not name %s: %q", field, text(res))
					}
				}
				if n := f.backend.Echo.Calls.Load(); n != before {
					t.Errorf("backend called %d times", n-before)
				}
			})

			t.Run("cancel reaches the backend", func(t *testing.T) {
				cctx, cancel := context.WithCancel(ctx)
				errc := make(chan error, 1)
				go func() {
					_, err := cs.CallTool(cctx, &mcp.CallToolParams{Name: "sleep", Arguments: map[string]any{"ms": 30000}})
					errc <- err
				}()
				waitFor(t, f.backend.Echo.Started, "sleep to start")
				cancel()
				ended := waitFor(t, f.backend.Echo.Ended, "the backend's context to end")
				t.Logf("cancel → backend ctx done: %v", time.Since(ended))
				if err := <-errc; err == nil {
					t.Error("cancelled call returned no error")
				}
			})
		})
	}
}

func TestDeadlineHint(t *testing.T) {
	f := newFixture(t)
	cs := connect(t, mcp.NewClient(&mcp.Implementation{Name: "t", Version: "1"}, nil),
		&mcp.StreamableClientTransport{Endpoint: f.url + "/mcp"}, "2025-11-25")
	params := &mcp.CallToolParams{Name: "sleep", Arguments: map[string]any{"ms": 30000},
		Meta: mcp.Meta{"io.github.toolwire/timeoutMs": 50}}
	res, err := cs.CallTool(context.Background(), params)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, f.backend.Echo.Ended, "the backend's deadline")
	if !res.IsError || !strings.Contains(text(res), "deadline exceeded after 50ms") {
		t.Fatalf("want a deadline tool error, got isError=%v %q", res.IsError, text(res))
	}
}

func TestMetadataReachesBackend(t *testing.T) {
	f := newFixture(t)
	const tp = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	cs := connect(t, mcp.NewClient(&mcp.Implementation{Name: "t", Version: "1"}, nil),
		&mcp.StreamableClientTransport{Endpoint: f.url + "/mcp"}, "2025-11-25")
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "echo",
		Arguments: map[string]any{"text": "x"}, Meta: mcp.Meta{"traceparent": tp}})
	if err != nil {
		t.Fatal(err)
	}
	md := f.backend.Echo.LastMetadata()
	if got := md.Get("traceparent"); len(got) != 1 || got[0] != tp {
		t.Errorf("traceparent = %v, want %s", got, tp)
	}
	id := md.Get("x-request-id")
	if len(id) != 1 || id[0] == "" || res.Meta["io.github.toolwire/requestId"] != id[0] {
		t.Errorf("x-request-id = %v, result _meta = %v", id, res.Meta)
	}
}

func TestStdioEOFCancels(t *testing.T) {
	f := newFixture(t)
	cs, stdin := connectStdio(t, f, mcp.NewClient(&mcp.Implementation{Name: "t", Version: "1"}, nil))
	go func() {
		_, _ = cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "sleep", Arguments: map[string]any{"ms": 30000}})
	}()
	waitFor(t, f.backend.Echo.Started, "sleep to start")
	_ = stdin.Close()
	waitFor(t, f.backend.Echo.Ended, "the backend's context to end after stdin EOF")
}

func TestSSEStreamCloseCancels(t *testing.T) {
	f := newFixture(t)
	c := mcp.NewClient(&mcp.Implementation{Name: "t", Version: "1"}, nil)
	conns := &connTracker{}
	hc := &http.Client{Transport: &http.Transport{DialContext: conns.dial}}
	cs := connect(t, c, &mcp.SSEClientTransport{Endpoint: f.url + "/sse", HTTPClient: hc}, "2024-11-05")
	go func() {
		_, _ = cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "sleep", Arguments: map[string]any{"ms": 30000}})
	}()
	waitFor(t, f.backend.Echo.Started, "sleep to start")
	conns.closeAll() // the stream drops, with no notifications/cancelled
	waitFor(t, f.backend.Echo.Ended, "the backend's context to end after the SSE stream closed")
}

// connTracker remembers a client's connections so a test can drop them.
type connTracker struct {
	mu    sync.Mutex
	conns []net.Conn
}

func (c *connTracker) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	conn, err := (&net.Dialer{}).DialContext(ctx, network, addr)
	if err == nil {
		c.mu.Lock()
		c.conns = append(c.conns, conn)
		c.mu.Unlock()
	}
	return conn, err
}

func (c *connTracker) closeAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, conn := range c.conns {
		_ = conn.Close()
	}
}

// rawSession opens a 2025-11-25 session with plain HTTP and returns its id.
func rawSession(t testing.TB, url string) string {
	t.Helper()
	resp := post(t, context.Background(), url, "", `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}`)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	sid := resp.Header.Get("Mcp-Session-Id")
	if sid == "" {
		t.Fatal("no session id")
	}
	resp = post(t, context.Background(), url, sid, `{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	resp.Body.Close()
	return sid
}

func post(t testing.TB, ctx context.Context, url, sid, body string) *http.Response {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if sid != "" {
		req.Header.Set("Mcp-Session-Id", sid)
		req.Header.Set("Mcp-Protocol-Version", "2025-11-25")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// A client that drops the connection of its POST, without sending
// notifications/cancelled, must still cancel the backend call.
func TestSessionPOSTDisconnectCancels(t *testing.T) {
	f := newFixture(t)
	sid := rawSession(t, f.url+"/mcp")
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, f.url+"/mcp", strings.NewReader(
			`{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"sleep","arguments":{"ms":30000}}}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		req.Header.Set("Mcp-Session-Id", sid)
		req.Header.Set("Mcp-Protocol-Version", "2025-11-25")
		if resp, err := http.DefaultClient.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}()
	waitFor(t, f.backend.Echo.Started, "sleep to start")
	cancel()
	waitFor(t, f.backend.Echo.Ended, "the backend's context to end after the POST disconnected")
}

// After notifications/cancelled, the edge sends no response for that id: the
// call's stream ends without one.
func TestNoResponseForCancelledRequest(t *testing.T) {
	f := newFixture(t)
	sid := rawSession(t, f.url+"/mcp")
	resp := make(chan *http.Response, 1)
	go func() {
		resp <- post(t, context.Background(), f.url+"/mcp", sid,
			`{"jsonrpc":"2.0","id":42,"method":"tools/call","params":{"name":"sleep","arguments":{"ms":30000}}}`)
	}()
	waitFor(t, f.backend.Echo.Started, "sleep to start")
	r := post(t, context.Background(), f.url+"/mcp", sid,
		`{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":42,"reason":"test"}}`)
	r.Body.Close()
	waitFor(t, f.backend.Echo.Ended, "the backend's context to end")
	var call *http.Response
	select {
	case call = <-resp:
	case <-time.After(waitBound):
		t.Fatal("call POST never answered headers")
	}
	defer call.Body.Close()
	body := make(chan string, 1)
	go func() {
		var b strings.Builder
		sc := bufio.NewScanner(call.Body)
		for sc.Scan() {
			b.WriteString(sc.Text() + "\n")
		}
		body <- b.String()
	}()
	select {
	case s := <-body:
		if strings.Contains(s, `"id":42`) {
			t.Errorf("a response for the cancelled id was sent:\n%s", s)
		}
	case <-time.After(waitBound):
		t.Fatal("the cancelled call's stream was never closed")
	}
}

func TestGuard(t *testing.T) {
	f := newFixture(t)
	body := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"x","version":"1"}}}`
	for _, tc := range []struct {
		name         string
		host, origin string
		want         int
	}{
		{"loopback", "", "", http.StatusOK},
		{"loopback origin", "", "http://localhost:6274", http.StatusOK},
		{"evil origin", "", "https://evil.example", http.StatusForbidden},
		{"null origin", "", "null", http.StatusForbidden},
		{"rebinding host", "evil.example:80", "", http.StatusForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, path := range []string{"/mcp", "/sse"} {
				method := http.MethodPost
				if path == "/sse" {
					method = http.MethodGet
				}
				ctx, cancel := context.WithTimeout(context.Background(), waitBound)
				req, _ := http.NewRequestWithContext(ctx, method, f.url+path, strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Accept", "application/json, text/event-stream")
				if tc.host != "" {
					req.Host = tc.host
				}
				if tc.origin != "" {
					req.Header.Set("Origin", tc.origin)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					cancel()
					t.Fatal(err)
				}
				if resp.StatusCode != tc.want {
					t.Errorf("%s %s: status %d, want %d", method, path, resp.StatusCode, tc.want)
				}
				resp.Body.Close()
				cancel()
			}
		})
	}
}

func waitFor[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(waitBound):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}

func text(res *mcp.CallToolResult) string {
	var parts []string
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			parts = append(parts, tc.Text)
		}
	}
	return strings.Join(parts, "\n")
}
