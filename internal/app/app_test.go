package app

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/toolwire/toolwire/server"
	"github.com/toolwire/toolwire/services/echo"
	"github.com/toolwire/toolwire/services/search"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

type lineWriter struct{ lines chan string }

func (w lineWriter) Write(p []byte) (int, error) {
	sc := bufio.NewScanner(bytes.NewReader(p))
	for sc.Scan() {
		w.lines <- sc.Text()
	}
	return len(p), nil
}

var mcpURL = regexp.MustCompile(`http://127\.0\.0\.1:[0-9]+/mcp`)

// startDemo runs Demo on a free port and returns its base URL.
func startDemo(t *testing.T) string {
	t.Helper()
	return startDemoWith(t, Config{})
}

// Serve fronts backends in other goroutines over real TCP gRPC connections,
// found by gRPC reflection.
func TestServeFrontsBackendsByAddress(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	echoAddr, searchAddr, edgeAddr := freeAddr(t), freeAddr(t), freeAddr(t)
	go func() { _ = echo.Run(ctx, echo.Config{Addr: echoAddr, Logger: quiet}) }()
	go func() {
		_ = search.Run(ctx, search.Config{ServiceConfig: server.ServiceConfig{Addr: searchAddr, Logger: quiet}})
	}()
	served := make(chan error, 1)
	go func() {
		served <- Serve(ctx, Config{Addr: edgeAddr, Backends: []string{echoAddr, searchAddr}, Logger: quiet})
	}()

	var cs *mcp.ClientSession
	var err error
	c := mcp.NewClient(&mcp.Implementation{Name: "t", Version: "1"}, nil)
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if cs, err = c.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: "http://" + edgeAddr + "/mcp"}, nil); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("edge never came up: %v", err)
	}
	defer cs.Close()
	tools, err := cs.ListTools(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tool := range tools.Tools {
		names = append(names, tool.Name)
	}
	if diff := cmp.Diff([]string{"echo", "get_document", "search_documents", "sleep", "stream"}, names); diff != "" {
		t.Errorf("tools (-want +got):\n%s", diff)
	}
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "get_document", Arguments: map[string]any{"id": "doc-000042"}})
	if err != nil || res.IsError {
		t.Fatalf("get_document: %v %+v", err, res)
	}
	doc, _ := res.StructuredContent.(map[string]any)["document"].(map[string]any)
	if doc["id"] != "doc-000042" {
		t.Errorf("document = %v", res.StructuredContent)
	}
	res, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: "get_document", Arguments: map[string]any{"id": "nope"}})
	if err != nil || !res.IsError {
		t.Fatalf("missing document: want isError, got %v %+v", err, res)
	}
	cancel()
	if err := <-served; err != nil {
		t.Errorf("Serve: %v", err)
	}
}

func TestDemoREST(t *testing.T) {
	base := startDemo(t)
	for _, tc := range []struct {
		name, method, path, body string
		status                   int
		want                     []string // NDJSON lines or the JSON body
	}{
		{"unary", "POST", "/api/v1/echo", `{"text":"hi"}`, 200, []string{`{"text":"hi"}`}},
		{"stream as NDJSON", "POST", "/api/v1/stream", `{"n":2}`, 200, []string{
			`{"result":{"progress":{"progress":1,"total":2,"message":"1 of 2"}}}`,
			`{"result":{"progress":{"progress":2,"total":2,"message":"2 of 2"}}}`,
			`{"result":{"result":"done"}}`,
		}},
		{"validation by the backend", "POST", "/api/v1/stream", `{"n":200000}`, 400, nil},
		{"not found", "GET", "/api/v1/documents/nope", "", 404, nil},
		{"health", "GET", "/healthz", "", 200, []string{`{"status":"ok"}`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, base+tc.path, strings.NewReader(tc.body))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, body)
			}
			if tc.want == nil {
				var e map[string]any
				if err := json.Unmarshal(body, &e); err != nil || e["message"] == "" {
					t.Errorf("error body %s is not a gRPC-gateway status", body)
				}
				return
			}
			if diff := cmp.Diff(tc.want, strings.Split(strings.TrimSpace(string(body)), "\n")); diff != "" {
				t.Errorf("body (-want +got):\n%s", diff)
			}
		})
	}
}

func TestToolsPrintsCatalog(t *testing.T) {
	var b bytes.Buffer
	if err := Tools(context.Background(), Config{Out: &b}); err != nil {
		t.Fatal(err)
	}
	var tools []struct {
		Name, Description string
		InputSchema       map[string]any `json:"inputSchema"`
	}
	if err := json.Unmarshal(b.Bytes(), &tools); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, b.String())
	}
	if len(tools) != 5 {
		t.Fatalf("%d tools", len(tools))
	}
	for _, tool := range tools {
		if tool.Description == "" || tool.InputSchema["type"] != "object" {
			t.Errorf("tool %s: description %q, schema %v", tool.Name, tool.Description, tool.InputSchema)
		}
	}
}
