package bridge

// Benchmarks of the per-call hot paths. Run them with
//
//	go test -run '^$' -bench . -benchmem ./edge/bridge/
//
// BenchmarkOwnCodePerCall is the figure of issue 3's target "toolwire's own
// code per call": the bridge's tool handler for one unary echo call, with
// the backend's real interceptor chain and echo handler run in process
// (server.Invoker), so without the SDK's JSON-RPC and HTTP work and without
// the gRPC transport. The edge's receiving middleware is measured apart, in
// package edge: BenchmarkLinkCancellation/middleware alone, and
// BenchmarkLinkCancellation/with-own-code for the middleware, this handler
// and the backend chain together.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/toolwire/toolwire/edge/catalog"
	"github.com/toolwire/toolwire/edge/observe"
	echov1 "github.com/toolwire/toolwire/gen/go/examples/echo/v1"
	"github.com/toolwire/toolwire/server"
	"github.com/toolwire/toolwire/server/servertest"
)

// benchArgs are the arguments of the echo call the benchmarks make.
const benchArgs = `{"text":"hello, world"}`

// benchToolsCall is a typical tools/call request for echo, as a client sends it.
var benchToolsCall = []byte(`{"jsonrpc":"2.0","id":42,"method":"tools/call","params":{"name":"echo","arguments":` + benchArgs + `}}`)

var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

// benchBridge binds the echo catalog to conn.
func benchBridge(b *testing.B, conn grpc.ClientConnInterface) *Bridge {
	b.Helper()
	svc := echov1.File_examples_echo_v1_echo_proto.Services().Get(0)
	cat, err := catalog.New([]protoreflect.ServiceDescriptor{svc}, nil)
	if err != nil {
		b.Fatal(err)
	}
	br, err := New(cat, func(protoreflect.FullName) (grpc.ClientConnInterface, bool) { return conn, true }, &Options{
		Metrics: observe.NewMetrics(prometheus.NewRegistry()),
		Logger:  discard,
	})
	if err != nil {
		b.Fatal(err)
	}
	return br
}

func (br *Bridge) tool(b *testing.B, name string) *boundTool {
	b.Helper()
	for _, bt := range br.tools {
		if bt.tool.Name == name {
			return bt
		}
	}
	b.Fatalf("no tool %s", name)
	return nil
}

// benchBackend is an echo service behind a backend's interceptor chain, as
// server.New builds it, logging to nowhere at the default (info) level.
func benchBackend() *server.Server {
	s := server.New(&server.Options{Registerer: prometheus.NewRegistry(), Logger: discard})
	echov1.RegisterEchoServiceServer(s, benchEcho{})
	return s
}

// benchEcho does what services/echo does for echo and stream (edge/ may not
// import services/).
type benchEcho struct {
	echov1.UnimplementedEchoServiceServer
}

func (benchEcho) Echo(_ context.Context, req *echov1.EchoRequest) (*echov1.EchoResponse, error) {
	return &echov1.EchoResponse{Text: req.GetText()}, nil
}

func (benchEcho) Stream(req *echov1.StreamRequest, stream grpc.ServerStreamingServer[echov1.StreamResponse]) error {
	n := req.GetN()
	for i := uint32(1); i <= n; i++ {
		if err := server.ContextError(stream.Context()); err != nil {
			return err
		}
		msg := &echov1.StreamResponse{Kind: &echov1.StreamResponse_Progress{
			Progress: server.Progress(float64(i), float64(n), fmt.Sprintf("%d of %d", i, n)),
		}}
		if err := stream.Send(msg); err != nil {
			return err
		}
	}
	return stream.Send(&echov1.StreamResponse{Kind: &echov1.StreamResponse_Result{Result: "done"}})
}

// benchRequest is an echo call as the SDK hands it to the tool handler after
// a Streamable HTTP POST: no request id or trace context from the client.
func benchRequest() *mcp.CallToolRequest {
	return &mcp.CallToolRequest{
		Params: &mcp.CallToolParamsRaw{Name: "echo", Arguments: json.RawMessage(benchArgs)},
		Extra: &mcp.RequestExtra{Header: http.Header{
			"Accept":               {"application/json, text/event-stream"},
			"Content-Type":         {"application/json"},
			"Mcp-Protocol-Version": {"2025-11-25"},
			"Mcp-Session-Id":       {"SESSIONID0123456789ABCDEF"},
		}},
	}
}

// BenchmarkDecodeToolsCall is the SDK's JSON-RPC decode of one tools/call
// request (see MCP-NOTES: go-sdk v1.8.0 allocates a 32 KiB buffer per
// decode). It tracks the SDK's per-call JSON cost, which toolwire does not
// control.
func BenchmarkDecodeToolsCall(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(benchToolsCall)))
	for b.Loop() {
		msg, err := jsonrpc.DecodeMessage(benchToolsCall)
		if err != nil {
			b.Fatal(err)
		}
		if r, ok := msg.(*jsonrpc.Request); !ok || r.Method != "tools/call" {
			b.Fatalf("decoded %#v", msg)
		}
	}
}

