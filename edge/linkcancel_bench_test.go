package edge

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/toolwire/toolwire/edge/bridge"
	"github.com/toolwire/toolwire/edge/catalog"
	"github.com/toolwire/toolwire/edge/observe"
	echov1 "github.com/toolwire/toolwire/gen/go/examples/echo/v1"
	"github.com/toolwire/toolwire/server"
)

// BenchmarkLinkCancellation is the edge's receiving middleware on a
// tools/call of a Streamable HTTP session: the POST's tag looked up and the
// call's context tied to the POST's.
//
//   - middleware: the middleware alone, around a handler that does nothing;
//   - sessionless: the same for a request without a tag (nothing to tie);
//   - with-own-code: the middleware, the bridge's echo handler and the
//     backend's interceptor chain with the echo service, run in process
//     (server.Invoker): all of toolwire's own code for one call, without the
//     SDK's JSON-RPC and HTTP work and without the gRPC transport. It is
//     bridge's BenchmarkOwnCodePerCall plus the edge chain.
//
// Each call gets a fresh cancellable context, as the SDK gives each request
// one; its allocations are the SDK's but are counted here.
func BenchmarkLinkCancellation(b *testing.B) {
	e := &Edge{posts: newPostRegistry()}
	nop := func(context.Context, string, mcp.Request) (mcp.Result, error) { return nil, nil }
	params := &mcp.CallToolParamsRaw{Name: "echo", Arguments: json.RawMessage(`{"text":"hello, world"}`)}
	postCtx, cancelPost := context.WithCancel(context.Background())
	defer cancelPost()
	post := httptest.NewRequestWithContext(postCtx, "POST", "/mcp", nil)
	for k, v := range map[string]string{"Accept": "application/json, text/event-stream", "Content-Type": "application/json",
		"Mcp-Protocol-Version": "2025-11-25", "Mcp-Session-Id": "SESSIONID0123456789ABCDEF"} {
		post.Header.Set(k, v)
	}
	untrack := e.posts.track(post)
	defer untrack()
	tagged := &mcp.CallToolRequest{Params: params, Extra: &mcp.RequestExtra{Header: post.Header}}

	run := func(b *testing.B, h mcp.MethodHandler, req *mcp.CallToolRequest) {
		base := context.Background()
		b.ReportAllocs()
		for b.Loop() {
			ctx, cancel := context.WithCancel(base)
			if _, err := h(ctx, "tools/call", req); err != nil {
				b.Fatal(err)
			}
			cancel()
		}
	}
	b.Run("middleware", func(b *testing.B) { run(b, e.linkCancellation(nop), tagged) })
	b.Run("sessionless", func(b *testing.B) {
		run(b, e.linkCancellation(nop), &mcp.CallToolRequest{Params: params, Extra: &mcp.RequestExtra{Header: http.Header{}}})
	})
	b.Run("with-own-code", func(b *testing.B) {
		echoTool := ownCodeHandler(b)
		h := e.linkCancellation(func(ctx context.Context, _ string, req mcp.Request) (mcp.Result, error) {
			res, err := echoTool(ctx, req.(*mcp.CallToolRequest))
			if err == nil && res.IsError {
				b.Fatalf("echo failed: %+v", res)
			}
			return res, err
		})
		run(b, h, tagged)
	})
}

// ownCodeHandler is the bridge's echo handler over the echo service behind
// a backend's interceptor chain, in process.
func ownCodeHandler(b *testing.B) mcp.ToolHandler {
	discard := slog.New(slog.NewTextHandler(io.Discard, nil))
	s := server.New(&server.Options{Registerer: prometheus.NewRegistry(), Logger: discard})
	echov1.RegisterEchoServiceServer(s, benchEcho{})
	conn := s.Invoker()
	svc := echov1.File_examples_echo_v1_echo_proto.Services().Get(0)
	cat, err := catalog.New([]protoreflect.ServiceDescriptor{svc}, nil)
	if err != nil {
		b.Fatal(err)
	}
	br, err := bridge.New(cat, func(protoreflect.FullName) (grpc.ClientConnInterface, bool) { return conn, true },
		&bridge.Options{Metrics: observe.NewMetrics(prometheus.NewRegistry()), Logger: discard})
	if err != nil {
		b.Fatal(err)
	}
	h, ok := br.ToolHandler("echo")
	if !ok {
		b.Fatal("no echo tool")
	}
	return h
}

// benchEcho echoes as services/echo does (edge/ may not import services/).
type benchEcho struct {
	echov1.UnimplementedEchoServiceServer
}

func (benchEcho) Echo(_ context.Context, req *echov1.EchoRequest) (*echov1.EchoResponse, error) {
	return &echov1.EchoResponse{Text: req.GetText()}, nil
}
