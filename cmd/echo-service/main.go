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
	"github.com/toolwire/toolwire/server"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/toolwire/toolwire/services/echo"
)

func main() {
	var cfg echo.Config
	flag.StringVar(&cfg.Addr, "addr", echo.DefaultAddr, "address to listen on, HOST:PORT")
	flag.StringVar(&cfg.MetricsAddr, "metrics-addr", "", "address to serve Prometheus /metrics on, HOST:PORT (default: off)")
	flag.StringVar(&cfg.CredentialKeys, "credential-keys", "",
		"PEM file of the edge's Ed25519 public keys; when set, every call must carry a credential the edge minted (default: off)")
	flag.StringVar(&cfg.TLSCert, "tls-cert", "", "PEM certificate chain to serve gRPC over TLS with (needs --tls-key; reloaded when the file changes; default: plaintext)")
	flag.StringVar(&cfg.TLSKey, "tls-key", "", "PEM private key of --tls-cert")
	flag.StringVar(&cfg.ClientCA, "client-ca", "", "PEM CA bundle: every client must present a certificate it signed (mutual TLS; needs --tls-cert)")
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
