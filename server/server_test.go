package server_test

import (
	"context"
	"errors"
	"io"
	"net"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	validatepb "buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go/buf/validate"
	"buf.build/go/protovalidate"
	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"

	echov1 "github.com/toolwire/toolwire/gen/go/examples/echo/v1"
	"github.com/toolwire/toolwire/server"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// waitBound bounds every condition wait. It is generous: the conditions
// normally hold within milliseconds.
const waitBound = 10 * time.Second

// testEcho is an EchoService whose handlers count their calls, and panic on
// request.
type testEcho struct {
	echov1.UnimplementedEchoServiceServer
	calls atomic.Int32
}

func (e *testEcho) Echo(_ context.Context, req *echov1.EchoRequest) (*echov1.EchoResponse, error) {
	e.calls.Add(1)
	if req.GetText() == "panic" {
		panic("boom: secret internals")
	}
	return &echov1.EchoResponse{Text: req.GetText()}, nil
}

func (e *testEcho) Stream(req *echov1.StreamRequest, stream grpc.ServerStreamingServer[echov1.StreamResponse]) error {
	e.calls.Add(1)
	if req.GetN() == 13 {
		panic("boom: secret internals")
	}
	return stream.Send(&echov1.StreamResponse{Kind: &echov1.StreamResponse_Result{Result: "done"}})
}

func (e *testEcho) Sleep(ctx context.Context, req *echov1.SleepRequest) (*echov1.SleepResponse, error) {
	e.calls.Add(1)
	select {
	case <-time.After(time.Duration(req.GetMs()) * time.Millisecond):
		return &echov1.SleepResponse{SleptMs: req.GetMs()}, nil
	case <-ctx.Done():
		return nil, server.ContextError(ctx)
	}
}

// fixture is a Server serving testEcho on an in-memory listener.
type fixture struct {
	srv    *server.Server
	impl   *testEcho
	conn   *grpc.ClientConn
	client echov1.EchoServiceClient
	stop   context.CancelFunc // stops Serve
	served chan error         // Serve's result
}

// start serves testEcho with opts; the registerer defaults to a fresh
// registry so that tests do not share the gauge. Cleanup stops everything.
func start(t *testing.T, opts *server.Options) *fixture {
	t.Helper()
	if opts == nil {
		opts = &server.Options{}
	}
	if opts.Registerer == nil {
		opts.Registerer = prometheus.NewRegistry()
	}
	f := &fixture{srv: server.New(opts), impl: &testEcho{}, served: make(chan error, 1)}
	echov1.RegisterEchoServiceServer(f.srv.GRPC(), f.impl)

	lis := bufconn.Listen(1 << 20)
	ctx, cancel := context.WithCancel(context.Background())
	f.stop = cancel
	go func() { f.served <- f.srv.Serve(ctx, lis) }()

	conn, err := grpc.NewClient("passthrough:///bufnet",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
	)
	if err != nil {
		t.Fatalf("grpc.NewClient: %v", err)
	}
	f.conn = conn
	f.client = echov1.NewEchoServiceClient(conn)
	t.Cleanup(func() {
		conn.Close()
		cancel()
		select {
		case err := <-f.served:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(waitBound):
			t.Errorf("Serve did not return within %v of its context ending", waitBound)
		}
	})
	return f
}

// waitFor polls cond until it holds or waitBound passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitBound)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", waitBound, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestPanicBecomesInternal(t *testing.T) {
	f := start(t, nil)
	tests := []struct {
		name string
		call func(context.Context) error
	}{
		{"unary", func(ctx context.Context) error {
			_, err := f.client.Echo(ctx, &echov1.EchoRequest{Text: "panic"})
			return err
		}},
		{"stream", func(ctx context.Context) error {
			stream, err := f.client.Stream(ctx, &echov1.StreamRequest{N: 13})
			if err != nil {
				return err
			}
			_, err = stream.Recv()
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call(t.Context())
			st := status.Convert(err)
			if st.Code() != codes.Internal {
				t.Fatalf("code = %v (%v), want Internal", st.Code(), err)
			}
			if strings.Contains(st.Message(), "boom") || strings.Contains(st.Message(), "goroutine") {
				t.Errorf("message %q leaks the panic", st.Message())
			}
		})
	}
	// The server survives.
	if _, err := f.client.Echo(t.Context(), &echov1.EchoRequest{Text: "ok"}); err != nil {
		t.Fatalf("Echo after panics: %v", err)
	}
}

