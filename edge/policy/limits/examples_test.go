package limits_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/toolwire/toolwire/edge/policy/limits"
)

func ExampleLimiter() {
	l := limits.NewLimiter(&limits.Options{
		Global:       limits.Limit{MaxInFlight: 100, MaxQueue: 50},
		PerPrincipal: limits.Limit{MaxInFlight: 1},
		WaitTimeout:  time.Second,
		Registerer:   prometheus.NewRegistry(),
	})
	release, err := l.Acquire(context.Background(), "alice", "search")
	fmt.Println(err)
	_, err = l.Acquire(context.Background(), "alice", "search")
	fmt.Println(errors.Is(err, limits.ErrQueueFull), err)
	release()
	// Output:
	// <nil>
	// true limits: principal concurrency: wait queue full
}

// The pieces around an edge's http.Server.
func ExampleConfigureServer() {
	reg := prometheus.NewRegistry()
	calls := limits.NewLimiter(&limits.Options{Global: limits.Limit{MaxInFlight: 256, MaxQueue: 64}, Registerer: reg})
	var mcp http.Handler = http.NotFoundHandler() // the MCP handler

	srv := &http.Server{Handler: limits.Shed(limits.MaxBytes(mcp, 0), &limits.ShedOptions{
		MaxInFlight: 1024,
		Overloaded:  calls.Saturated,
		Registerer:  reg,
	})}
	limits.ConfigureServer(srv, nil)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return
	}
	ln := limits.LimitListener(l, 4096, &limits.ListenerOptions{Registerer: reg})
	defer ln.Close() // a real edge runs srv.Serve(ln)
	fmt.Println(srv.ReadHeaderTimeout, srv.IdleTimeout, srv.MaxHeaderBytes)
	// Output: 5s 2m0s 65536
}

// A streaming handler: the guard cancels the call when the client stops
// reading, and the stream cannot outlive its maximum duration.
func ExampleNewStreamGuard() {
	handler := func(w http.ResponseWriter, r *http.Request) {
		ctx, stop := limits.WithMaxDuration(r.Context(), 10*time.Minute)
		defer stop()
		ctx, cancel := context.WithCancelCause(ctx)
		defer cancel(nil)
		g := limits.NewStreamGuard(w, cancel, nil)
		defer g.Close()
		g.Header().Set("Content-Type", "text/event-stream")
		for i := 0; i < 3 && ctx.Err() == nil; i++ { // for each message of the gRPC stream opened with ctx
			if _, err := g.Write([]byte("data: {}\n\n")); err != nil {
				return // abandoned: ctx is cancelled, and with it the gRPC call
			}
		}
	}
	_ = handler
}
