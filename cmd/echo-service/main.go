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
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/toolwire/toolwire/server"
	"github.com/toolwire/toolwire/services/echo"
)

func main() {
	var cfg echo.Config
	cfg.RegisterFlags(flag.CommandLine, echo.DefaultAddr)
	gogc := flag.Int("gogc", server.DefaultGCPercent, "Go GC target percentage (the GOGC environment variable wins when set)")
	flag.Parse()
	server.SetGCPercent(*gogc)
	cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := echo.Run(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "echo-service:", err)
		os.Exit(1)
	}
}
