package edge

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/toolwire/toolwire/edge/catalog"
	"github.com/toolwire/toolwire/edge/observe"
	echov1 "github.com/toolwire/toolwire/gen/go/examples/echo/v1"
	"github.com/toolwire/toolwire/server"
)

// BenchmarkFastPath is toolwire's own code for one echo call as the edge
// serves it now: the /mcp router and fast path (body read and scanned in
// place, session bookkeeping, the response encoded), the bridge, and the
// backend's interceptor chain with the echo handler, run in process
// (server.Invoker). It leaves out net/http's connection handling and the
// gRPC transport, which are not toolwire's code. This is the figure of
// issue 3's target "toolwire's own code per call".
//
//   - session: a POST on a 2025-11-25 session;
//   - sessionless: a 2026-07-28 request.
func BenchmarkFastPath(b *testing.B) {
	h := benchEdge(b, nil, nil)
	sid := benchSession(b, h, nil)
	b.Run("session", func(b *testing.B) {
		benchCalls(b, h, benchSessionCall, map[string]string{headerSessionID: sid, headerProtocolVersion: "2025-11-25"})
	})
	b.Run("sessionless", func(b *testing.B) {
		benchCalls(b, h, benchSessionlessCall, benchSessionlessHeaders)
	})
}

// The echo call the benchmarks make, on a session and as a 2026-07-28
// request.
const (
	benchSessionCall     = `{"jsonrpc":"2.0","id":42,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hello, world"}}}`
	benchSessionlessCall = `{"jsonrpc":"2.0","id":42,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hello, world"},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"bench","version":"1"}}}}`
)

var benchSessionlessHeaders = map[string]string{headerProtocolVersion: "2026-07-28", "Mcp-Method": "tools/call", "Mcp-Name": "echo"}

// benchEdge returns the handler of an edge with opts in front of the echo
// service served in process (server.Invoker) with sopts. Nil options are
// defaults; a discarding Logger, and fresh registries, are filled in.
func benchEdge(b *testing.B, sopts *server.Options, opts *Options) http.Handler {
	b.Helper()
	discard := slog.New(slog.NewTextHandler(io.Discard, nil))
	so, o := server.Options{}, Options{}
	if sopts != nil {
		so = *sopts
	}
	if opts != nil {
		o = *opts
	}
	so.Registerer, so.Logger = prometheus.NewRegistry(), discard
	o.Logger, o.Metrics = discard, observe.NewMetrics(prometheus.NewRegistry())
	s := server.New(&so)
	echov1.RegisterEchoServiceServer(s, benchEcho{})
	conn := s.Invoker()
	e, err := New(benchCatalog(b), func(protoreflect.FullName) (grpc.ClientConnInterface, bool) { return conn, true }, &o)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(e.Close)
	return e.Handler()
}

// benchCatalog is the echo service's catalog.
func benchCatalog(b *testing.B) *catalog.Catalog {
	b.Helper()
	cat, err := catalog.New([]protoreflect.ServiceDescriptor{echov1.File_examples_echo_v1_echo_proto.Services().Get(0)}, nil)
	if err != nil {
		b.Fatal(err)
	}
	return cat
}

// benchSession opens a 2025-11-25 session on h, the ordinary way, with the
// headers hdr, and returns its id.
func benchSession(b *testing.B, h http.Handler, hdr map[string]string) string {
	b.Helper()
	init := httptest.NewRequest("POST", "http://127.0.0.1/mcp", bytes.NewReader([]byte(
		`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"bench","version":"1"}}}`)))
	init.Header.Set("Content-Type", "application/json")
	init.Header.Set("Accept", "application/json, text/event-stream")
	for k, v := range hdr {
		init.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, init)
	sid := rec.Header().Get(headerSessionID)
	if rec.Code != http.StatusOK || sid == "" {
		b.Fatalf("initialize: %d %q", rec.Code, rec.Body)
	}
	return sid
}

// benchCalls posts body with the headers hdr to h, b.N times, and fails
// unless every answer is echo's.
func benchCalls(b *testing.B, h http.Handler, body string, hdr map[string]string) {
	req := httptest.NewRequest("POST", "http://127.0.0.1/mcp", nil)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	raw := []byte(body)
	r := bytes.NewReader(raw)
	w := &benchWriter{h: http.Header{}}
	want := []byte(`"structuredContent":{"text":"hello, world"}`)
	b.ReportAllocs()
	for b.Loop() {
		r.Reset(raw)
		req.Body = io.NopCloser(r)
		w.reset()
		h.ServeHTTP(w, req)
		if w.code != 0 && w.code != http.StatusOK || !bytes.Contains(w.body, want) {
			b.Fatalf("call: %d %s", w.code, w.body)
		}
	}
}

// benchWriter is a ResponseWriter that keeps the last response, reusing its
// memory.
type benchWriter struct {
	h    http.Header
	code int
	body []byte
}

func (w *benchWriter) reset() {
	clear(w.h)
	w.code = 0
	w.body = w.body[:0]
}

func (w *benchWriter) Header() http.Header { return w.h }
func (w *benchWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
}
func (w *benchWriter) Write(p []byte) (int, error) {
	w.body = append(w.body, p...)
	return len(p), nil
}
