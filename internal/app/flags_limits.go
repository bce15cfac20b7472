package app

import (
	"flag"
	"reflect"

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
	fs.StringVar(&l.RedisURL, "redis-url", l.RedisURL, "Redis URL (redis://HOST:PORT/DB): rate budgets and tasks shared by every replica using it (default: each replica keeps its own)")
	fs.StringVar(&l.RedisPrefix, "redis-prefix", l.RedisPrefix, "start of every rate-limit key in Redis; replicas that share budgets use one prefix")
	fs.Var(duration{p: &l.RedisTimeout}, "redis-timeout", "bound on one rate decision in Redis; a slower one falls back")
	fs.Var(fallbackMode{&l.RateFallback}, "rate-limit-fallback", "what rate limits do while Redis fails: local (each replica enforces the budget alone), allow or deny")
	fs.Var(rateValue{&l.RateLimit}, "rate-limit", "each principal's budget of requests, N/s (or /m, /h); 0 means none (default 0)")
	fs.Var(count[int]{&l.RateBurst, 0}, "rate-burst", "the most requests a principal may make at once (default: one second's worth of --rate-limit)")
	fs.Var(rateClassList{&l.RateClasses}, "rate-class", "a tool rate class's budget per principal, NAME=RATE[:BURST], e.g. search=5/s:10 (repeatable)")
	fs.Var(count[int]{&l.Concurrency, 0}, "concurrency", "tool calls in flight on this replica; 0 means no bound")
	fs.Var(count[int]{&l.ConcurrencyQueue, 0}, "concurrency-queue", "tool calls that may wait for one of the --concurrency slots")
	fs.Var(count[int]{&l.PrincipalConcurrency, 0}, "principal-concurrency", "tool calls in flight per principal; 0 means no bound")
	fs.Var(count[int]{&l.PrincipalConcurrencyQueue, 0}, "principal-concurrency-queue", "tool calls per principal that may wait for a slot")
	fs.Var(count[int]{&l.ToolConcurrency, 0}, "tool-concurrency", "tool calls in flight per tool, for tools whose contract sets no max_concurrency; 0 means no bound")
	fs.Var(count[int]{&l.ToolConcurrencyQueue, 0}, "tool-concurrency-queue", "calls per tool that may wait for a slot of the tool's bound")
	fs.Var(duration{p: &l.QueueTimeout}, "queue-timeout", "longest wait for a call slot")
	fs.Var(duration{p: &l.ShedRetryAfter}, "shed-retry-after", "Retry-After of a request shed with 503, and retry hint of a call refused for concurrency")
	fs.Var(duration{p: &l.StreamWriteTimeout}, "stream-write-timeout", "how long a stream's write may wait on a client that stopped reading before the stream and its calls are cancelled")
	fs.Var(count[int]{&l.StreamBufferBytes, 1}, "stream-buffer-bytes", "bytes held for a stream whose client reads slowly")
	fs.Var(count[int]{&l.BackendMaxMessageBytes, 1}, "backend-max-message-bytes", "largest gRPC message to or from a backend")
	fs.Var(duration{p: &l.BackendKeepAlive, zeroOK: true}, "backend-keepalive", "period of keep-alive pings on idle backend connections (gRPC pings at most every 10s); 0 means none")
	if cmd == "stdio" {
		return
	}

	// The HTTP server's own limits.
	fs.Var(count[int]{&l.MaxConnections, 0}, "max-connections", "open HTTP connections; excess ones are closed at once; 0 means no bound")
	fs.Var(count[int]{&l.MaxRequests, 0}, "max-requests", "HTTP requests served at once (GET streams aside); excess ones get 503; 0 means no bound")
	fs.Var(duration{p: &l.ReadHeaderTimeout}, "read-header-timeout", "time to read a request's headers, against slowloris clients")
	fs.Var(duration{p: &l.IdleTimeout}, "idle-timeout", "how long an idle keep-alive connection stays open")
	fs.Var(count[int]{&l.MaxHeaderBytes, 1}, "max-header-bytes", "largest request header block")
	fs.Var(count[int64]{&l.MaxBodyBytes, 1}, "max-body-bytes", "largest request body; a larger one gets 413")
	fs.Var(duration{p: &l.SSEKeepAlive, zeroOK: true}, "sse-keepalive", "period of keep-alive comments on idle event streams, so that proxies keep them; 0 means none")
	fs.Var(duration{p: &l.MaxStreamDuration, zeroOK: true}, "max-stream-duration", "longest life of a GET event stream; clients reopen it; 0 means no maximum")
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
