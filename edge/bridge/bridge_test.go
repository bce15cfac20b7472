package bridge

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/toolwire/toolwire/edge/catalog"
	"github.com/toolwire/toolwire/edge/observe"
	echov1 "github.com/toolwire/toolwire/gen/go/examples/echo/v1"
	"github.com/toolwire/toolwire/server"
)

// inProcess is a bridge over the echo service run in process, and the
// incoming metadata of the backend's latest call.
func inProcess(t *testing.T) (*Bridge, *metadata.MD) {
	t.Helper()
	var md metadata.MD
	s := server.New(&server.Options{
		Registerer: prometheus.NewRegistry(),
		Logger:     slog.New(slog.NewTextHandler(io.Discard, nil)),
		UnaryInterceptors: []grpc.UnaryServerInterceptor{
			func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
				md, _ = metadata.FromIncomingContext(ctx)
				return h(ctx, req)
			},
		},
	})
	echov1.RegisterEchoServiceServer(s, benchEcho{})
	svc := echov1.File_examples_echo_v1_echo_proto.Services().Get(0)
	cat, err := catalog.New([]protoreflect.ServiceDescriptor{svc}, nil)
	if err != nil {
		t.Fatal(err)
	}
	conn := s.Invoker()
	br, err := New(cat, func(protoreflect.FullName) (grpc.ClientConnInterface, bool) { return conn, true }, &Options{
		Metrics: observe.NewMetrics(prometheus.NewRegistry()),
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	return br, &md
}

func callEcho(t *testing.T, br *Bridge, req *mcp.CallToolRequest) *mcp.CallToolResult {
	t.Helper()
	h, ok := br.ToolHandler("echo")
	if !ok {
		t.Fatal("no echo handler")
	}
	res, err := h(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestResultJSON checks the result of a call as the SDK sends it.
func TestResultJSON(t *testing.T) {
	br, md := inProcess(t)
	res := callEcho(t, br, &mcp.CallToolRequest{
		Params: &mcp.CallToolParamsRaw{Name: "echo", Arguments: json.RawMessage(`{"text":"héllo \"x\"\n"}`)},
		Extra:  &mcp.RequestExtra{Header: http.Header{"X-Request-Id": {"req-9"}}},
	})
	got, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"_meta":{"io.github.toolwire/requestId":"req-9"},"content":[{"type":"text","text":"{\"text\":\"héllo \\\"x\\\"\\n\"}"}],"structuredContent":{"text":"héllo \"x\"\n"}}`
	if string(got) != want {
		t.Errorf("result JSON:\n got %s\nwant %s", got, want)
	}
	if v := md.Get("x-request-id"); len(v) != 1 || v[0] != "req-9" {
		t.Errorf("backend x-request-id = %q", v)
	}
	if v := md.Get("traceparent"); len(v) != 1 || !strings.HasPrefix(v[0], "00-") || len(v[0]) != 55 {
		t.Errorf("backend traceparent = %q", v)
	}
}

// TestOKResultMatchesPlainResult checks that the one-allocation result
// encodes as the plain struct it stands for.
func TestOKResultMatchesPlainResult(t *testing.T) {
	for _, payload := range []string{`{}`, `{"text":"a"}`, `{"items":[1,2,{"x":"\u00e9"}]}`} {
		plain := &mcp.CallToolResult{
			Meta:              mcp.Meta{MetaRequestID: "id-1"},
			Content:           []mcp.Content{&mcp.TextContent{Text: payload}},
			StructuredContent: json.RawMessage(payload),
		}
		want, err := json.Marshal(plain)
		if err != nil {
			t.Fatal(err)
		}
		got, err := json.Marshal(okResult("id-1", json.RawMessage(payload)))
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Errorf("okResult(%s) encodes as %s, want %s", payload, got, want)
		}
	}
}

// TestInvalidArgumentsResult checks that the fast paths leave errors as
// they were: every violation, or protojson's own error.
func TestInvalidArgumentsResult(t *testing.T) {
	br, _ := inProcess(t)
	for _, tc := range []struct{ args, want string }{
		{`{"text":5,"extra":true}`, "echo: invalid arguments:\n- /extra: unknown property \"extra\"\n- /text: must be string, got number"},
		{`{"text":`, "echo: invalid arguments:\n- (arguments): malformed JSON: unexpected EOF"},
		{`{"text":"x","text":"y"}`, "echo: invalid arguments: proto:"},
	} {
		res := callEcho(t, br, &mcp.CallToolRequest{Params: &mcp.CallToolParamsRaw{Name: "echo", Arguments: json.RawMessage(tc.args)}})
		if !res.IsError || len(res.Content) != 1 {
			t.Fatalf("%s: result %+v, want one isError text", tc.args, res)
		}
		if text := res.Content[0].(*mcp.TextContent).Text; !strings.HasPrefix(text, tc.want) {
			t.Errorf("%s: text %q, want it to start with %q", tc.args, text, tc.want)
		}
	}
	if _, ok := br.ToolHandler("nope"); ok {
		t.Error("ToolHandler found a tool that does not exist")
	}
}

// TestEchoRoundTrip checks texts through both fast paths and the backend.
func TestEchoRoundTrip(t *testing.T) {
	br, _ := inProcess(t)
	for _, text := range []string{"", "plain", "tab\there \"q\" \\ / é 😀 \x01 \u2028", strings.Repeat("long ", 1000)} {
		args, err := json.Marshal(map[string]string{"text": text})
		if err != nil {
			t.Fatal(err)
		}
		res := callEcho(t, br, &mcp.CallToolRequest{Params: &mcp.CallToolParamsRaw{Name: "echo", Arguments: args}})
		var got map[string]string
		if err := json.Unmarshal(*res.StructuredContent.(*json.RawMessage), &got); err != nil {
			t.Fatal(err)
		}
		want := map[string]string{"text": text}
		if text == "" {
			want = map[string]string{} // protojson leaves out empty fields
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("echo %q (-want +got):\n%s", text, diff)
		}
	}
}

// TestThroughSDK checks an echo call end to end through the SDK, whose JSON
// encoder is not encoding/json.
func TestThroughSDK(t *testing.T) {
	br, _ := inProcess(t)
	srv := mcp.NewServer(&mcp.Implementation{Name: "test", Version: "1"}, nil)
	br.Add(srv)
	st, ct := mcp.NewInMemoryTransports()
	ss, err := srv.Connect(t.Context(), st, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ss.Close()
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "test", Version: "1"}, nil).Connect(t.Context(), ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	res, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"text": "héllo"}})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]any{"text": "héllo"}, res.StructuredContent); diff != "" {
		t.Errorf("structuredContent (-want +got):\n%s", diff)
	}
	if text := res.Content[0].(*mcp.TextContent).Text; text != `{"text":"héllo"}` {
		t.Errorf("text = %q", text)
	}
	if id, _ := res.Meta[MetaRequestID].(string); !strings.Contains(id, "-") {
		t.Errorf("_meta request id = %#v", res.Meta[MetaRequestID])
	}
}
