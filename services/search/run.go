package search

import (
	"context"
	"log/slog"

	"google.golang.org/grpc"

	"github.com/toolwire/toolwire/server"
)

// DefaultAddr is the address [Run] listens on when [Config.Addr] is empty.
const DefaultAddr = "127.0.0.1:7072"

// Config configures [New] and [Run].
type Config struct {
	// ServiceConfig is where [Run] listens, its TLS files, and the edge's
	// keys its calls' credentials must verify with (for
	// examples.search.v1.SearchService); its Logger is New's too.
	server.ServiceConfig
	// DatabaseURL selects the store: a PostgreSQL URL for [Postgres], or
	// empty for the [Embedded] corpus.
	DatabaseURL string
	// Schema is the PostgreSQL schema of the documents table (see
	// [PostgresOptions.Schema]). Empty means the search_path.
	Schema string
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
// gracefully, closes the store, and returns nil. It returns an error if its
// files are bad, the store cannot be opened, it cannot listen, or serving
// fails.
func Run(ctx context.Context, cfg Config) error {
	return cfg.ServiceConfig.Run(ctx, server.Service{
		Name:        "search",
		FullName:    "examples.search.v1.SearchService",
		DefaultAddr: DefaultAddr,
		Open: func(ctx context.Context, logger *slog.Logger) (func(grpc.ServiceRegistrar), func(), []any, error) {
			cfg.Logger = logger
			svc, err := New(ctx, cfg)
			if err != nil {
				return nil, nil, nil, err
			}
			store := "embedded"
			if cfg.DatabaseURL != "" {
				store = "postgres"
			}
			return svc.Register, svc.Close, []any{slog.String("store", store)}, nil
		},
	})
}
