// Command toolwire-bench is a load generator for MCP servers over
// Streamable HTTP. It speaks MCP itself, with net/http, and prints one JSON
// line per run.
//
//	toolwire-bench --url http://127.0.0.1:7070/mcp --mode call   --c 16 --duration 5s [--pid PID,...]
//	toolwire-bench --url ... --mode stream --c 16 --n 100 --interval-ms 0 [--pid PID,...]
//	toolwire-bench --url ... --mode idle   --sessions 1000 --pid PID
//	toolwire-bench --url ... --mode cancel --trials 50 --how notify|close --metrics-url http://127.0.0.1:PORT/metrics
//
// BENCHMARKS.md says what each figure means.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/toolwire/toolwire/cmd/toolwire-bench/internal/loadgen"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if err != flag.ErrHelp {
			fmt.Fprintln(os.Stderr, "toolwire-bench:", err)
		}
		os.Exit(2)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("toolwire-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg loadgen.Config
	var pids string
	var quiet bool
	var maxTime time.Duration
	var cpuProfile string
	var tags tagFlag
	fs.StringVar(&cfg.URL, "url", "", "MCP Streamable HTTP endpoint, on loopback: http://127.0.0.1:PORT/mcp")
	fs.StringVar(&cfg.Mode, "mode", loadgen.ModeCall, "call, stream, idle or cancel")
	fs.StringVar(&cfg.Server, "server", "", "label for the report (default: the URL)")
	fs.StringVar(&cfg.Protocol, "protocol", loadgen.Protocol20251125, "MCP revision: 2025-11-25 (initialize, sessions) or 2026-07-28 (per-request _meta and headers)")
	fs.IntVar(&cfg.C, "c", 16, "concurrent sessions, each with one call in flight (call, stream)")
	fs.DurationVar(&cfg.Duration, "duration", 5*time.Second, "measured time (call, stream)")
	fs.DurationVar(&cfg.Warmup, "warmup", time.Second, "unmeasured time before it (call, stream)")
	fs.StringVar(&pids, "pid", "", "server processes to read CPU (call, stream) or RSS (idle) from: PID or NAME=PID, comma-separated; figures are summed")
	fs.StringVar(&cfg.Text, "text", "hello", "echo's text (call)")
	fs.IntVar(&cfg.N, "n", 100, "progress notifications per call (stream)")
	fs.IntVar(&cfg.IntervalMs, "interval-ms", 0, "milliseconds between them (stream)")
	fs.IntVar(&cfg.Sessions, "sessions", 1000, "sessions to hold open, each with its GET stream (idle)")
	fs.DurationVar(&cfg.Settle, "settle", time.Second, "wait after opening them before reading RSS (idle)")
	fs.IntVar(&cfg.Trials, "trials", 50, "trials (cancel)")
	fs.StringVar(&cfg.How, "how", loadgen.HowNotify, "notify (notifications/cancelled) or close (close the call's TCP connection) (cancel)")
	fs.StringVar(&cfg.MetricsURL, "metrics-url", "", "Prometheus endpoint with "+loadgen.SleepCancelledMetric+" (cancel)")
	fs.IntVar(&cfg.SleepMs, "sleep-ms", 10000, "length of the sleep each trial cancels (cancel)")
	fs.DurationVar(&cfg.StartDelay, "start-delay", 50*time.Millisecond, "from sending the sleep to cancelling it (cancel)")
	fs.DurationVar(&cfg.CancelTimeout, "cancel-timeout", 5*time.Second, "a trial fails if the gauge has not moved this long after the cancel (cancel)")
	fs.IntVar(&cfg.GiveUp, "give-up", 3, "stop when the first N trials all failed; 0 runs them all (cancel)")
	fs.DurationVar(&maxTime, "max-time", 3*time.Minute, "hard bound on the whole run")
	fs.BoolVar(&quiet, "quiet", false, "no progress lines on stderr")
	fs.Var(&tags, "tag", "KEY=VALUE to add to the report line, e.g. repeat=2 (repeatable)")
	fs.StringVar(&cpuProfile, "cpuprofile", "", "write the load generator's own CPU profile to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	procs, err := loadgen.ParseProcs(pids)
	if err != nil {
		return fmt.Errorf("--pid: %w", err)
	}
	cfg.Procs = procs
	if !quiet {
		cfg.Log = stderr
	}

	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, maxTime)
	defer cancel()
	rep, err := loadgen.Run(ctx, cfg)
	if err != nil {
		return err
	}
	for _, t := range tags {
		rep.Set(t[0], t[1])
	}
	line, err := json.Marshal(rep)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "%s\n", line)
	return err
}

// tagFlag collects --tag KEY=VALUE pairs.
type tagFlag [][2]string

func (t *tagFlag) String() string { return fmt.Sprint(*t) }

func (t *tagFlag) Set(v string) error {
	k, val, ok := strings.Cut(v, "=")
	if !ok || k == "" {
		return fmt.Errorf("want KEY=VALUE, got %q", v)
	}
	*t = append(*t, [2]string{k, val})
	return nil
}
