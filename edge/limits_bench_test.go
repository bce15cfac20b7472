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
	"github.com/toolwire/toolwire/edge/policy/limits"
	"github.com/toolwire/toolwire/edge/policy/ratelimit"
	echov1 "github.com/toolwire/toolwire/gen/go/examples/echo/v1"
	"github.com/toolwire/toolwire/server"
)

// BenchmarkFastPathGoverned is BenchmarkFastPath's sessionless echo call
// with the limits `toolwire serve` runs with, to show what governance costs
// per call:
//
//   - none: no Limits, as BenchmarkFastPath;
//   - defaults: the concurrency limiter (global and per principal) and the
//     stream guard, as serve's defaults have them;
//   - rate: defaults plus a per-principal rate limit and a budget for the
//     tool's class, in the in-process store (effectively unbounded, so that
//     every call is admitted).
func BenchmarkFastPathGoverned(b *testing.B) {
	discard := slog.New(slog.NewTextHandler(io.Discard, nil))
	s := server.New(&server.Options{Registerer: prometheus.NewRegistry(), Logger: discard})
	echov1.RegisterEchoServiceServer(s, benchEcho{})
	conn := s.Invoker()
	svc := echov1.File_examples_echo_v1_echo_proto.Services().Get(0)
	cat, err := catalog.New([]protoreflect.ServiceDescriptor{svc}, nil)
	if err != nil {
		b.Fatal(err)
	}
	concurrency := func() *limits.Limiter {
		return limits.NewLimiter(&limits.Options{
			Global:       limits.Limit{MaxInFlight: 1024, MaxQueue: 1024},
			PerPrincipal: limits.Limit{MaxInFlight: 64, MaxQueue: 128},
			Tools:        ToolLimits(cat, 256),
			Registerer:   prometheus.NewRegistry(),
		})
	}
	for _, tc := range []struct {
		name   string
		limits func() *Limits
	}{
		{"none", func() *Limits { return nil }},
		{"defaults", func() *Limits {
			return &Limits{Concurrency: concurrency(), Stream: &limits.StreamOptions{}}
		}},
		{"rate", func() *Limits {
			return &Limits{
				Concurrency: concurrency(), Stream: &limits.StreamOptions{},
				Rate:      ratelimit.NewLocal(nil),
				Principal: ratelimit.Class{Rate: 1e9, Burst: 1e9},
				Classes:   map[string]ratelimit.Class{catalog.DefaultRateClass: {Rate: 1e9, Burst: 1e9}},
			}
		}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			e, err := New(cat, func(protoreflect.FullName) (grpc.ClientConnInterface, bool) { return conn, true },
				&Options{Logger: discard, Metrics: observe.NewMetrics(prometheus.NewRegistry()), Limits: tc.limits()})
			if err != nil {
				b.Fatal(err)
			}
			h := e.Handler()
			body := []byte(`{"jsonrpc":"2.0","id":42,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hello, world"},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"bench","version":"1"}}}}`)
			req := httptest.NewRequest("POST", "http://127.0.0.1/mcp", nil)
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Accept", "application/json, text/event-stream")
			req.Header.Set(headerProtocolVersion, "2026-07-28")
			req.Header.Set("Mcp-Method", "tools/call")
			req.Header.Set("Mcp-Name", "echo")
			r := bytes.NewReader(body)
			w := &benchWriter{h: http.Header{}}
			want := []byte(`"structuredContent":{"text":"hello, world"}`)
			b.ReportAllocs()
			for b.Loop() {
				r.Reset(body)
				req.Body = io.NopCloser(r)
				w.reset()
				h.ServeHTTP(w, req)
				if w.code != 0 && w.code != http.StatusOK || !bytes.Contains(w.body, want) {
					b.Fatalf("call: %d %s", w.code, w.body)
				}
			}
		})
	}
}
