package echo_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	echov1 "github.com/toolwire/toolwire/gen/go/examples/echo/v1"
	"github.com/toolwire/toolwire/server"
	"github.com/toolwire/toolwire/server/servertest"
	"github.com/toolwire/toolwire/services/echo"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// waitBound bounds condition waits and "returns promptly" checks; the
// conditions normally hold within milliseconds.
const waitBound = 5 * time.Second

// serve runs the echo service through server.New on an in-memory listener.
func serve(t *testing.T) (echov1.EchoServiceClient, *server.Server) {
	t.Helper()
	s := server.New(&server.Options{Registerer: prometheus.NewRegistry()})
	echo.Register(s.GRPC())
	conn := servertest.Dial(t, s)
	return echov1.NewEchoServiceClient(conn), s
}

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

func TestEcho(t *testing.T) {
	client, _ := serve(t)
	for _, text := range []string{"", "hello", "ünïcødé ✓"} {
		t.Run(text, func(t *testing.T) {
			resp, err := client.Echo(t.Context(), &echov1.EchoRequest{Text: text})
			if err != nil {
				t.Fatal(err)
			}
			if resp.GetText() != text {
				t.Errorf("Echo(%q) = %q", text, resp.GetText())
			}
		})
	}
}

// describe renders a stream message for comparison.
func describe(m *echov1.StreamResponse) string {
	switch k := m.GetKind().(type) {
	case *echov1.StreamResponse_Progress:
		return fmt.Sprintf("progress %v/%v", k.Progress.GetProgress(), k.Progress.GetTotal())
	case *echov1.StreamResponse_Result:
		return "result " + k.Result
	default:
		return fmt.Sprintf("unexpected %T", k)
	}
}

func TestStream(t *testing.T) {
	client, _ := serve(t)
	tests := []struct {
		n, intervalMs uint32
	}{
		{0, 0},
		{1, 0},
		{5, 0},
		{1000, 0},
		{3, 20},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("n=%d,interval=%d", tt.n, tt.intervalMs), func(t *testing.T) {
			start := time.Now()
			stream, err := client.Stream(t.Context(), &echov1.StreamRequest{N: tt.n, IntervalMs: tt.intervalMs})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for {
				m, err := stream.Recv()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, describe(m))
			}
			var want []string
			for i := uint32(1); i <= tt.n; i++ {
				want = append(want, fmt.Sprintf("progress %d/%d", i, tt.n))
			}
			want = append(want, "result done")
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("messages (-want +got):\n%s", diff)
			}
			if min := time.Duration(tt.n*tt.intervalMs) * time.Millisecond; time.Since(start) < min {
				t.Errorf("stream took %v, want at least n*interval = %v", time.Since(start), min)
			}
		})
	}
}

func TestStreamStopsWhenCancelled(t *testing.T) {
	const method = "/examples.echo.v1.EchoService/Stream"
	tests := []struct {
		name       string
		intervalMs uint32
	}{
		{"waiting between events", 20},
		{"back to back", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client, s := serve(t)
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			stream, err := client.Stream(ctx, &echov1.StreamRequest{N: 100000, IntervalMs: tt.intervalMs})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := stream.Recv(); err != nil {
				t.Fatal(err)
			}
			cancel()
			for {
				if _, err = stream.Recv(); err != nil {
					break
				}
			}
			if status.Code(err) != codes.Canceled {
				t.Errorf("Recv after cancel = %v, want Canceled", err)
			}
			// The handler itself returns: the gauge drops back to 0.
			waitFor(t, "the handler to return", func() bool { return s.InFlight(method) == 0 })
		})
	}
}

func TestSleep(t *testing.T) {
	client, _ := serve(t)
	start := time.Now()
	resp, err := client.Sleep(t.Context(), &echov1.SleepRequest{Ms: 50})
	if err != nil {
		t.Fatal(err)
	}
	if resp.GetSleptMs() < 50 {
		t.Errorf("slept_ms = %d, want >= 50", resp.GetSleptMs())
	}
	if elapsed := time.Since(start); elapsed < 50*time.Millisecond {
		t.Errorf("Sleep returned after %v, want >= 50ms", elapsed)
	}
}

func TestSleepStopsWhenCallEnds(t *testing.T) {
	const method = "/examples.echo.v1.EchoService/Sleep"
	tests := []struct {
		name string
		// end ends the call once the handler runs.
		ctx      func(context.Context) (context.Context, func(), context.CancelFunc)
		wantCode codes.Code
	}{
		{"cancel", func(parent context.Context) (context.Context, func(), context.CancelFunc) {
			ctx, cancel := context.WithCancel(parent)
			return ctx, cancel, cancel
		}, codes.Canceled},
		{"deadline", func(parent context.Context) (context.Context, func(), context.CancelFunc) {
			ctx, cancel := context.WithTimeout(parent, 200*time.Millisecond)
			return ctx, func() {}, cancel
		}, codes.DeadlineExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client, s := serve(t)
			ctx, end, cancel := tt.ctx(t.Context())
			defer cancel()
			done := make(chan error, 1)
			go func() {
				_, err := client.Sleep(ctx, &echov1.SleepRequest{Ms: 600000})
				done <- err
			}()
			waitFor(t, "the handler to start", func() bool { return s.InFlight(method) == 1 })
			end()
			select {
			case err := <-done:
				if got := status.Code(err); got != tt.wantCode {
					t.Errorf("Sleep = %v, want %v", err, tt.wantCode)
				}
			case <-time.After(waitBound):
				t.Fatalf("Sleep did not return within %v of the call ending", waitBound)
			}
			waitFor(t, "the handler to return", func() bool { return s.InFlight(method) == 0 })
		})
	}
}

func TestRun(t *testing.T) {
	t.Run("stops when ctx is done", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- echo.Run(ctx, echo.Config{Addr: "127.0.0.1:0"}) }()
		time.Sleep(50 * time.Millisecond)
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run = %v, want nil", err)
			}
		case <-time.After(waitBound):
			t.Fatal("Run did not return")
		}
	})
	t.Run("bad address", func(t *testing.T) {
		if err := echo.Run(t.Context(), echo.Config{Addr: "256.0.0.1:http"}); err == nil {
			t.Error("Run with a bad address = nil, want an error")
		}
	})
}
