package app

import (
	"flag"
	"fmt"
	"reflect"
	"strconv"
	"time"

	"github.com/toolwire/toolwire/edge/policy/ratelimit"
)

// registerLimitFlags registers rate, concurrency, connection and time limit
// flags (issue 6). Their defaults are DefaultLimits; README.md's Limits
// table lists them, and a test checks that it lists every one.
func registerLimitFlags(cmd string, fs *flag.FlagSet, cfg *Config) {
	switch cmd {
	case "demo", "serve", "stdio":
	default:
		return
	}
	if reflect.ValueOf(cfg.Limits).IsZero() {
		cfg.Limits = DefaultLimits()
	}
	l := &cfg.Limits

	// Rate limits and calls in flight apply to every transport, stdio too.
	fs.StringVar(&l.RedisURL, "redis-url", l.RedisURL, "Redis URL (redis://HOST:PORT/DB): rate budgets shared by every replica using it (default: each replica keeps its own)")
	fs.StringVar(&l.RedisPrefix, "redis-prefix", l.RedisPrefix, "start of every rate-limit key in Redis; replicas that share budgets use one prefix")
	fs.Var(positiveDuration{&l.RedisTimeout}, "redis-timeout", "bound on one rate decision in Redis; a slower one falls back")
	fs.Var(fallbackMode{&l.RateFallback}, "rate-limit-fallback", "what rate limits do while Redis fails: local (each replica enforces the budget alone), allow or deny")
	fs.Var(rateValue{&l.RateLimit}, "rate-limit", "each principal's budget of requests, N/s (or /m, /h); 0 means none (default 0)")
	fs.Var(count{&l.RateBurst, 0}, "rate-burst", "the most requests a principal may make at once (default: one second's worth of --rate-limit)")
	fs.Var(rateClassList{&l.RateClasses}, "rate-class", "a tool rate class's budget per principal, NAME=RATE[:BURST], e.g. search=5/s:10 (repeatable)")
	fs.Var(count{&l.Concurrency, 0}, "concurrency", "tool calls in flight on this replica; 0 means no bound")
	fs.Var(count{&l.ConcurrencyQueue, 0}, "concurrency-queue", "tool calls that may wait for one of the --concurrency slots")
	fs.Var(count{&l.PrincipalConcurrency, 0}, "principal-concurrency", "tool calls in flight per principal; 0 means no bound")
	fs.Var(count{&l.PrincipalConcurrencyQueue, 0}, "principal-concurrency-queue", "tool calls per principal that may wait for a slot")
	fs.Var(count{&l.ToolConcurrency, 0}, "tool-concurrency", "tool calls in flight per tool, for tools whose contract sets no max_concurrency; 0 means no bound")
	fs.Var(count{&l.ToolConcurrencyQueue, 0}, "tool-concurrency-queue", "calls per tool that may wait for a slot of the tool's bound")
	fs.Var(positiveDuration{&l.QueueTimeout}, "queue-timeout", "longest wait for a call slot")
	fs.Var(positiveDuration{&l.ShedRetryAfter}, "shed-retry-after", "Retry-After of a request shed with 503, and retry hint of a call refused for concurrency")
	fs.Var(positiveDuration{&l.StreamWriteTimeout}, "stream-write-timeout", "how long a stream's write may wait on a client that stopped reading before the stream and its calls are cancelled")
	fs.Var(count{&l.StreamBufferBytes, 1}, "stream-buffer-bytes", "bytes held for a stream whose client reads slowly")
	fs.Var(count{&l.BackendMaxMessageBytes, 1}, "backend-max-message-bytes", "largest gRPC message to or from a backend")
	fs.Var(nonNegativeDuration{&l.BackendKeepAlive}, "backend-keepalive", "period of keep-alive pings on idle backend connections (gRPC pings at most every 10s); 0 means none")
	if cmd == "stdio" {
		return
	}

	// The HTTP server's own limits.
	fs.Var(count{&l.MaxConnections, 0}, "max-connections", "open HTTP connections; excess ones are closed at once; 0 means no bound")
	fs.Var(count{&l.MaxRequests, 0}, "max-requests", "HTTP requests served at once (GET streams aside); excess ones get 503; 0 means no bound")
	fs.Var(positiveDuration{&l.ReadHeaderTimeout}, "read-header-timeout", "time to read a request's headers, against slowloris clients")
	fs.Var(positiveDuration{&l.IdleTimeout}, "idle-timeout", "how long an idle keep-alive connection stays open")
	fs.Var(count{&l.MaxHeaderBytes, 1}, "max-header-bytes", "largest request header block")
	fs.Var(count64{&l.MaxBodyBytes, 1}, "max-body-bytes", "largest request body; a larger one gets 413")
	fs.Var(nonNegativeDuration{&l.SSEKeepAlive}, "sse-keepalive", "period of keep-alive comments on idle event streams, so that proxies keep them; 0 means none")
	fs.Var(nonNegativeDuration{&l.MaxStreamDuration}, "max-stream-duration", "longest life of a GET event stream; clients reopen it; 0 means no maximum")
}

// count is an int flag with a least value.
type count struct {
	p   *int
	min int
}

func (c count) String() string {
	if c.p == nil {
		return "0"
	}
	return strconv.Itoa(*c.p)
}

func (c count) Set(v string) error {
	n, err := strconv.Atoi(v)
	if err != nil || n < c.min {
		return fmt.Errorf("want a whole number of at least %d, got %q", c.min, v)
	}
	*c.p = n
	return nil
}

// count64 is count for int64 values.
type count64 struct {
	p   *int64
	min int64
}

func (c count64) String() string {
	if c.p == nil {
		return "0"
	}
	return strconv.FormatInt(*c.p, 10)
}

func (c count64) Set(v string) error {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < c.min {
		return fmt.Errorf("want a whole number of at least %d, got %q", c.min, v)
	}
	*c.p = n
	return nil
}

// nonNegativeDuration is a duration flag where 0 turns a feature off.
type nonNegativeDuration struct{ p *time.Duration }

func (d nonNegativeDuration) String() string {
	if d.p == nil {
		return "0s"
	}
	return d.p.String()
}

func (d nonNegativeDuration) Set(v string) error {
	x, err := time.ParseDuration(v)
	if err != nil || x < 0 {
		return fmt.Errorf("want a duration such as \"30s\", or 0 for none, got %q", v)
	}
	*d.p = x
	return nil
}

// rateValue is a rate flag: N, N/s, N/m or N/h, kept per second.
type rateValue struct{ p *float64 }

func (r rateValue) String() string {
	if r.p == nil || *r.p == 0 {
		return "0"
	}
	return formatRate(*r.p)
}

func (r rateValue) Set(v string) error {
	x, err := parseRate(v)
	if err != nil {
		return err
	}
	*r.p = x
	return nil
}

// rateClassList is the repeatable --rate-class flag; each value is checked
// when it is given.
type rateClassList struct{ p *[]string }

func (l rateClassList) String() string { return stringList(l).String() }

func (l rateClassList) Set(v string) error {
	if _, err := parseRateClass(v); err != nil {
		return err
	}
	*l.p = append(*l.p, v)
	return nil
}

// fallbackMode is the --rate-limit-fallback flag.
type fallbackMode struct{ p *string }

func (m fallbackMode) String() string {
	if m.p == nil {
		return ""
	}
	return *m.p
}

func (m fallbackMode) Set(v string) error {
	if _, err := ratelimit.ParseFallbackMode(v); err != nil {
		return err
	}
	*m.p = v
	return nil
}
