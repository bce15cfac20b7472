package app

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"time"

	"google.golang.org/grpc"

	"github.com/toolwire/toolwire/edge"
	"github.com/toolwire/toolwire/edge/policy/limits"
	"github.com/toolwire/toolwire/internal/credential"
	"github.com/toolwire/toolwire/internal/tlsfiles"
	"github.com/toolwire/toolwire/server"
)

// backendWait is how long serve waits for a backend to answer at start.
const backendWait = 30 * time.Second

// Serve runs the edge alone, fronting the backends at cfg.Backends, until ctx
// is done.
func Serve(ctx context.Context, cfg Config) error {
	if len(cfg.Backends) == 0 {
		return fmt.Errorf("serve: no --backend given")
	}
	addr := cfg.Addr
	if addr == "" {
		addr = "127.0.0.1:7070"
	}
	if err := checkListen(addr, cfg); err != nil {
		return err
	}
	edgeTLS, err := cfg.edgeTLS()
	if err != nil {
		return err
	}
	creds, err := cfg.backendCredentials()
	if err != nil {
		return err
	}
	sec, err := newSecurity(ctx, cfg, nil)
	if err != nil {
		return err
	}
	b, err := dialBackends(ctx, cfg.Backends, creds, backendWait, cfg.logger(), limitsOf(cfg).dialOptions()...)
	if err != nil {
		return err
	}
	defer b.close()
	return serveEdge(ctx, cfg, b, sec, edgeTLS, nil)
}

// Demo runs the edge with the example backends in this process, on in-memory
// gRPC connections, until ctx is done.
//
// With authentication on, the edge mints a credential for each backend call
// with an ephemeral key pair, and the backends require it: a gRPC or REST
// call that bypasses the edge's authentication is refused.
func Demo(ctx context.Context, cfg Config) error {
	if !cfg.authOn() {
		if err := loopbackOnly(cfg.Addr); err != nil {
			return err
		}
	}
	var key ed25519.PrivateKey
	var verify ed25519.PublicKey
	if cfg.authOn() {
		var err error
		if verify, key, err = credential.GenerateKey(); err != nil {
			return err
		}
	}
	edgeTLS, err := cfg.edgeTLS()
	if err != nil {
		return err
	}
	sec, err := newSecurity(ctx, cfg, key)
	if err != nil {
		return err
	}
	b, stop, err := startDemoBackends(ctx, cfg, verify)
	if err != nil {
		return err
	}
	defer stop()
	return serveEdge(ctx, cfg, b, sec, edgeTLS, printBanner)
}

// Stdio serves the demo's tools over stdio (in, out) until in ends.
func Stdio(ctx context.Context, cfg Config, in io.ReadCloser, out io.WriteCloser) error {
	var b *backends
	var err error
	if len(cfg.Backends) > 0 {
		creds, cerr := cfg.backendCredentials()
		if cerr != nil {
			return cerr
		}
		b, err = dialBackends(ctx, cfg.Backends, creds, backendWait, cfg.logger(), limitsOf(cfg).dialOptions()...)
		if err != nil {
			return err
		}
		defer b.close()
	} else {
		var stop func()
		b, stop, err = startDemoBackends(ctx, cfg, nil)
		if err != nil {
			return err
		}
		defer stop()
	}
	// stdio is trusted local use: no authentication, no credentials. Rate
	// and concurrency limits still apply, to the one local principal.
	gov, err := newGovernance(ctx, cfg)
	if err != nil {
		return err
	}
	defer gov.close()
	e, err := newEdge(cfg, b, security{}, gov)
	if err != nil {
		return err
	}
	rctx, stopRefresh := context.WithCancel(ctx)
	defer stopRefresh()
	refreshCatalog(rctx, e, b, cfg.CatalogRefresh, cfg.logger())
	return e.ServeStdio(ctx, in, out)
}