func TestInvalidRequestRejectedBeforeHandler(t *testing.T) {
	f := start(t, nil)
	tests := []struct {
		name      string
		call      func(context.Context) error
		wantField string
	}{
		{"stream n over limit", func(ctx context.Context) error {
			stream, err := f.client.Stream(ctx, &echov1.StreamRequest{N: 200000})
			if err != nil {
				return err
			}
			_, err = stream.Recv()
			return err
		}, "n"},
		{"unary ms over limit", func(ctx context.Context) error {
			_, err := f.client.Sleep(ctx, &echov1.SleepRequest{Ms: 700000})
			return err
		}, "ms"},
		{"unary text too long", func(ctx context.Context) error {
			_, err := f.client.Echo(ctx, &echov1.EchoRequest{Text: strings.Repeat("x", 65537)})
			return err
		}, "text"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := f.impl.calls.Load()
			// Bounded, so that a request the handler does run fails
			// rather than hangs.
			ctx, cancel := context.WithTimeout(t.Context(), waitBound)
			defer cancel()
			err := tt.call(ctx)
			st := status.Convert(err)
			if st.Code() != codes.InvalidArgument {
				t.Fatalf("code = %v (%v), want InvalidArgument", st.Code(), err)
			}
			var fields []string
			for _, d := range st.Details() {
				if v, ok := d.(*validatepb.Violations); ok {
					for _, viol := range v.GetViolations() {
						fields = append(fields, protovalidate.FieldPathString(viol.GetField()))
					}
				}
			}
			if diff := cmp.Diff([]string{tt.wantField}, fields); diff != "" {
				t.Errorf("violation fields (-want +got):\n%s", diff)
			}
			if got := f.impl.calls.Load() - before; got != 0 {
				t.Errorf("handler ran %d times for an invalid request", got)
			}
		})
	}
}

func TestHealth(t *testing.T) {
	f := start(t, nil)
	client := healthpb.NewHealthClient(f.conn)
	tests := []struct {
		service  string
		want     healthpb.HealthCheckResponse_ServingStatus
		wantCode codes.Code
	}{
		{"", healthpb.HealthCheckResponse_SERVING, codes.OK},
		{"examples.echo.v1.EchoService", healthpb.HealthCheckResponse_SERVING, codes.OK},
		{"no.such.Service", healthpb.HealthCheckResponse_UNKNOWN, codes.NotFound},
	}
	for _, tt := range tests {
		t.Run(tt.service, func(t *testing.T) {
			var resp *healthpb.HealthCheckResponse
			var err error
			// Serve sets the statuses in its goroutine; wait for it.
			waitFor(t, "health status", func() bool {
				resp, err = client.Check(t.Context(), &healthpb.HealthCheckRequest{Service: tt.service})
				return status.Code(err) == tt.wantCode && resp.GetStatus() == tt.want
			})
		})
	}
}

