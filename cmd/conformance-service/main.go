// Command conformance-service serves examples.conformance.v1.ConformanceService,
// the fixtures of the MCP conformance suite, over gRPC, with health and
// reflection, until SIGINT or SIGTERM, then stops gracefully.
//
// Usage:
//
//	conformance-service [--addr HOST:PORT] [--metrics-addr HOST:PORT] [--credential-keys FILE] [--gogc N]
//		[--tls-cert FILE --tls-key FILE [--client-ca FILE]]
package main

import (
	"context"

	"github.com/toolwire/toolwire/server"
	"github.com/toolwire/toolwire/services/conformance"
)

func main() {
	var cfg conformance.Config
	server.Main("conformance-service", &cfg, conformance.DefaultAddr, func(ctx context.Context) error { return conformance.Run(ctx, cfg) })
}
