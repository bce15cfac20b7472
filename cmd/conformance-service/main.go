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
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/toolwire/toolwire/server"
	"github.com/toolwire/toolwire/services/conformance"
)

func main() {
	var cfg conformance.Config
	cfg.RegisterFlags(flag.CommandLine, conformance.DefaultAddr)
	gogc := flag.Int("gogc", server.DefaultGCPercent, "Go GC target percentage (the GOGC environment variable wins when set)")
	flag.Parse()
	server.SetGCPercent(*gogc)
	cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := conformance.Run(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "conformance-service:", err)
		os.Exit(1)
	}
}
