// Package ref holds what the reference servers share: the flags, the HTTP
// server with /mcp and /metrics on one mux, and the gauge that records when a
// sleep handler was cancelled, exactly as toolwire's echo backend does
// (toolwire_echo_sleep_cancelled_at_seconds).
package ref

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// SleepCancelledMetric is the gauge's name, the same as the echo backend's.
const SleepCancelledMetric = "toolwire_echo_sleep_cancelled_at_seconds"

var gauge = sync.OnceValue(func() prometheus.Gauge {
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: SleepCancelledMetric,
		Help: "When a sleep handler last saw its context end before its time was up, in Unix seconds (nanosecond precision).",
	})
	if err := prometheus.DefaultRegisterer.Register(g); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(prometheus.Gauge); ok {
				return existing
			}
		}
	}
	return g
})

// Sleep waits d, or until ctx is done; then it records the time in the
// gauge and returns ctx's error.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		gauge().Set(float64(time.Now().UnixNano()) / 1e9)
		return ctx.Err()
	}
}

// Main parses the flags (--addr, and any the program defined), serves the
// handler that build returns at /mcp and the default registry at /metrics
// on --addr until SIGINT or SIGTERM, and exits.
func Main(name string, build func() http.Handler) {
	addr := flag.String("addr", "127.0.0.1:7080", "address to listen on, HOST:PORT (loopback)")
	flag.Parse()
	gauge()
	mux := http.NewServeMux()
	mux.Handle("/mcp", build())
	mux.Handle("/metrics", promhttp.Handler())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	lis, err := (&net.ListenConfig{}).Listen(ctx, "tcp", *addr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		os.Exit(1)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(lis) }()
	log.Printf("%s listening on http://%s/mcp", name, lis.Addr())
	select {
	case err := <-errc:
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		os.Exit(1)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx)
	_ = srv.Close()
}

// Wait waits d or until ctx is done, and returns ctx's error if it is.
func Wait(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
