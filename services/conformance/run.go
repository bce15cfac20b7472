package conformance

import (
	"context"
	"log/slog"

	"google.golang.org/grpc"

	"github.com/toolwire/toolwire/server"
)

// DefaultAddr is the address [Run] listens on when [Config.Addr] is empty.
const DefaultAddr = "127.0.0.1:7073"

// Config configures [Run]: where it listens, its TLS files, and the edge's
// keys its calls' credentials must verify with (for
// examples.conformance.v1.ConformanceService).
type Config = server.ServiceConfig

// Run serves ConformanceService on cfg.Addr until ctx is done, then stops
// gracefully and returns nil. It returns an error if its files are bad, it
// cannot listen, or serving fails.
func Run(ctx context.Context, cfg Config) error {
	return cfg.Run(ctx, server.Service{
		Name:        "conformance",
		FullName:    ServiceName,
		DefaultAddr: DefaultAddr,
		Open: func(context.Context, *slog.Logger) (func(grpc.ServiceRegistrar), func(), []any, error) {
			return Register, nil, nil, nil
		},
	})
}
