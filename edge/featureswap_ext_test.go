package edge_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/toolwire/toolwire/edge"
	"github.com/toolwire/toolwire/edge/catalog"
	"github.com/toolwire/toolwire/edge/observe"
	conformancev1 "github.com/toolwire/toolwire/gen/go/examples/conformance/v1"
	"github.com/toolwire/toolwire/server"
	"github.com/toolwire/toolwire/server/servertest"
	"github.com/toolwire/toolwire/services/conformance"
)

// A catalog change that drops a prompt and a resource sends one
// prompts/list_changed and one resources/list_changed, and no
// tools/list_changed; the lists and reads follow.
func TestSetCatalogPromptsAndResources(t *testing.T) {
	s := server.New(&server.Options{Registerer: prometheus.NewRegistry(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	conformance.Register(s.GRPC())
	conn := servertest.Dial(t, s)
	svc := conformancev1.File_examples_conformance_v1_conformance_proto.Services().Get(0)
	resolve := func(name protoreflect.FullName) (grpc.ClientConnInterface, bool) { return conn, name == svc.FullName() }
	build := func(leaveOut ...protoreflect.Name) *catalog.Catalog {
		c, err := catalog.New([]protoreflect.ServiceDescriptor{svc}, &catalog.Options{
			Include: func(md protoreflect.MethodDescriptor) bool { return !slices.Contains(leaveOut, md.Name()) },
		})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	e, err := edge.New(build(), resolve, &edge.Options{Metrics: observe.NewMetrics(nil), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	srv := httptest.NewServer(e.Handler())
	t.Cleanup(srv.Close)

	ctx := context.Background()
	notes := make(chan string, 16)
	client := mcp.NewClient(&mcp.Implementation{Name: "watcher"}, &mcp.ClientOptions{
		ToolListChangedHandler:     func(context.Context, *mcp.ToolListChangedRequest) { notes <- "tools" },
		PromptListChangedHandler:   func(context.Context, *mcp.PromptListChangedRequest) { notes <- "prompts" },
		ResourceListChangedHandler: func(context.Context, *mcp.ResourceListChangedRequest) { notes <- "resources" },
	})
	cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: srv.URL + "/mcp"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	// The session reads before the change, so its SDK session is open.
	if _, err := cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: "test://static-text"}); err != nil {
		t.Fatalf("reading test://static-text before the change: %v", err)
	}

	if err := e.SetCatalog(build("TestSimplePrompt", "ReadStaticText"), resolve); err != nil {
		t.Fatal(err)
	}
	var got []string
	deadline := time.After(5 * time.Second)
	for len(got) < 2 {
		select {
		case n := <-notes:
			got = append(got, n)
		case <-deadline:
			t.Fatalf("list_changed notifications after 5s: %v, want prompts and resources", got)
		}
	}
	// Anything more would have come with them (the SDK batches changes).
	select {
	case n := <-notes:
		got = append(got, n)
	case <-time.After(200 * time.Millisecond):
	}
	slices.Sort(got)
	if !slices.Equal(got, []string{"prompts", "resources"}) {
		t.Fatalf("list_changed notifications %v, want exactly one for prompts and one for resources", got)
	}

	prompts, err := cs.ListPrompts(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range prompts.Prompts {
		if p.Name == "test_simple_prompt" {
			t.Error("prompts/list still lists test_simple_prompt")
		}
	}
	_, err = cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: "test://static-text"})
	var je *jsonrpc.Error
	if !errors.As(err, &je) || je.Code != mcp.CodeResourceNotFound {
		t.Fatalf("reading a removed resource: %v, want resource not found (%d)", err, mcp.CodeResourceNotFound)
	}
	if _, err := cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: "test://static-binary"}); err != nil {
		t.Fatalf("a resource that stayed: %v", err)
	}
}
