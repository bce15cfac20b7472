package app

import (
	"context"
	"log/slog"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/reflection"
	reflectiongrpc "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/reflect/protoregistry"
)

// mutableServices is a reflection service list that a test changes.
type mutableServices struct {
	mu    sync.Mutex
	names []string
}

func (m *mutableServices) set(names ...string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.names = names
}

func (m *mutableServices) GetServiceInfo() map[string]grpc.ServiceInfo {
	m.mu.Lock()
	defer m.mu.Unlock()
	return serviceList(m.names).GetServiceInfo()
}

// A backend redeployed with other services: the refresher reads them again,
// the edge's sessions are told, and tools/list follows.
func TestCatalogFollowsBackendServices(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	fd := notesFile(t)
	services := &mutableServices{}
	services.set(string(fd.Services().Get(0).FullName()))
	s := grpc.NewServer(grpc.UnknownServiceHandler(func(any, grpc.ServerStream) error {
		return status.Error(codes.Unimplemented, "not in this test")
	}))
	files := new(protoregistry.Files)
	if err := files.RegisterFile(fd); err != nil {
		t.Fatal(err)
	}
	reflectiongrpc.RegisterServerReflectionServer(s, reflection.NewServerV1(reflection.ServerOptions{
		Services: services, DescriptorResolver: files,
	}))
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.Serve(lis) }()
	t.Cleanup(s.Stop)

	edgeAddr := freeAddr(t)
	var logs syncBuffer
	served := make(chan error, 1)
	go func() {
		served <- Serve(ctx, Config{Addr: edgeAddr, Backends: []string{lis.Addr().String()}, CatalogRefresh: 50 * time.Millisecond,
			Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	}()
	var changes atomic.Int32
	c := mcp.NewClient(&mcp.Implementation{Name: "t", Version: "1"}, &mcp.ClientOptions{
		ToolListChangedHandler: func(context.Context, *mcp.ToolListChangedRequest) { changes.Add(1) },
	})
	var cs *mcp.ClientSession
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if cs, err = c.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: "http://" + edgeAddr + "/mcp"}, nil); err == nil {
			break
		}
		select {
		case err := <-served:
			t.Fatalf("Serve ended: %v\n%s", err, logs.String())
		default:
		}
	}
	if err != nil {
		t.Fatalf("edge never came up: %v\n%s", err, logs.String())
	}
	defer cs.Close()
	tools := func() []string {
		t.Helper()
		res, err := cs.ListTools(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, tool := range res.Tools {
			names = append(names, tool.Name)
		}
		slices.Sort(names)
		return names
	}
	if diff := cmp.Diff([]string{"notes.add", "watch_notes"}, tools()); diff != "" {
		t.Fatalf("tools at start (-want +got):\n%s", diff)
	}
	time.Sleep(200 * time.Millisecond) // a few refreshes that change nothing
	if n := changes.Load(); n != 0 {
		t.Fatalf("%d list changes before any change", n)
	}

	services.set("examples.echo.v1.EchoService")
	for deadline := time.Now().Add(10 * time.Second); changes.Load() == 0 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if changes.Load() == 0 {
		t.Fatalf("no notifications/tools/list_changed\n%s", logs.String())
	}
	if diff := cmp.Diff([]string{"echo", "sleep", "stream"}, tools()); diff != "" {
		t.Errorf("tools after the change (-want +got):\n%s", diff)
	}
	time.Sleep(200 * time.Millisecond)
	if n := changes.Load(); n != 1 {
		t.Errorf("%d list changes, want 1", n)
	}
}
