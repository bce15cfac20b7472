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
	"os"

	"github.com/toolwire/toolwire/server"
	"github.com/toolwire/toolwire/services/search"
)

func main() {
	var cfg search.Config
	flag.StringVar(&cfg.DatabaseURL, "database-url", os.Getenv("DATABASE_URL"),
		"PostgreSQL URL (default $DATABASE_URL); empty serves the embedded corpus")
	server.Main("search-service", &cfg.ServiceConfig, search.DefaultAddr, func(ctx context.Context) error { return search.Run(ctx, cfg) })
}
