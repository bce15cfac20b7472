// Command echo-service serves examples.echo.v1.EchoService over gRPC, with
// health and reflection, until SIGINT or SIGTERM, then stops gracefully.
//
// Usage:
//
//	echo-service [--addr HOST:PORT] [--metrics-addr HOST:PORT] [--credential-keys FILE] [--gogc N]
//		[--tls-cert FILE --tls-key FILE [--client-ca FILE]]
package main

import (
	"context"

	"github.com/toolwire/toolwire/server"
	"github.com/toolwire/toolwire/services/echo"
)

func main() {
	var cfg echo.Config
	server.Main("echo-service", &cfg, echo.DefaultAddr, func(ctx context.Context) error { return echo.Run(ctx, cfg) })
}
