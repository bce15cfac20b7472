package edge_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/toolwire/toolwire/edge"
	"github.com/toolwire/toolwire/edge/catalog"
	"github.com/toolwire/toolwire/edge/observe"
	conformancev1 "github.com/toolwire/toolwire/gen/go/examples/conformance/v1"
	mcpv1 "github.com/toolwire/toolwire/gen/go/toolwire/mcp/v1"
	"github.com/toolwire/toolwire/server"
	"github.com/toolwire/toolwire/server/servertest"
)

// regionBackend serves test_x_mcp_header, whose region argument is mirrored
// into Mcp-Param-Region, and counts its calls.
type regionBackend struct {
	conformancev1.UnimplementedConformanceServiceServer
	calls atomic.Int64
}

func (b *regionBackend) TestXMcpHeader(_ context.Context, args *structpb.Struct) (*conformancev1.TestXMcpHeaderResponse, error) {
	b.calls.Add(1)
	text := "region=" + args.GetFields()["region"].GetStringValue()
	return &conformancev1.TestXMcpHeaderResponse{Content: []*mcpv1.Content{{Kind: &mcpv1.Content_Text{Text: text}}}}, nil
}

// newParamEdge serves the conformance catalog, with test_x_mcp_header on
// backend, and returns the MCP endpoint.
func newParamEdge(t *testing.T, backend *regionBackend, sdkOnly bool) string {
	t.Helper()
	s := server.New(&server.Options{
		Registerer: prometheus.NewRegistry(),
		Logger:     slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	conformancev1.RegisterConformanceServiceServer(s.GRPC(), backend)
	conn := servertest.Dial(t, s)
	svc := conformancev1.File_examples_conformance_v1_conformance_proto.Services().Get(0)
	cat, err := catalog.New([]protoreflect.ServiceDescriptor{svc}, nil)
	if err != nil {
		t.Fatal(err)
	}
	e, err := edge.New(cat, func(name protoreflect.FullName) (grpc.ClientConnInterface, bool) {
		return conn, name == svc.FullName()
	}, &edge.Options{
		Metrics: observe.NewMetrics(nil),
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
		SDKOnly: sdkOnly,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	srv := httptest.NewServer(e.Handler())
	t.Cleanup(srv.Close)
	return srv.URL + "/mcp"
}

// callRegion posts a 2026-07-28 tools/call of test_x_mcp_header with args
// and the header lines given (name, value, ...; a name may repeat), and
// returns the HTTP status, the JSON-RPC error code (0 for none) and the
// result's first text.
func callRegion(t *testing.T, url string, args map[string]any, headers ...string) (status int, code int, text string) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{
		"jsonrpc": "2.0", "id": 7, "method": "tools/call",
		"params": map[string]any{
			"name":      "test_x_mcp_header",
			"arguments": args,
			"_meta": map[string]any{
				"io.modelcontextprotocol/protocolVersion":    "2026-07-28",
				"io.modelcontextprotocol/clientCapabilities": map[string]any{},
				"io.modelcontextprotocol/clientInfo":         map[string]any{"name": "params-test", "version": "1"},
			},
		},
	})
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("MCP-Protocol-Version", "2026-07-28")
	req.Header.Set("Mcp-Method", "tools/call")
	req.Header.Set("Mcp-Name", "test_x_mcp_header")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Add(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	msg := raw
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		for line := range strings.Lines(string(raw)) {
			if d, ok := strings.CutPrefix(strings.TrimSpace(line), "data:"); ok && strings.Contains(d, `"id":7`) {
				msg = []byte(d)
			}
		}
	}
	var r struct {
		Error *struct {
			Code int `json:"code"`
		} `json:"error"`
		Result *struct {
			Content []struct {
				Text string `json:"text"`
			} `json:"content"`
		} `json:"result"`
	}
	if err := json.Unmarshal(msg, &r); err != nil {
		t.Fatalf("response %d %q: %v", resp.StatusCode, raw, err)
	}
	if r.Error != nil {
		code = r.Error.Code
	}
	if r.Result != nil && len(r.Result.Content) > 0 {
		text = r.Result.Content[0].Text
	}
	return resp.StatusCode, code, text
}

func b64(s string) string { return "=?base64?" + base64.StdEncoding.EncodeToString([]byte(s)) + "?=" }

// TestParamHeaders checks SEP-2243's Mcp-Param-* validation on both paths:
// a call is served only when the header mirrors its argument.
func TestParamHeaders(t *testing.T) {
	const param = "Mcp-Param-Region"
	tests := []struct {
		name    string
		args    map[string]any
		headers []string
		want    string // the result's text, "*" for any; "" means 400 and -32020
	}{
		{"match", map[string]any{"region": "us-west1"}, []string{param, "us-west1"}, "region=us-west1"},
		{"header name in lower case", map[string]any{"region": "us-west1"}, []string{"mcp-param-region", "us-west1"}, "region=us-west1"},
		{"surrounding whitespace", map[string]any{"region": "us-west1"}, []string{param, "  us-west1\t"}, "region=us-west1"},
		{"base64", map[string]any{"region": "Zürich, 世界"}, []string{param, b64("Zürich, 世界")}, "region=Zürich, 世界"},
		{"base64 of leading spaces", map[string]any{"region": "  x"}, []string{param, b64("  x")}, "region=  x"},
		{"no prefix is literal", map[string]any{"region": "SGVsbG8="}, []string{param, "SGVsbG8="}, "region=SGVsbG8="},
		{"no suffix is literal", map[string]any{"region": "=?base64?SGVsbG8="}, []string{param, "=?base64?SGVsbG8="}, "region==?base64?SGVsbG8="},
		{"absent argument, no header", map[string]any{"level": 3}, nil, "region="},
		// Passes the header check, and fails the schema's (an isError result).
		{"null argument, no header", map[string]any{"region": nil}, nil, "*"},

		{"missing header", map[string]any{"region": "us-west1"}, nil, ""},
		{"mismatch", map[string]any{"region": "us-west1"}, []string{param, "eu-west1"}, ""},
		{"case differs", map[string]any{"region": "us-west1"}, []string{param, "US-WEST1"}, ""},
		{"base64 mismatch", map[string]any{"region": "us-west1"}, []string{param, b64("eu-west1")}, ""},
		{"base64 without padding", map[string]any{"region": "Hello"}, []string{param, "=?base64?SGVsbG8?="}, ""},
		{"base64 with invalid characters", map[string]any{"region": "Hello"}, []string{param, "=?base64?SGVs!!!bG8=?="}, ""},
		{"non-ASCII literal", map[string]any{"region": "Zürich"}, []string{param, "Zürich"}, ""},
		{"header for absent argument", map[string]any{"level": 3}, []string{param, "us-west1"}, ""},
		{"header for null argument", map[string]any{"region": nil}, []string{param, "us-west1"}, ""},
		{"repeated header", map[string]any{"region": "us-west1"}, []string{param, "us-west1", param, "us-west1"}, ""},
		{"argument not a string", map[string]any{"region": map[string]any{"a": 1}}, []string{param, `{"a":1}`}, ""},
	}
	for _, mode := range []struct {
		name    string
		sdkOnly bool
	}{{"fast", false}, {"sdk-only", true}} {
		t.Run(mode.name, func(t *testing.T) {
			backend := &regionBackend{}
			url := newParamEdge(t, backend, mode.sdkOnly)
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					before := backend.calls.Load()
					status, code, text := callRegion(t, url, tt.args, tt.headers...)
					if tt.want == "" {
						if status != http.StatusBadRequest || code != -32020 {
							t.Fatalf("got HTTP %d, error %d, text %q; want HTTP 400, error -32020", status, code, text)
						}
						if n := backend.calls.Load() - before; n != 0 {
							t.Errorf("the backend was called %d times, want none", n)
						}
						return
					}
					if status != http.StatusOK || code != 0 || (text != tt.want && tt.want != "*") {
						t.Fatalf("got HTTP %d, error %d, text %q; want HTTP 200, text %q", status, code, text, tt.want)
					}
				})
			}
		})
	}
}
