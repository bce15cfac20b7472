package search

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
const DefaultAddr = "127.0.0.1:7072"

// Config configures [New] and [Run].
type Config struct {
	// Addr is the TCP address [Run] listens on, HOST:PORT. Empty means
	// [DefaultAddr].
	Addr string
	// DatabaseURL selects the store: a PostgreSQL URL for [Postgres], or
	// empty for the [Embedded] corpus.
	DatabaseURL string
	// Schema is the PostgreSQL schema of the documents table (see
	// [PostgresOptions.Schema]). Empty means the search_path.
	Schema string
	// MetricsAddr, when set, is where [Run] serves Prometheus metrics at
	// /metrics, HOST:PORT.
	MetricsAddr string
	// CredentialKeys, when set, is a PEM file of the edge's public keys:
	// every call must then carry an internal credential the edge minted
	// for examples.search.v1.SearchService, with the scopes of the method's tool option.
	CredentialKeys string
	// TLSCert and TLSKey are the PEM certificate chain and private key
	// [Run] serves gRPC over TLS with (1.2 or later), reloaded when the
	// files change. Empty serves plaintext.
	TLSCert, TLSKey string
	// ClientCA, when set, is a PEM CA bundle: every client (the edge) must
	// then present a certificate signed by one of its CAs (mutual TLS). It
	// is reloaded when it changes, and needs TLSCert and TLSKey.
	ClientCA string
	// Logger receives the logs. Nil means slog.Default().
	Logger *slog.Logger
}

// New opens the store cfg selects and returns a Service over it; register
// it on a server with [Service.Register] and close it when done. With no
// DatabaseURL the embedded corpus is generated in the background, so that
// the first call finds it ready.
func New(ctx context.Context, cfg Config) (*Service, error) {
	logger := cfg.Logger
	if logger == nil {
		logger = slog.Default()
	}
	if cfg.DatabaseURL == "" {
		e := NewEmbedded()
		go e.Warm()
		return NewService(e, logger), nil
	}
	p, err := OpenPostgres(ctx, cfg.DatabaseURL, &PostgresOptions{Schema: cfg.Schema, Logger: logger})
	if err != nil {
		return nil, err
	}
	return NewService(p, logger), nil
}

// Run serves SearchService on cfg.Addr until ctx is done, then stops
// gracefully, closes the store, and returns nil. It returns an error if the
// store cannot be opened, it cannot listen, or serving fails.
func Run(ctx context.Context, cfg Config) error {
	logger := cfg.Logger
	if logger == nil {
		logger = slog.Default()
	}
	addr := cfg.Addr
	if addr == "" {
		addr = DefaultAddr
	}
	// TLS files first: a bad one stops the service before it opens its
	// store or listens.
	creds, err := tlsfiles.ServerCredentialsFor(cfg.TLSCert, cfg.TLSKey, cfg.ClientCA, logger)
	if err != nil {
		return fmt.Errorf("search: %w", err)
	}
	svc, err := New(ctx, cfg)
	if err != nil {
		return err
	}
	defer svc.Close()
	lis, err := (&net.ListenConfig{}).Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("search: %w", err)
	}
	if err := server.StartMetrics(ctx, cfg.MetricsAddr); err != nil {
		return fmt.Errorf("search metrics: %w", err)
	}
	opts := &server.Options{Logger: logger, StreamWorkers: server.DefaultStreamWorkers()}
	if creds != nil {
		opts.ServerOptions = []grpc.ServerOption{grpc.Creds(creds)}
	}
	if cfg.CredentialKeys != "" {
		if opts.Credentials, err = server.LoadCredentialVerifier(cfg.CredentialKeys, "examples.search.v1.SearchService"); err != nil {
			return fmt.Errorf("search: %w", err)
		}
	}
	s := server.New(opts)
	svc.Register(s.GRPC())
	store := "embedded"
	if cfg.DatabaseURL != "" {
		store = "postgres"
	}
	logger.InfoContext(ctx, "search service listening", slog.String("addr", lis.Addr().String()), slog.Bool("tls", creds != nil), slog.String("store", store))
	if err := s.Serve(ctx, lis); err != nil {
		return fmt.Errorf("search: %w", err)
	}
	return nil
}
