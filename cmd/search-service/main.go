// Command search-service serves examples.search.v1.SearchService over gRPC,
// with health and reflection, until SIGINT or SIGTERM, then stops
// gracefully. With a database URL it searches a PostgreSQL table, which it
// creates and seeds on first start; without one, an in-memory corpus.
//
// Usage:
//
//	search-service [--addr HOST:PORT] [--metrics-addr HOST:PORT] [--credential-keys FILE]
//		[--tls-cert FILE --tls-key FILE [--client-ca FILE]] [--database-url URL] [--gogc N]
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
	"github.com/toolwire/toolwire/services/search"
)

func main() {
	var cfg search.Config
	cfg.RegisterFlags(flag.CommandLine, search.DefaultAddr)
	flag.StringVar(&cfg.DatabaseURL, "database-url", os.Getenv("DATABASE_URL"),
		"PostgreSQL URL (default $DATABASE_URL); empty serves the embedded corpus")
	gogc := flag.Int("gogc", server.DefaultGCPercent, "Go GC target percentage (the GOGC environment variable wins when set)")
	flag.Parse()
	server.SetGCPercent(*gogc)
	cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := search.Run(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "search-service:", err)
		os.Exit(1)
	}
}