// Tools prints the catalog of the demo's services as JSON.
func Tools(ctx context.Context, cfg Config) error {
	svcs, err := cfg.selectedServices()
	if err != nil {
		return err
	}
	b := newBackends()
	for _, svc := range svcs {
		b.conns[svc.name] = nil
	}
	cat, err := b.catalog()
	if err != nil {
		return err
	}
	js, err := cat.JSON()
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(out(cfg), string(js))
	return err
}

func out(cfg Config) io.Writer {
	if cfg.Out != nil {
		return cfg.Out
	}
	return os.Stdout
}

func newEdge(cfg Config, b *backends, sec security, gov *governance) (*edge.Edge, error) {
	cat, err := b.catalog()
	if err != nil {
		return nil, err
	}
	lim, err := gov.edgeLimits(cat)
	if err != nil {
		return nil, err
	}
	stateKey, err := readStateKey(cfg.StateKeyFile)
	if err != nil {
		return nil, err
	}
	return edge.New(cat, b.resolver(), &edge.Options{
		StateKey:         stateKey,
		Version:          cfg.Version,
		Logger:           cfg.logger(),
		DefaultTimeout:   cfg.DefaultTimeout,
		MaxTimeout:       cfg.MaxTimeout,
		AllowedHosts:     cfg.AllowedHosts,
		AllowedOrigins:   cfg.AllowedOrigins,
		Auth:             sec.auth,
		ResourceMetadata: sec.metadata,
		Credentials:      sec.minter,
		Limits:           lim,
		KeepAlive:        gov.cfg.keepAlive(),
		PageSize:         cfg.PageSize,
		Tasks:            gov.tasks(),
	})
}

