package server_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/net/http2"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	echov1 "github.com/toolwire/toolwire/gen/go/examples/echo/v1"
	"github.com/toolwire/toolwire/server"
)

// TestMessageSizeLimits checks Options.MaxMessageBytes: a request over it
// is refused before the handler runs.
func TestMessageSizeLimits(t *testing.T) {
	f := start(t, &server.Options{MaxMessageBytes: 1 << 10})
	ctx := context.Background()

	if _, err := f.client.Echo(ctx, &echov1.EchoRequest{Text: strings.Repeat("x", 900)}); err != nil {
		t.Fatalf("a message under the bound: %v", err)
	}
	calls := f.impl.calls.Load()
	_, err := f.client.Echo(ctx, &echov1.EchoRequest{Text: strings.Repeat("x", 2<<10)})
	if status.Code(err) != codes.ResourceExhausted || !strings.Contains(err.Error(), "larger than max") {
		t.Errorf("request over the bound: %v; want ResourceExhausted, larger than max", err)
	}
	if n := f.impl.calls.Load(); n != calls {
		t.Errorf("the handler ran for a request over the bound")
	}
}

// TestDefaultMessageSizeLimit checks that a server without options refuses
// a request over DefaultMaxMessageBytes.
func TestDefaultMessageSizeLimit(t *testing.T) {
	f := start(t, nil)
	_, err := f.client.Echo(context.Background(), &echov1.EchoRequest{Text: strings.Repeat("x", server.DefaultMaxMessageBytes+1)})
	if status.Code(err) != codes.ResourceExhausted {
		t.Errorf("request over the default bound: %v; want ResourceExhausted", err)
	}
}

// TestKeepaliveEnforcement pings a server faster than
// DefaultKeepaliveMinTime allows, with raw HTTP/2 frames (grpc-go's own
// client will not ping faster than every 10 s), and expects the GOAWAY
// ENHANCE_YOUR_CALM "too_many_pings" that closes such a client.
func TestKeepaliveEnforcement(t *testing.T) {
	s := server.New(&server.Options{Registerer: prometheus.NewRegistry()})
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, lis) }()
	t.Cleanup(func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})

	conn, err := net.Dial("tcp", lis.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second)) // a bound on a broken test, not a measurement
	if _, err := conn.Write([]byte(http2.ClientPreface)); err != nil {
		t.Fatal(err)
	}
	fr := http2.NewFramer(conn, conn)
	if err := fr.WriteSettings(); err != nil {
		t.Fatal(err)
	}
	// The server allows a couple of early pings (its strike count), so send
	// more than that at once.
	for i := range 5 {
		if err := fr.WritePing(false, [8]byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
	}
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			t.Fatalf("reading frames: %v; want a GOAWAY", err)
		}
		if ga, ok := f.(*http2.GoAwayFrame); ok {
			if ga.ErrCode != http2.ErrCodeEnhanceYourCalm || string(ga.DebugData()) != "too_many_pings" {
				t.Errorf("GOAWAY %v %q; want ENHANCE_YOUR_CALM \"too_many_pings\"", ga.ErrCode, ga.DebugData())
			}
			return
		}
	}
}
