// Command toolwire runs the MCP edge.
//
//	toolwire demo  [--addr 127.0.0.1:7070]        edge + example backends in one process
//	toolwire serve --backend HOST:PORT [...]      edge only, fronting gRPC backends
//	toolwire stdio --demo | --backend HOST:PORT   MCP over stdin/stdout
//	toolwire tools                                print the tool catalog as JSON
//	toolwire health HOST:PORT                     check a gRPC backend's health (exit 0 if SERVING)
//
// Each command parses its flags into an app.Config and calls app's Run
// function of the same name.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/toolwire/toolwire/internal/app"
)

var version = "dev"

const usage = `usage: toolwire <command> [flags]

commands:
  demo    run the edge with the echo and search backends in this process
  serve   run the edge alone, fronting gRPC backends (--backend HOST:PORT, repeatable)
  stdio   serve MCP over stdin/stdout (--demo, or --backend HOST:PORT)
  tools   print the tool catalog as JSON
  health  check a gRPC backend's health: toolwire health [--service NAME] HOST:PORT

Run 'toolwire <command> -h' for a command's flags.
`

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "toolwire:", err)
		}
		os.Exit(2)
	}
}

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func run(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stderr, usage)
		if len(args) == 0 {
			return errors.New("no command given")
		}
		return nil
	}
	cmd, args := args[0], args[1:]
	fs := flag.NewFlagSet("toolwire "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := app.Config{Version: version, Out: stdout}
	var backends, hosts, origins listFlag
	var demo bool
	var healthService string
	var configPath string
	var logLevel string
	gogc := 100
	switch cmd {
	case "demo", "serve", "stdio":
		fs.DurationVar(&cfg.DefaultTimeout, "default-timeout", 0, "deadline of a tool call when neither tool nor client sets one (default 60s)")
		fs.DurationVar(&cfg.MaxTimeout, "max-timeout", 0, "cap on every tool call's deadline (default 10m)")
		fs.StringVar(&logLevel, "log-level", "info", "log level: debug, info, warn, error")
		fs.IntVar(&gogc, "gogc", gogc, "Go GC target percentage (the GOGC environment variable wins when set); see README")
	case "tools", "health":
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", cmd)
	}
	switch cmd {
	case "demo", "serve":
		def := "127.0.0.1:7070"
		fs.StringVar(&cfg.Addr, "addr", def, "HTTP listen address, HOST:PORT (port 0 picks a free port)")
		fs.Var(&hosts, "allowed-host", "Host header value to accept besides loopback names (repeatable)")
		fs.Var(&origins, "allowed-origin", "browser Origin to accept besides loopback ones (repeatable)")
		fs.StringVar(&cfg.AuthJWKSURL, "auth-jwks-url", "", "authorization server's JWKS URL: turns on JWT authentication (needs --auth-issuer, --auth-audience)")
		fs.StringVar(&cfg.AuthIssuer, "auth-issuer", "", "issuer (iss) every access token must carry")
		fs.StringVar(&cfg.AuthAudience, "auth-audience", "", "the edge's resource URL (e.g. https://edge.example/mcp): the aud every token must include, and the resource of /.well-known/oauth-protected-resource")
		fs.StringVar(&cfg.AuthAPIKeys, "auth-api-keys", "", "YAML file of hashed API keys (hash, subject, scopes): turns on API-key authentication")
	}
	if cmd == "serve" {
		fs.StringVar(&cfg.CredentialKey, "credential-key", "", "PEM file of the Ed25519 private key the edge signs backend credentials with (backends check them with --credential-keys)")
		fs.BoolVar(&cfg.Insecure, "insecure", false, "allow listening on a non-loopback address without authentication")
	}
	switch cmd {
	case "serve":
		fs.Var(&backends, "backend", "gRPC backend address HOST:PORT (repeatable)")
		fs.StringVar(&configPath, "config", "", "YAML config file (addr, backends, default_timeout, max_timeout, allowed_hosts, allowed_origins); flags given explicitly override it")
	case "stdio":
		fs.BoolVar(&demo, "demo", false, "serve the demo's example backends in this process")
		fs.Var(&backends, "backend", "gRPC backend address HOST:PORT (repeatable)")
	case "health":
		fs.StringVar(&healthService, "service", "", "service name to check (default: the whole server)")
	case "demo":
		fs.StringVar(&cfg.DatabaseURL, "database-url", os.Getenv("DATABASE_URL"), "PostgreSQL URL for the search backend (default: embedded corpus)")
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if cmd == "health" {
		if fs.NArg() != 1 {
			return errors.New("health: give one address, HOST:PORT")
		}
		return app.Health(context.Background(), fs.Arg(0), healthService)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	cfg.Backends, cfg.AllowedHosts, cfg.AllowedOrigins = backends, hosts, origins
	if configPath != "" {
		var err error
		if cfg, err = withConfigFile(fs, cfg, configPath); err != nil {
			return err
		}
	}

	setGC(gogc)

	var level slog.Level
	if err := level.UnmarshalText([]byte(logLevel)); err != nil && logLevel != "" {
		return fmt.Errorf("--log-level: %w", err)
	}
	// Logs go to stderr always: stdout is the protocol in stdio mode.
	cfg.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	switch cmd {
	case "demo":
		return app.Demo(ctx, cfg)
	case "serve":
		return app.Serve(ctx, cfg)
	case "stdio":
		if demo == (len(backends) > 0) {
			return errors.New("stdio: give either --demo or --backend")
		}
		return app.Stdio(ctx, cfg, os.Stdin, os.Stdout)
	default:
		return app.Tools(ctx, cfg)
	}
}

// withConfigFile returns the config file's settings over the defaults, with
// the flags given explicitly on the command line over both.
func withConfigFile(fs *flag.FlagSet, flags app.Config, path string) (app.Config, error) {
	cfg := flags
	cfg.Addr, cfg.Backends, cfg.DefaultTimeout, cfg.MaxTimeout, cfg.AllowedHosts, cfg.AllowedOrigins =
		"127.0.0.1:7070", nil, 0, 0, nil, nil
	if err := app.LoadConfig(path, &cfg); err != nil {
		return cfg, err
	}
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "addr":
			cfg.Addr = flags.Addr
		case "backend":
			cfg.Backends = flags.Backends
		case "default-timeout":
			cfg.DefaultTimeout = flags.DefaultTimeout
		case "max-timeout":
			cfg.MaxTimeout = flags.MaxTimeout
		case "allowed-host":
			cfg.AllowedHosts = flags.AllowedHosts
		case "allowed-origin":
			cfg.AllowedOrigins = flags.AllowedOrigins
		}
	})
	return cfg, nil
}

// setGC sets the garbage collector's target. The default is Go's own, 100:
// the edge's fast path allocates about 2 KiB per call, so a higher target
// buys little CPU and costs memory per idle session (BENCHMARKS.md). It was
// 400 while every call went through the MCP SDK, which allocates a 32 KiB
// JSON buffer per message (MCP-NOTES). GOGC, when set, wins.
func setGC(percent int) {
	if os.Getenv("GOGC") != "" || percent <= 0 {
		return
	}
	debug.SetGCPercent(percent)
}
