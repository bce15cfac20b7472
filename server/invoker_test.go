package server_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	echov1 "github.com/toolwire/toolwire/gen/go/examples/echo/v1"
	"github.com/toolwire/toolwire/server"
	"github.com/toolwire/toolwire/server/servertest"
)

// seen records what an interceptor placed after the standard ones saw.
type seen struct {
	method   string
	md       metadata.MD
	outgoing bool
}

func invokerFixture(t *testing.T) (*server.Server, *testEcho, echov1.EchoServiceClient, *seen) {
	t.Helper()
	var last seen
	s := server.New(&server.Options{
		Registerer: prometheus.NewRegistry(),
		UnaryInterceptors: []grpc.UnaryServerInterceptor{
			func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
				last.method, _ = grpc.Method(ctx)
				last.md, _ = metadata.FromIncomingContext(ctx)
				out, _ := metadata.FromOutgoingContext(ctx)
				last.outgoing = len(out) > 0
				return h(ctx, req)
			},
		},
	})
	impl := &testEcho{}
	echov1.RegisterEchoServiceServer(s, impl)
	return s, impl, echov1.NewEchoServiceClient(s.Invoker()), &last
}

func TestInvoker(t *testing.T) {
	_, impl, client, last := invokerFixture(t)
	ctx := metadata.AppendToOutgoingContext(t.Context(), "X-Request-Id", "req-7", "traceparent", "tp")
	req := &echov1.EchoRequest{Text: "hi"}
	resp, err := client.Echo(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.GetText() != "hi" || impl.calls.Load() != 1 {
		t.Errorf("Echo = %q after %d calls, want \"hi\" after 1", resp.GetText(), impl.calls.Load())
	}
	if last.method != "/examples.echo.v1.EchoService/Echo" {
		t.Errorf("grpc.Method = %q", last.method)
	}
	if got := last.md.Get("x-request-id"); len(got) != 1 || got[0] != "req-7" {
		t.Errorf("incoming x-request-id = %q, want [req-7]", got)
	}
	if got := last.md.Get("traceparent"); len(got) != 1 || got[0] != "tp" {
		t.Errorf("incoming traceparent = %q, want [tp]", got)
	}
	if last.outgoing {
		t.Error("the handler's context carries the caller's outgoing metadata")
	}
}

func TestInvokerChain(t *testing.T) {
	s, impl, client, _ := invokerFixture(t)
	t.Run("panic", func(t *testing.T) {
		_, err := client.Echo(t.Context(), &echov1.EchoRequest{Text: "panic"})
		if st := status.Convert(err); st.Code() != codes.Internal || strings.Contains(st.Message(), "boom") {
			t.Errorf("panic = %v, want Internal without the panic value", err)
		}
	})
	t.Run("invalid", func(t *testing.T) {
		before := impl.calls.Load()
		_, err := client.Echo(t.Context(), &echov1.EchoRequest{Text: strings.Repeat("x", 65537)})
		if status.Code(err) != codes.InvalidArgument {
			t.Errorf("invalid request = %v, want InvalidArgument", err)
		}
		if impl.calls.Load() != before {
			t.Error("the handler ran for an invalid request")
		}
	})
	t.Run("in flight and cancellation", func(t *testing.T) {
		const method = "/examples.echo.v1.EchoService/Sleep"
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() {
			_, err := client.Sleep(ctx, &echov1.SleepRequest{Ms: 60000})
			done <- err
		}()
		waitFor(t, "the gauge to reach 1", func() bool { return s.InFlight(method) == 1 })
		cancel()
		select {
		case err := <-done:
			if status.Code(err) != codes.Canceled {
				t.Errorf("Sleep = %v, want Canceled", err)
			}
		case <-time.After(waitBound):
			t.Fatal("Sleep did not return after cancel")
		}
		if got := s.InFlight(method); got != 0 {
			t.Errorf("gauge after the call = %v, want 0", got)
		}
	})
	t.Run("deadline", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Millisecond)
		defer cancel()
		if _, err := client.Sleep(ctx, &echov1.SleepRequest{Ms: 60000}); status.Code(err) != codes.DeadlineExceeded {
			t.Errorf("Sleep past its deadline = %v, want DeadlineExceeded", err)
		}
	})
	t.Run("already cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		before := impl.calls.Load()
		if _, err := client.Echo(ctx, &echov1.EchoRequest{Text: "x"}); status.Code(err) != codes.Canceled {
			t.Errorf("Echo on a cancelled context = %v, want Canceled", err)
		}
		if impl.calls.Load() != before {
			t.Error("the handler ran for a cancelled call")
		}
	})
	t.Run("streams", func(t *testing.T) {
		stream, err := client.Stream(t.Context(), &echov1.StreamRequest{N: 1})
		if err == nil {
			_, err = stream.Recv()
		}
		if status.Code(err) != codes.Unimplemented {
			t.Errorf("Stream = %v, want Unimplemented", err)
		}
	})
	t.Run("unknown method", func(t *testing.T) {
		err := s.Invoker().Invoke(t.Context(), "/no.Such/Method", &echov1.EchoRequest{}, &echov1.EchoResponse{})
		if status.Code(err) != codes.Unimplemented {
			t.Errorf("unknown method = %v, want Unimplemented", err)
		}
	})
}

// TestInvokerCopies checks that neither side keeps the other's messages.
func TestInvokerCopies(t *testing.T) {
	_, _, client, _ := invokerFixture(t)
	req := &echov1.EchoRequest{Text: "a"}
	resp, err := client.Echo(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	req.Text = "changed"
	if resp.GetText() != "a" {
		t.Errorf("the response changed with the request: %q", resp.GetText())
	}
}

// TestRegisterServiceServesNetworkToo checks that a service registered on
// the Server is served over gRPC as well, and that one registered on GRPC()
// directly is not callable in process.
func TestRegisterServiceServesNetworkToo(t *testing.T) {
	s, _, _, _ := invokerFixture(t)
	resp, err := echov1.NewEchoServiceClient(servertest.Dial(t, s)).Echo(t.Context(), &echov1.EchoRequest{Text: "net"})
	if err != nil || resp.GetText() != "net" {
		t.Errorf("Echo over gRPC = %q, %v", resp.GetText(), err)
	}

	direct := server.New(&server.Options{Registerer: prometheus.NewRegistry()})
	echov1.RegisterEchoServiceServer(direct.GRPC(), &testEcho{})
	_, err = echov1.NewEchoServiceClient(direct.Invoker()).Echo(t.Context(), &echov1.EchoRequest{Text: "x"})
	if status.Code(err) != codes.Unimplemented {
		t.Errorf("in-process call of a service registered on GRPC() = %v, want Unimplemented", err)
	}
}
