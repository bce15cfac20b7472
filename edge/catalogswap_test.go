package edge_test

import (
	"context"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/toolwire/toolwire/edge"
	"github.com/toolwire/toolwire/edge/catalog"
	"github.com/toolwire/toolwire/edge/internal/edgetest"
	"github.com/toolwire/toolwire/edge/observe"
	echov1 "github.com/toolwire/toolwire/gen/go/examples/echo/v1"
)

// echoCatalog is a catalog of the echo service's tools called names.
func echoCatalog(t *testing.T, names ...string) *catalog.Catalog {
	t.Helper()
	svc := echov1.File_examples_echo_v1_echo_proto.Services().Get(0)
	cat, err := catalog.New([]protoreflect.ServiceDescriptor{svc}, &catalog.Options{
		Include: func(md protoreflect.MethodDescriptor) bool {
			return slices.Contains(names, strings.ToLower(string(md.Name())))
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

// Every kind of session learns of a catalog change once, and sees the new
// tools: an SDK session, a session the edge opened and that only called
// tools, a 2026-07-28 subscriptions/listen stream, HTTP+SSE and stdio.
func TestSetCatalogNotifiesEverySession(t *testing.T) {
	b := edgetest.Start(t)
	e, err := edge.New(echoCatalog(t, "echo", "stream"), b.Resolve, &edge.Options{Metrics: observe.NewMetrics(nil)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	srv := httptest.NewServer(e.Handler())
	t.Cleanup(srv.Close)
	f := &fixture{backend: b, edge: e, url: srv.URL}
	ctx := context.Background()

	type session struct {
		name    string
		changes atomic.Int32
		cs      *mcp.ClientSession
	}
	kinds := []struct {
		name    string
		connect func(c *mcp.Client) *mcp.ClientSession
		// lazy: the session only calls tools before the change.
		lazy bool
	}{
		{"streamable-2025-11-25", func(c *mcp.Client) *mcp.ClientSession {
			return connect(t, c, &mcp.StreamableClientTransport{Endpoint: f.url + "/mcp"}, "2025-11-25")
		}, false},
		{"streamable-2025-11-25-lazy", func(c *mcp.Client) *mcp.ClientSession {
			return connect(t, c, &mcp.StreamableClientTransport{Endpoint: f.url + "/mcp"}, "2025-11-25")
		}, true},
		{"streamable-2026-07-28-listen", func(c *mcp.Client) *mcp.ClientSession {
			return connect(t, c, &mcp.StreamableClientTransport{Endpoint: f.url + "/mcp"}, "2026-07-28")
		}, true},
		{"sse-2024-11-05", func(c *mcp.Client) *mcp.ClientSession {
			return connect(t, c, &mcp.SSEClientTransport{Endpoint: f.url + "/sse"}, "2024-11-05")
		}, false},
		{"stdio", func(c *mcp.Client) *mcp.ClientSession {
			cs, _ := connectStdio(t, f, c)
			return cs
		}, false},
	}
	var sessions []*session
	for _, k := range kinds {
		s := &session{name: k.name}
		c := mcp.NewClient(&mcp.Implementation{Name: "test", Version: "1"}, &mcp.ClientOptions{
			ToolListChangedHandler: func(context.Context, *mcp.ToolListChangedRequest) { s.changes.Add(1) },
		})
		s.cs = k.connect(c)
		if caps := s.cs.InitializeResult().Capabilities; caps.Tools == nil || !caps.Tools.ListChanged {
			t.Errorf("%s: capabilities.tools = %+v, want listChanged", k.name, caps.Tools)
		}
		if !k.lazy {
			listTools(t, s.cs)
		}
		res, err := s.cs.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"text": "hi"}})
		if err != nil || res.IsError {
			t.Fatalf("%s: echo: %v %v", k.name, err, res)
		}
		sessions = append(sessions, s)
	}
	if n := len(e.LazySessionIDs()); n != 1 {
		t.Fatalf("%d sessions without an SDK session, want 1 (the lazy one)", n)
	}
	// The GET streams are open once the clients' first requests are done;
	// the 2026-07-28 client's listen stream has been acknowledged.

	if err := e.SetCatalog(echoCatalog(t, "echo", "sleep"), b.Resolve); err != nil {
		t.Fatal(err)
	}
	for _, s := range sessions {
		for deadline := time.Now().Add(waitBound); s.changes.Load() == 0 && time.Now().Before(deadline); {
			time.Sleep(5 * time.Millisecond)
		}
	}
	// The same tools again change nothing.
	if err := e.SetCatalog(echoCatalog(t, "echo", "sleep"), b.Resolve); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // past the SDK's 10 ms debounce
	for _, s := range sessions {
		if n := s.changes.Load(); n != 1 {
			t.Errorf("%s: %d notifications/tools/list_changed, want 1", s.name, n)
		}
	}
	for _, s := range sessions {
		if diff := cmp.Diff([]string{"echo", "sleep"}, listTools(t, s.cs)); diff != "" {
			t.Errorf("%s: tools (-want +got):\n%s", s.name, diff)
		}
		res, err := s.cs.CallTool(ctx, &mcp.CallToolParams{Name: "sleep", Arguments: map[string]any{"ms": 1}})
		if err != nil || res.IsError {
			t.Errorf("%s: sleep: %v %v", s.name, err, res)
		}
		_, err = s.cs.CallTool(ctx, &mcp.CallToolParams{Name: "stream", Arguments: map[string]any{"n": 1}})
		if err == nil || !strings.Contains(err.Error(), `unknown tool "stream"`) {
			t.Errorf("%s: stream after its removal: %v, want unknown tool", s.name, err)
		}
	}
}

// A call of a tool that leaves the catalog while it runs finishes normally.
func TestSetCatalogInFlightCallFinishes(t *testing.T) {
	b := edgetest.Start(t)
	e, err := edge.New(echoCatalog(t, "echo", "sleep"), b.Resolve, &edge.Options{Metrics: observe.NewMetrics(nil)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	srv := httptest.NewServer(e.Handler())
	t.Cleanup(srv.Close)
	c := mcp.NewClient(&mcp.Implementation{Name: "test", Version: "1"}, nil)
	cs := connect(t, c, &mcp.StreamableClientTransport{Endpoint: srv.URL + "/mcp"}, "2025-11-25")
	done := make(chan error, 1)
	go func() {
		res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "sleep", Arguments: map[string]any{"ms": 300}})
		if err == nil && res.IsError {
			err = context.Canceled
		}
		done <- err
	}()
	select {
	case <-b.Echo.Started:
	case <-time.After(waitBound):
		t.Fatal("the call never started")
	}
	if err := e.SetCatalog(echoCatalog(t, "echo"), b.Resolve); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Errorf("the running call: %v", err)
	}
}

func listTools(t *testing.T, cs *mcp.ClientSession) []string {
	t.Helper()
	res, err := cs.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tool := range res.Tools {
		names = append(names, tool.Name)
	}
	return names
}