// serveEdge serves the edge's HTTP surface on cfg.Addr, over TLS when
// edgeTLS is not nil, until ctx is done.
func serveEdge(ctx context.Context, cfg Config, b *backends, sec security, edgeTLS *tlsfiles.Files, banner func(Config, net.Addr)) error {
	gov, err := newGovernance(ctx, cfg)
	if err != nil {
		return err
	}
	defer gov.close()
	e, err := newEdge(cfg, b, sec, gov)
	if err != nil {
		return err
	}
	gov.logLimits(cfg.logger())
	rctx, stopRefresh := context.WithCancel(ctx)
	defer stopRefresh()
	refreshCatalog(rctx, e, b, cfg.CatalogRefresh, cfg.logger())
	gw, err := newGateway(ctx, b.conns, sec.gatewayOptions()...)
	if err != nil {
		return err
	}
	addr := cfg.Addr
	if addr == "" {
		addr = "127.0.0.1:7070"
	}
	lis, err := (&net.ListenConfig{}).Listen(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	// The connection bound goes under TLS: it counts TCP connections, and
	// net/http must see each *tls.Conn to serve HTTP/2 on it.
	lis = tlsListener(limits.LimitListener(lis, gov.cfg.MaxConnections, nil), edgeTLS)
	if banner != nil {
		banner(cfg, lis.Addr())
	}
	cfg.logger().Info("edge listening", "addr", lis.Addr().String(), "tls", edgeTLS != nil)
	// REST requests draw on the same per-principal budget as MCP's, once
	// authenticated.
	err = serveHTTP(ctx, lis, routes(e, sec.protectREST(e.AdmitHTTP(gw)), gov), gov.cfg, cfg.logger())
	// The sessions' GET streams live outside net/http's shutdown.
	e.Close()
	return err
}

// demoService is one example backend the demo runs in process.
type demoService struct {
	short    string // its name in Config.Services: "echo"
	name     string // service full name
	register func(ctx context.Context, s *grpc.Server, cfg Config) (stop func(), err error)
}

// startDemoBackends serves the example services in this process, each on
// its own gRPC server with the shared interceptor chain, reached over an
// in-memory connection: the same gRPC path as a remote backend, without a
// port.
//
// With verify set, every backend requires a credential the edge minted with
// its private half, for that backend's service.
func startDemoBackends(ctx context.Context, cfg Config, verify ed25519.PublicKey) (*backends, func(), error) {
	svcs, err := cfg.selectedServices()
	if err != nil {
		return nil, nil, err
	}
	b := newBackends()
	var stops []func()
	stopAll := func() {
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
	}
	for _, svc := range svcs {
		opts := &server.Options{Logger: cfg.logger()}
		if verify != nil {
			v, err := credential.NewVerifier([]ed25519.PublicKey{verify}, []string{svc.name}, nil)
			if err != nil {
				stopAll()
				return nil, nil, err
			}
			opts.Credentials = v
		}
		s := server.New(opts)
		stopSvc, err := svc.register(ctx, s.GRPC(), cfg)
		if err != nil {
			stopAll()
			return nil, nil, fmt.Errorf("demo %s: %w", svc.name, err)
		}
		sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		conn, served, err := s.ServeInMemory(sctx, limitsOf(cfg).dialOptions()...)
		if err != nil {
			cancel()
			stopAll()
			return nil, nil, err
		}
		stops = append(stops, func() {
			_ = conn.Close()
			cancel()
			if err := <-served; err != nil {
				cfg.logger().Error("demo backend stopped", "service", svc.name, "error", err)
			}
			if stopSvc != nil {
				stopSvc()
			}
		})
		if err := b.add(conn, svc.name); err != nil {
			stopAll()
			return nil, nil, err
		}
	}
	return b, stopAll, nil
}

// loopbackOnly refuses a demo address other people could reach: the demo
// runs with authentication off.
func loopbackOnly(addr string) error {
	if addr == "" {
		return nil
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("demo: --addr %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("demo: --addr %q: the demo has authentication off and binds loopback only (127.0.0.1, ::1, localhost); use `toolwire serve` to listen elsewhere", addr)
	}
	return nil
}

func printBanner(cfg Config, addr net.Addr) {
	base := cfg.scheme() + "://" + addr.String()
	w := out(cfg)
	svcs, _ := cfg.selectedServices() // Demo has checked them
	served := servedPhrase(svcs)
	if cfg.authOn() {
		fmt.Fprintf(w, "toolwire demo: edge with %s, listening on %s (auth is on)\n", served, addr)
	} else {
		fmt.Fprintf(w, "toolwire demo: edge with %s, listening on %s (loopback only; auth is off)\n", served, addr)
	}
	fmt.Fprintf(w, "  MCP Streamable HTTP  %s/mcp\n", base)
	fmt.Fprintf(w, "  MCP legacy SSE       %s/sse\n", base)
	if slices.ContainsFunc(svcs, func(s demoService) bool { return s.short == "echo" }) {
		fmt.Fprintf(w, "  REST                 %s/api/v1/echo  (POST {\"text\":\"hi\"})\n", base)
	}
	fmt.Fprintf(w, "  metrics              %s/metrics\n", base)
	fmt.Fprintf(w, "  health               %s/healthz\n", base)
	snippet, _ := json.MarshalIndent(map[string]any{
		"mcpServers": map[string]any{"toolwire": map[string]any{"type": "http", "url": base + "/mcp"}},
	}, "", "  ")
	fmt.Fprintf(w, "MCP client config:\n%s\n", snippet)
}

// minStateKey is the shortest secret --state-key-file accepts: the
// requestState is sealed with HMAC-SHA256, whose key should be as long as
// its output.
const minStateKey = 32

// readStateKey reads the secret of --state-key-file; no file means nil (a
// random key per process). Surrounding whitespace is not part of it.
func readStateKey(path string) ([]byte, error) {
	if path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--state-key-file: %w", err)
	}
	b = bytes.TrimSpace(b)
	if len(b) < minStateKey {
		return nil, fmt.Errorf("--state-key-file %s: the secret is %d bytes; it needs at least %d (e.g. openssl rand -base64 48 > FILE)", path, len(b), minStateKey)
	}
	return b, nil
}
