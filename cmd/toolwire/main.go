// Command toolwire runs the MCP edge.
//
//	toolwire demo  [--addr 127.0.0.1:7070] [--services LIST]  edge + example backends in one process
//	toolwire serve --backend HOST:PORT [...]                 edge only, fronting gRPC backends
//	toolwire stdio --demo | --backend HOST:PORT              MCP over stdin/stdout
//	toolwire tools [--services LIST]                         print the tool catalog as JSON
//	toolwire health [--backend-ca FILE] HOST:PORT            check a gRPC backend's health (exit 0 if SERVING)
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
	"syscall"

	"github.com/toolwire/toolwire/internal/app"
	"github.com/toolwire/toolwire/server"
)

var version = "dev"

const usage = `usage: toolwire <command> [flags]

commands:
  demo    run the edge with example backends in this process (--services echo,search,conformance)
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
	var demo bool
	var healthService string
	var configPath string
	var logLevel string
	gogc := server.DefaultGCPercent
	switch cmd {
	case "demo", "serve", "stdio":
		fs.StringVar(&logLevel, "log-level", "info", "log level: debug, info, warn, error")
		fs.IntVar(&gogc, "gogc", gogc, "Go GC target percentage (the GOGC environment variable wins when set); see README")
		app.RegisterFlags(cmd, fs, &cfg)
	case "health":
		app.RegisterFlags(cmd, fs, &cfg) // the backend TLS flags serve dials with
	case "tools":
		app.RegisterFlags(cmd, fs, &cfg) // --services
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", cmd)
	}
	switch cmd {
	case "serve":
		fs.StringVar(&configPath, "config", "", "YAML config file: every flag is a key (max_timeout for --max-timeout, backends: [...] for --backend); flags given explicitly override it")
	case "stdio":
		fs.BoolVar(&demo, "demo", false, "serve the demo's example backends in this process")
	case "health":
		fs.StringVar(&healthService, "service", "", "service name to check (default: the whole server)")
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if cmd == "health" {
		if fs.NArg() != 1 {
			return errors.New("health: give one address, HOST:PORT")
		}
		return app.Health(context.Background(), cfg, fs.Arg(0), healthService)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	if configPath != "" {
		if err := app.ApplyConfigFile(fs, configPath); err != nil {
			return err
		}
	}

	server.SetGCPercent(gogc)

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
		if demo == (len(cfg.Backends) > 0) {
			return errors.New("stdio: give either --demo or --backend")
		}
		return app.Stdio(ctx, cfg, os.Stdin, os.Stdout)
	default:
		return app.Tools(ctx, cfg)
	}
}