// BenchmarkArgsToProto is what the bridge does with a call's arguments
// ("total"): check them against the input schema and decode them into the
// request message. The sub-benchmarks split the two steps ("validate",
// "decode"), and show what the steps cost by the general paths: the schema
// validator alone ("validate-schema") and protojson ("decode-protojson").
func BenchmarkArgsToProto(b *testing.B) {
	bt := benchBridge(b, nil).tool(b, "echo")
	args := json.RawMessage(benchArgs)
	b.Run("total", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			in, invalid := bt.request(args)
			if invalid != nil {
				b.Fatal(invalid)
			}
			sink = in
		}
	})
	b.Run("validate", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if v := bt.tool.ValidateArgs(args); v != nil {
				b.Fatal(v)
			}
		}
	})
	b.Run("decode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			in := bt.tool.NewRequest()
			if !bt.in.decode(args, in) {
				b.Fatal("not decoded")
			}
			sink = in
		}
	})
	b.Run("validate-schema", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if v := bt.tool.ValidateArgsSlow(args); v != nil {
				b.Fatal(v)
			}
		}
	})
	b.Run("decode-protojson", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			in := bt.tool.NewRequest()
			if err := unmarshalOpts.Unmarshal(args, in); err != nil {
				b.Fatal(err)
			}
			sink = in
		}
	})
}

// sink keeps benchmark results alive, so that they are allocated as the
// bridge allocates them.
var sink any

