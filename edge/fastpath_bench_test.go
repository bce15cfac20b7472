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
	discard := slog.New(slog.NewTextHandler(io.Discard, nil))
	s := server.New(&server.Options{Registerer: prometheus.NewRegistry(), Logger: discard})
	echov1.RegisterEchoServiceServer(s, benchEcho{})
	conn := s.Invoker()
	svc := echov1.File_examples_echo_v1_echo_proto.Services().Get(0)
	cat, err := catalog.New([]protoreflect.ServiceDescriptor{svc}, nil)
	if err != nil {
		b.Fatal(err)
	}
	e, err := New(cat, func(protoreflect.FullName) (grpc.ClientConnInterface, bool) { return conn, true },
		&Options{Logger: discard, Metrics: observe.NewMetrics(prometheus.NewRegistry())})
	if err != nil {
		b.Fatal(err)
	}
	h := e.Handler()

	// A session, opened the ordinary way.
	init := httptest.NewRequest("POST", "http://127.0.0.1/mcp", bytes.NewReader([]byte(
		`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"bench","version":"1"}}}`)))
	init.Header.Set("Content-Type", "application/json")
	init.Header.Set("Accept", "application/json, text/event-stream")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, init)
	sid := rec.Header().Get(headerSessionID)
	if rec.Code != http.StatusOK || sid == "" {
		b.Fatalf("initialize: %d %q", rec.Code, rec.Body)
	}

	run := func(b *testing.B, body string, hdr map[string]string) {
		req := httptest.NewRequest("POST", "http://127.0.0.1/mcp", nil)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		r := bytes.NewReader([]byte(body))
		w := &benchWriter{h: http.Header{}}
		want := []byte(`"structuredContent":{"text":"hello, world"}`)
		b.ReportAllocs()
		for b.Loop() {
			r.Reset([]byte(body))
			req.Body = io.NopCloser(r)
			w.reset()
			h.ServeHTTP(w, req)
			if w.code != 0 && w.code != http.StatusOK || !bytes.Contains(w.body, want) {
				b.Fatalf("call: %d %s", w.code, w.body)
			}
		}
	}
	b.Run("session", func(b *testing.B) {
		run(b, `{"jsonrpc":"2.0","id":42,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hello, world"}}}`,
			map[string]string{headerSessionID: sid, headerProtocolVersion: "2025-11-25"})
	})
	b.Run("sessionless", func(b *testing.B) {
		run(b, `{"jsonrpc":"2.0","id":42,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hello, world"},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"bench","version":"1"}}}}`,
			map[string]string{headerProtocolVersion: "2026-07-28", "Mcp-Method": "tools/call", "Mcp-Name": "echo"})
	})
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
