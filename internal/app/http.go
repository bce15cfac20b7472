package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/toolwire/toolwire/edge"
	"github.com/toolwire/toolwire/edge/policy/authn"
	"github.com/toolwire/toolwire/edge/policy/limits"
	echov1 "github.com/toolwire/toolwire/gen/go/examples/echo/v1"
	searchv1 "github.com/toolwire/toolwire/gen/go/examples/search/v1"
)

// gatewayRegistrars register the REST face of each compiled-in service on a
// grpc-gateway mux, by service full name.
var gatewayRegistrars = map[string]func(context.Context, *runtime.ServeMux, *grpc.ClientConn) error{
	"examples.echo.v1.EchoService":     echov1.RegisterEchoServiceHandler,
	"examples.search.v1.SearchService": searchv1.RegisterSearchServiceHandler,
}

// newGateway serves REST/JSON for the services behind conns. JSON uses proto
// field names, as the MCP side does; server streams answer as
// newline-delimited JSON, one {"result": ...} per message.
func newGateway(ctx context.Context, conns map[string]*grpc.ClientConn, opts ...runtime.ServeMuxOption) (http.Handler, error) {
	mux := runtime.NewServeMux(append([]runtime.ServeMuxOption{runtime.WithMarshalerOption(runtime.MIMEWildcard, &runtime.JSONPb{
		MarshalOptions:   protojson.MarshalOptions{UseProtoNames: true},
		UnmarshalOptions: protojson.UnmarshalOptions{},
	})}, opts...)...)
	for svc, conn := range conns {
		if reg, ok := gatewayRegistrars[svc]; ok {
			if err := reg(ctx, mux, conn); err != nil {
				return nil, fmt.Errorf("REST gateway for %s: %w", svc, err)
			}
		}
	}
	return mux, nil
}

// routes is the edge process's HTTP surface. Load shedding comes first, so
// that a shed request costs no more than an atomic add; then the body limit
// on the routes that read bodies. The edge's handler adds authentication and
// the per-principal rate limit; the gateway arrives with them (serveEdge).
func routes(e *edge.Edge, gateway http.Handler, gov *governance) http.Handler {
	mux := http.NewServeMux()
	mcp := limits.MaxBytes(e.Handler(), gov.cfg.MaxBodyBytes)
	mux.Handle("/mcp", mcp)
	mux.Handle("/sse", mcp)
	// The protected resource metadata, when authentication is on.
	mux.Handle(authn.WellKnownPath, mcp)
	mux.Handle(authn.WellKnownPath+"/", mcp)
	mux.Handle("/api/", limits.MaxBytes(gateway, gov.cfg.MaxBodyBytes))
	mux.Handle("/metrics", promhttp.Handler())
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"ok"}` + "\n"))
	})
	return gov.shed(mux)
}

// serveHTTP serves h on lis until ctx is done, then shuts down gracefully:
// new connections stop, open streams see their request context end. lc
// bounds header reading, header size and idle connections (the connection
// bound is lis's: serveEdge puts it under TLS); ReadTimeout and WriteTimeout
// stay unset, as streams outlive any fixed bound (see
// limits.ConfigureServer).
func serveHTTP(ctx context.Context, lis net.Listener, h http.Handler, lc LimitsConfig, logger *slog.Logger) error {
	base, cancelBase := context.WithCancel(context.Background())
	defer cancelBase()
	srv := &http.Server{
		Handler:     h,
		BaseContext: func(net.Listener) context.Context { return base },
		// net/http's own complaints (TLS handshake errors, panics in
		// handlers) go to the process's structured log, not raw stderr.
		ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	limits.ConfigureServer(srv, &limits.ServerOptions{
		ReadHeaderTimeout: lc.ReadHeaderTimeout,
		IdleTimeout:       lc.IdleTimeout,
		MaxHeaderBytes:    lc.MaxHeaderBytes,
	})
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(lis) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	cancelBase() // ends SSE and other long-lived streams
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		_ = srv.Close()
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
