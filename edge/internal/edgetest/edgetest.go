// Package edgetest runs a fake echo backend on an in-memory gRPC connection,
// for tests of the edge. The fake counts calls, records metadata, and reports
// when a handler's context ends, so tests can see cancellation reach it.
package edgetest

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/toolwire/toolwire/edge/bridge"
	"github.com/toolwire/toolwire/edge/catalog"
	echov1 "github.com/toolwire/toolwire/gen/go/examples/echo/v1"
	mcpv1 "github.com/toolwire/toolwire/gen/go/toolwire/mcp/v1"
	"github.com/toolwire/toolwire/server"
	"github.com/toolwire/toolwire/server/servertest"
)

// Echo is a fake EchoService.
type Echo struct {
	echov1.UnimplementedEchoServiceServer

	// Calls counts handler invocations of every method.
	Calls atomic.Int64
	// Started receives one value when a Sleep handler starts.
	Started chan struct{}
	// Ended receives the time a Sleep or Stream handler's context ended
	// before the handler finished its work.
	Ended chan time.Time
	// FailWith, when set, makes Echo return this status.
	FailWith atomic.Pointer[status.Status]

	mu     sync.Mutex
	lastMD metadata.MD
}

// LastMetadata returns the incoming metadata of the latest Echo call.
func (e *Echo) LastMetadata() metadata.MD {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.lastMD
}

// Echo returns the text, or FailWith.
func (e *Echo) Echo(ctx context.Context, req *echov1.EchoRequest) (*echov1.EchoResponse, error) {
	e.Calls.Add(1)
	md, _ := metadata.FromIncomingContext(ctx)
	e.mu.Lock()
	e.lastMD = md
	e.mu.Unlock()
	if st := e.FailWith.Load(); st != nil {
		return nil, st.Err()
	}
	return &echov1.EchoResponse{Text: req.GetText()}, nil
}

// Stream sends n progress events and then "done".
func (e *Echo) Stream(req *echov1.StreamRequest, s grpc.ServerStreamingServer[echov1.StreamResponse]) error {
	e.Calls.Add(1)
	total := float64(req.GetN())
	for i := uint32(1); i <= req.GetN(); i++ {
		if req.GetIntervalMs() > 0 {
			select {
			case <-s.Context().Done():
				e.Ended <- time.Now()
				return status.FromContextError(s.Context().Err()).Err()
			case <-time.After(time.Duration(req.GetIntervalMs()) * time.Millisecond):
			}
		}
		if err := s.Send(&echov1.StreamResponse{Kind: &echov1.StreamResponse_Progress{
			Progress: &mcpv1.Progress{Progress: float64(i), Total: &total},
		}}); err != nil {
			return err
		}
	}
	return s.Send(&echov1.StreamResponse{Kind: &echov1.StreamResponse_Result{Result: "done"}})
}

// Sleep waits, and reports on Ended when its context ends first.
func (e *Echo) Sleep(ctx context.Context, req *echov1.SleepRequest) (*echov1.SleepResponse, error) {
	e.Calls.Add(1)
	e.Started <- struct{}{}
	select {
	case <-ctx.Done():
		e.Ended <- time.Now()
		return nil, status.FromContextError(ctx.Err()).Err()
	case <-time.After(time.Duration(req.GetMs()) * time.Millisecond):
		return &echov1.SleepResponse{SleptMs: req.GetMs()}, nil
	}
}

// Backend is a running fake backend.
type Backend struct {
	Echo    *Echo
	Catalog *catalog.Catalog
	Resolve bridge.Resolver
}

// Start serves a fake Echo, behind the backends' interceptor chain, on an
// in-memory connection until the test ends.
func Start(t testing.TB) *Backend {
	t.Helper()
	fake := &Echo{Started: make(chan struct{}, 64), Ended: make(chan time.Time, 64)}
	s := server.New(&server.Options{
		Registerer: prometheus.NewRegistry(),
		Logger:     slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	echov1.RegisterEchoServiceServer(s.GRPC(), fake)
	conn := servertest.Dial(t, s)
	svc := echov1.File_examples_echo_v1_echo_proto.Services().Get(0)
	cat, err := catalog.New([]protoreflect.ServiceDescriptor{svc}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return &Backend{
		Echo:    fake,
		Catalog: cat,
		Resolve: func(name protoreflect.FullName) (grpc.ClientConnInterface, bool) {
			return conn, name == svc.FullName()
		},
	}
}

// Unavailable is a ready-made status for FailWith.
var Unavailable = status.New(codes.Unavailable, "backend is restarting")
