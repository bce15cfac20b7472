package echo

import (
	"context"
	"fmt"
	"log/slog"
	"net"

	"google.golang.org/grpc"

	"github.com/toolwire/toolwire/internal/tlsfiles"
	"github.com/toolwire/toolwire/server"
)

// DefaultAddr is the address [Run] listens on when [Config.Addr] is empty.
const DefaultAddr = "127.0.0.1:7071"

// Config configures [Run].
type Config struct {
	// Addr is the TCP address to listen on, HOST:PORT. Empty means
	// [DefaultAddr].
	Addr string
	// MetricsAddr, when set, is where [Run] serves Prometheus metrics at
	// /metrics, HOST:PORT.
	MetricsAddr string
	// CredentialKeys, when set, is a PEM file of the edge's public keys:
	// every call must then carry an internal credential the edge minted
	// for examples.echo.v1.EchoService, with the scopes of the method's tool option.
	CredentialKeys string
	// TLSCert and TLSKey are the PEM certificate chain and private key
	// [Run] serves gRPC over TLS with (1.2 or later), reloaded when the
	// files change. Empty serves plaintext.
	TLSCert, TLSKey string
	// ClientCA, when set, is a PEM CA bundle: every client (the edge) must
	// then present a certificate signed by one of its CAs (mutual TLS). It
	// is reloaded when it changes, and needs TLSCert and TLSKey.
	ClientCA string
	// Logger receives the server's logs. Nil means slog.Default().
	Logger *slog.Logger
}

// Run serves EchoService on cfg.Addr until ctx is done, then stops
// gracefully and returns nil. It returns an error if it cannot listen or
// serving fails.
func Run(ctx context.Context, cfg Config) error {
	addr := cfg.Addr
	if addr == "" {
		addr = DefaultAddr
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.Default()
	}
	// TLS files first: a bad one stops the service before it listens.
	creds, err := tlsfiles.ServerCredentialsFor(cfg.TLSCert, cfg.TLSKey, cfg.ClientCA, logger)
	if err != nil {
		return fmt.Errorf("echo: %w", err)
	}
	lis, err := (&net.ListenConfig{}).Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("echo: %w", err)
	}
	if err := server.StartMetrics(ctx, cfg.MetricsAddr); err != nil {
		return fmt.Errorf("echo metrics: %w", err)
	}
	opts := &server.Options{Logger: logger, StreamWorkers: server.DefaultStreamWorkers()}
	if creds != nil {
		opts.ServerOptions = []grpc.ServerOption{grpc.Creds(creds)}
	}
	if cfg.CredentialKeys != "" {
		if opts.Credentials, err = server.LoadCredentialVerifier(cfg.CredentialKeys, "examples.echo.v1.EchoService"); err != nil {
			return fmt.Errorf("echo: %w", err)
		}
	}
	s := server.New(opts)
	Register(s.GRPC())
	logger.InfoContext(ctx, "echo service listening", slog.String("addr", lis.Addr().String()), slog.Bool("tls", creds != nil))
	if err := s.Serve(ctx, lis); err != nil {
		return fmt.Errorf("echo: %w", err)
	}
	return nil
}