func TestReflectionListsServices(t *testing.T) {
	f := start(t, nil)
	stream, err := reflectionpb.NewServerReflectionClient(f.conn).ServerReflectionInfo(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	req := &reflectionpb.ServerReflectionRequest{
		MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{ListServices: "*"},
	}
	if err := stream.Send(req); err != nil {
		t.Fatal(err)
	}
	resp, err := stream.Recv()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range resp.GetListServicesResponse().GetService() {
		got = append(got, s.GetName())
	}
	sort.Strings(got)
	want := []string{
		"examples.echo.v1.EchoService",
		"grpc.health.v1.Health",
		"grpc.reflection.v1.ServerReflection",
		"grpc.reflection.v1alpha.ServerReflection",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("services (-want +got):\n%s", diff)
	}
	stream.CloseSend()
}

// TestInFlightGauge uses the default registry, as the package-level
// InFlight does.
func TestInFlightGauge(t *testing.T) {
	const method = "/examples.echo.v1.EchoService/Sleep"
	f := start(t, &server.Options{Registerer: prometheus.DefaultRegisterer})
	// A second server on the same registry reuses the gauge.
	other := server.New(&server.Options{Registerer: prometheus.DefaultRegisterer})
	defer other.GRPC().Stop()

	if got := server.InFlight(method); got != 0 {
		t.Fatalf("InFlight before the call = %v, want 0", got)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		_, err := f.client.Sleep(ctx, &echov1.SleepRequest{Ms: 60000})
		done <- err
	}()
	waitFor(t, "the gauge to reach 1", func() bool { return server.InFlight(method) == 1 })
	if got := other.InFlight(method); got != 1 {
		t.Errorf("InFlight through a server sharing the registry = %v, want 1", got)
	}
	cancel()
	select {
	case err := <-done:
		if status.Code(err) != codes.Canceled {
			t.Errorf("Sleep error = %v, want Canceled", err)
		}
	case <-time.After(waitBound):
		t.Fatal("Sleep did not return after cancel")
	}
	waitFor(t, "the gauge to return to 0", func() bool { return server.InFlight(method) == 0 })
}

func TestGracefulStop(t *testing.T) {
	tests := []struct {
		name     string
		timeout  time.Duration
		sleepMs  uint32
		wantCode codes.Code
	}{
		// The running call finishes before the server stops.
		{"call completes", 10 * time.Second, 300, codes.OK},
		// The running call outlives the timeout and is cut off.
		{"timeout cancels call", 200 * time.Millisecond, 60000, codes.Unavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			f := start(t, &server.Options{Registerer: reg, ShutdownTimeout: tt.timeout})
			done := make(chan error, 1)
			go func() {
				_, err := f.client.Sleep(t.Context(), &echov1.SleepRequest{Ms: tt.sleepMs})
				done <- err
			}()
			waitFor(t, "the call to start", func() bool { return f.srv.InFlight("/examples.echo.v1.EchoService/Sleep") == 1 })
			began := time.Now()
			f.stop()
			var serveErr error
			select {
			case serveErr = <-f.served:
			case <-time.After(waitBound):
				t.Fatal("Serve did not return")
			}
			f.served <- serveErr // for the cleanup check
			if serveErr != nil {
				t.Errorf("Serve = %v, want nil", serveErr)
			}
			if tt.wantCode != codes.OK && time.Since(began) > tt.timeout+5*time.Second {
				t.Errorf("Serve took %v to return, timeout %v", time.Since(began), tt.timeout)
			}
			err := <-done
			if got := status.Code(err); got != tt.wantCode {
				// A call cut off by Stop may surface as Canceled too.
				if !(tt.wantCode == codes.Unavailable && got == codes.Canceled) {
					t.Errorf("call code = %v (%v), want %v", got, err, tt.wantCode)
				}
			}
			// New calls are refused once stopped.
			_, err = f.client.Echo(t.Context(), &echov1.EchoRequest{Text: "x"})
			if err == nil || errors.Is(err, io.EOF) {
				t.Errorf("Echo after stop = %v, want an error", err)
			}
		})
	}
}

func TestServeReturnsListenerError(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	lis.Close()
	s := server.New(&server.Options{Registerer: prometheus.NewRegistry()})
	if err := s.Serve(t.Context(), lis); err == nil {
		t.Error("Serve on a closed listener = nil, want an error")
	}
}
