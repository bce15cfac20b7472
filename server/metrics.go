package server

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// ServeMetrics serves g's metrics (nil means prometheus.DefaultGatherer) as
// Prometheus text on lis at /metrics, until ctx is done. It closes lis.
func ServeMetrics(ctx context.Context, lis net.Listener, g prometheus.Gatherer) error {
	if g == nil {
		g = prometheus.DefaultGatherer
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(g, promhttp.HandlerOpts{}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(lis) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx)
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// StartMetrics listens on addr and serves the default registry's metrics in
// the background until ctx is done; "" does nothing. Backends' Run functions
// use it for their --metrics-addr.
func StartMetrics(ctx context.Context, addr string) error {
	if addr == "" {
		return nil
	}
	lis, err := (&net.ListenConfig{}).Listen(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	go func() { _ = ServeMetrics(ctx, lis, nil) }()
	return nil
}
