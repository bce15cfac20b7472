// Package loadgen is toolwire-bench's load generator. It speaks MCP over
// Streamable HTTP itself, with net/http and no SDK, so that it is not what
// limits the figures: closed-loop tool calls, progress streams, idle
// sessions with their GET streams held open, and the time a cancellation
// takes to reach the tool handler.
package loadgen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"
)

// Modes.
const (
	ModeCall   = "call"
	ModeStream = "stream"
	ModeIdle   = "idle"
	ModeCancel = "cancel"
)

// Ways to cancel, in cancel mode.
const (
	HowNotify = "notify" // notifications/cancelled on a second POST
	HowClose  = "close"  // close the TCP connection of the call's POST
)

// Config is one run.
type Config struct {
	URL      string // the MCP endpoint, http://127.0.0.1:PORT/mcp
	Mode     string
	Server   string // the label of the report
	Protocol string // the revision to ask for, e.g. 2025-11-25

	C        int           // concurrent sessions (call, stream)
	Duration time.Duration // measured time (call, stream)
	Warmup   time.Duration // unmeasured time before it
	Procs    []Proc        // server processes: CPU (call, stream), RSS (idle)
	Text     string        // echo's text (call)

	N          int // progress notifications per call (stream)
	IntervalMs int // between them (stream)

	Sessions int           // sessions to hold (idle)
	Settle   time.Duration // wait after opening them, before reading RSS (idle)

	Trials        int           // cancel trials
	How           string        // HowNotify or HowClose
	MetricsURL    string        // where the sleep-cancelled gauge is (cancel)
	SleepMs       int           // the sleep each trial cancels
	StartDelay    time.Duration // from sending the sleep to cancelling it
	CancelTimeout time.Duration // how long a trial waits for the gauge to move
	// GiveUp stops the trials when the first GiveUp of them all failed: a
	// server that never notices a way of cancelling would otherwise cost
	// Trials × CancelTimeout. 0 runs every trial.
	GiveUp int

	// Log receives progress lines for people (stderr); nil discards them.
	Log io.Writer
}

// Defaults fills zero fields with their defaults.
func (c *Config) Defaults() {
	set := func(p *int, v int) {
		if *p == 0 {
			*p = v
		}
	}
	setD := func(p *time.Duration, v time.Duration) {
		if *p == 0 {
			*p = v
		}
	}
	if c.Mode == "" {
		c.Mode = ModeCall
	}
	if c.Protocol == "" {
		c.Protocol = Protocol20251125
	}
	if c.Server == "" {
		c.Server = c.URL
	}
	if c.Text == "" {
		c.Text = "hello"
	}
	if c.How == "" {
		c.How = HowNotify
	}
	set(&c.C, 16)
	set(&c.N, 100)
	set(&c.Sessions, 1000)
	set(&c.Trials, 50)
	set(&c.SleepMs, 10000)
	setD(&c.Duration, 5*time.Second)
	setD(&c.Settle, time.Second)
	setD(&c.StartDelay, 50*time.Millisecond)
	setD(&c.CancelTimeout, 5*time.Second)
	if c.Log == nil {
		c.Log = io.Discard
	}
}

func (c *Config) check() error {
	if c.URL == "" {
		return errors.New("no --url")
	}
	if err := checkLoopback(c.URL); err != nil {
		return err
	}
	if c.C < 1 || c.Sessions < 1 || c.Trials < 1 || c.N < 0 || c.IntervalMs < 0 {
		return errors.New("--c, --sessions and --trials must be at least 1, --n and --interval-ms at least 0")
	}
	switch c.Mode {
	case ModeCall, ModeStream:
	case ModeIdle:
		if len(c.Procs) == 0 {
			return errors.New("idle mode reads the server's RSS: give --pid")
		}
		if sessionless(c.Protocol) {
			return fmt.Errorf("idle mode holds sessions, which %s does not have", c.Protocol)
		}
	case ModeCancel:
		if c.MetricsURL == "" {
			return errors.New("cancel mode reads the backend's sleep-cancelled gauge: give --metrics-url")
		}
		if err := checkLoopback(c.MetricsURL); err != nil {
			return err
		}
		if c.How != HowNotify && c.How != HowClose {
			return fmt.Errorf("--how %q: want notify or close", c.How)
		}
	default:
		return fmt.Errorf("unknown mode %q: want call, stream, idle or cancel", c.Mode)
	}
	return nil
}

// Run runs one benchmark and returns its report. Every mode is bounded in
// time: call and stream by Warmup+Duration (plus a grace period for the last
// calls), idle by per-session timeouts, cancel by Trials × CancelTimeout.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	cfg.Defaults()
	if err := cfg.check(); err != nil {
		return nil, err
	}
	rep := &Report{}
	rep.Set("server", cfg.Server)
	rep.Set("mode", cfg.Mode)
	switch cfg.Mode {
	case ModeIdle:
		rep.Set("c", cfg.Sessions)
	case ModeCancel:
		rep.Set("c", 1)
	default:
		rep.Set("c", cfg.C)
	}
	rep.Set("protocol", cfg.Protocol)
	rep.Set("transport", "streamable")
	var err error
	switch cfg.Mode {
	case ModeCall, ModeStream:
		err = runClosedLoop(ctx, &cfg, rep)
	case ModeIdle:
		err = runIdle(ctx, &cfg, rep)
	case ModeCancel:
		err = runCancel(ctx, &cfg, rep)
	}
	if err != nil {
		return nil, err
	}
	return rep, nil
}