// BenchmarkProtoToResult is the response message becoming the result the
// bridge returns ("result"; "result-protojson" by the general path), and
// apart from it the SDK's encoding of that result to JSON ("sdk-json"),
// which the SDK does for every call.
func BenchmarkProtoToResult(b *testing.B) {
	bt := benchBridge(b, nil).tool(b, "echo")
	out := &echov1.EchoResponse{Text: "hello, world"}
	b.Run("result", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			payload, err := bt.marshal(out)
			if err != nil {
				b.Fatal(err)
			}
			sink = okResult("K3J9QX0ZPA-1f", payload)
		}
	})
	b.Run("result-protojson", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			payload, err := marshalOpts.Marshal(out)
			if err != nil {
				b.Fatal(err)
			}
			sink = okResult("K3J9QX0ZPA-1f", payload)
		}
	})
	b.Run("sdk-json", func(b *testing.B) {
		payload, err := bt.marshal(out)
		if err != nil {
			b.Fatal(err)
		}
		res := okResult("K3J9QX0ZPA-1f", payload)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(res); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkProgressFanOut calls the stream tool (n=100, interval 0), the
// backend being the echo service on an in-memory gRPC connection, and
// reports the cost per progress notification the client receives. One op
// is one call of 100 notifications.
//
//   - sdk-client: over an in-memory SDK transport pair, to a go-sdk client
//     that counts the notifications; the client's decoding (the SDK's
//     32 KiB buffer per message) is in the figure;
//   - raw-client: over stdio-style pipes to a client that reads the lines
//     and decodes nothing, so that the figure is the edge's side: the gRPC
//     stream, the bridge and the SDK's encoding and writing.
func BenchmarkProgressFanOut(b *testing.B) {
	const n = 100
	newServer := func(b *testing.B) *mcp.Server {
		br := benchBridge(b, servertest.Dial(b, benchBackend()))
		srv := mcp.NewServer(&mcp.Implementation{Name: "bench", Version: "1"}, &mcp.ServerOptions{HasTools: true, Logger: discard})
		br.Add(srv)
		return srv
	}
	report := func(b *testing.B, start time.Time, want, got int64) {
		elapsed := time.Since(start)
		b.ReportMetric(float64(elapsed.Nanoseconds())/float64(want), "ns/notification")
		b.ReportMetric(float64(want)/elapsed.Seconds(), "notifications/s")
		b.ReportMetric(float64(want-got), "lost")
	}

	b.Run("sdk-client", func(b *testing.B) {
		srv := newServer(b)
		var got atomic.Int64
		client := mcp.NewClient(&mcp.Implementation{Name: "bench", Version: "1"}, &mcp.ClientOptions{
			ProgressNotificationHandler: func(context.Context, *mcp.ProgressNotificationClientRequest) { got.Add(1) },
		})
		ctx := b.Context()
		st, ct := mcp.NewInMemoryTransports()
		ss, err := srv.Connect(ctx, st, nil)
		if err != nil {
			b.Fatal(err)
		}
		defer ss.Close()
		cs, err := client.Connect(ctx, ct, nil)
		if err != nil {
			b.Fatal(err)
		}
		defer cs.Close()
		params := &mcp.CallToolParams{Name: "stream", Arguments: map[string]any{"n": n}}
		params.SetProgressToken("bench")

		b.ReportAllocs()
		start := time.Now()
		calls := 0
		for b.Loop() {
			res, err := cs.CallTool(ctx, params)
			if err != nil || res.IsError {
				b.Fatalf("stream: %v %+v", err, res)
			}
			calls++
		}
		want := int64(calls * n)
		for deadline := time.Now().Add(5 * time.Second); got.Load() < want && time.Now().Before(deadline); {
			time.Sleep(time.Millisecond)
		}
		report(b, start, want, got.Load())
	})

	b.Run("raw-client", func(b *testing.B) {
		srv := newServer(b)
		inR, inW := io.Pipe()
		outR, outW := io.Pipe()
		ss, err := srv.Connect(b.Context(), &mcp.IOTransport{Reader: inR, Writer: outW}, nil)
		if err != nil {
			b.Fatal(err)
		}
		defer ss.Close()
		lines := bufio.NewScanner(outR)
		lines.Buffer(make([]byte, 64<<10), 1<<20)
		send := func(msg string) {
			if _, err := io.WriteString(inW, msg+"\n"); err != nil {
				b.Fatal(err)
			}
		}
		// await reads lines up to the response to id, counting progress
		// notifications.
		await := func(id int) (progress int64) {
			end := []byte(`"id":` + strconv.Itoa(id) + `,`)
			for lines.Scan() {
				line := lines.Bytes()
				switch {
				case bytes.Contains(line, []byte(`"method":"notifications/progress"`)):
					progress++
				case bytes.Contains(line, end):
					if bytes.Contains(line, []byte(`"isError":true`)) || bytes.Contains(line, []byte(`"error":`)) {
						b.Fatalf("call failed: %s", line)
					}
					return progress
				}
			}
			b.Fatalf("stream ended: %v", lines.Err())
			return 0
		}
		send(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"bench","version":"1"}}}`)
		await(1)
		send(`{"jsonrpc":"2.0","method":"notifications/initialized","params":{}}`)

		b.ReportAllocs()
		start := time.Now()
		var got int64
		id := 1
		for b.Loop() {
			id++
			send(`{"jsonrpc":"2.0","id":` + strconv.Itoa(id) + `,"method":"tools/call","params":{"name":"stream","arguments":{"n":` +
				strconv.Itoa(n) + `},"_meta":{"progressToken":"bench"}}}`)
			got += await(id)
		}
		report(b, start, int64((id-1)*n), got)
		_ = inW.Close()
	})
}

// BenchmarkOwnCodePerCall is toolwire's own code for one unary echo call:
// the bridge's tool handler (argument check, decode, metadata, deadline,
// metrics, result) and the backend's interceptor chain (recovery, logging,
// protovalidate, in-flight gauge) with the echo handler, in process. The
// SDK's JSON-RPC and HTTP work and the gRPC transport are left out.
//
// Each call gets a fresh cancellable context, as the SDK gives each request
// one; its two allocations are the SDK's but are counted here.
func BenchmarkOwnCodePerCall(b *testing.B) {
	bt := benchBridge(b, benchBackend().Invoker()).tool(b, "echo")
	req := benchRequest()
	base := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		ctx, cancel := context.WithCancel(base)
		res, err := bt.handle(ctx, req)
		cancel()
		if err != nil || res.IsError {
			b.Fatalf("echo: %v %+v", err, res)
		}
		sink = res
	}
}

// BenchmarkOwnCodeParts splits BenchmarkOwnCodePerCall: the bridge with a
// backend that does nothing ("bridge"), the backend chain alone
// ("backend"), and the outgoing metadata ("metadata").
func BenchmarkOwnCodeParts(b *testing.B) {
	b.Run("bridge", func(b *testing.B) {
		bt := benchBridge(b, nopConn{}).tool(b, "echo")
		req := benchRequest()
		base := context.Background()
		b.ReportAllocs()
		for b.Loop() {
			ctx, cancel := context.WithCancel(base)
			res, err := bt.handle(ctx, req)
			cancel()
			if err != nil || res.IsError {
				b.Fatalf("echo: %v %+v", err, res)
			}
			sink = res
		}
	})
	b.Run("backend", func(b *testing.B) {
		conn := benchBackend().Invoker()
		ctx, _ := outgoing(context.Background(), &Call{})
		in := &echov1.EchoRequest{Text: "hello, world"}
		out := &echov1.EchoResponse{}
		b.ReportAllocs()
		for b.Loop() {
			if err := conn.Invoke(ctx, "/examples.echo.v1.EchoService/Echo", in, out); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("metadata", func(b *testing.B) {
		c := &Call{}
		ctx := context.Background()
		b.ReportAllocs()
		for b.Loop() {
			outgoing(ctx, c)
		}
	})
}

// nopConn answers every unary call with the text of an echo.
type nopConn struct{}

func (nopConn) Invoke(_ context.Context, _ string, args, reply any, _ ...grpc.CallOption) error {
	reply.(*echov1.EchoResponse).Text = args.(*echov1.EchoRequest).GetText()
	return nil
}

func (nopConn) NewStream(context.Context, *grpc.StreamDesc, string, ...grpc.CallOption) (grpc.ClientStream, error) {
	panic("unused")
}
