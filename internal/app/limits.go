package app

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"google.golang.org/grpc"
	"google.golang.org/grpc/keepalive"

	"github.com/toolwire/toolwire/edge"
	"github.com/toolwire/toolwire/edge/catalog"
	"github.com/toolwire/toolwire/edge/policy/limits"
	"github.com/toolwire/toolwire/edge/policy/ratelimit"
)

// LimitsConfig holds every resource limit of the edge process (issue 6).
// Each field is a flag of serve and demo (flags_limits.go), and so a
// config-file key; README.md's Limits table lists them with their defaults.
//
// A zero LimitsConfig means [DefaultLimits]. Otherwise, a zero count or
// duration means no limit where the flag says so (rate limits, connection,
// request and concurrency bounds, stream duration, keep-alives), and is
// refused where no limit would be unsafe (timeouts, sizes).
type LimitsConfig struct {
	// RedisURL, when set, keeps rate budgets and tasks in Redis
	// (redis://[:password@]host:port/db): one budget for every replica
	// that uses it, and tasks any of them serves; otherwise each replica
	// keeps its own.
	RedisURL string
	// RedisPrefix starts every rate-limit key in Redis: deployments that
	// share a Redis but not their budgets use different prefixes.
	RedisPrefix string
	// RedisTimeout bounds one rate decision in Redis; a slower one is
	// decided as RateFallback says.
	RedisTimeout time.Duration
	// RateFallback is what rate limits do while Redis fails: "local"
	// (each replica enforces the budget alone), "allow" or "deny".
	RateFallback string
	// RateLimit is each principal's budget of HTTP requests (and stdio tool
	// calls) per second; zero means no rate limit.
	RateLimit float64
	// RateBurst is the most requests a principal may make at once; zero
	// means one second's worth, RateLimit rounded up.
	RateBurst int
	// RateClasses are the per-principal budgets of tool rate classes
	// (rate_class), each NAME=RATE[/s|/m|/h][:BURST].
	RateClasses []string

	// Concurrency and ConcurrencyQueue bound the tool calls in flight on
	// the replica, and the calls waiting for a slot; past both, HTTP
	// requests are shed with 503.
	Concurrency, ConcurrencyQueue int
	// PrincipalConcurrency and PrincipalConcurrencyQueue bound them per
	// principal.
	PrincipalConcurrency, PrincipalConcurrencyQueue int
	// ToolConcurrency bounds the calls in flight of each tool whose
	// contract sets no max_concurrency (zero: no bound); ToolConcurrencyQueue
	// is every tool bound's queue.
	ToolConcurrency, ToolConcurrencyQueue int
	// QueueTimeout bounds the wait for a slot.
	QueueTimeout time.Duration
	// MaxRequests bounds the HTTP requests being served at once, GET
	// streams aside; past it requests are shed with 503.
	MaxRequests int
	// ShedRetryAfter is the Retry-After of a shed request, and the hint of
	// a call refused for concurrency.
	ShedRetryAfter time.Duration

	// MaxConnections bounds the open HTTP connections; excess ones are
	// closed at once.
	MaxConnections int
	// ReadHeaderTimeout, IdleTimeout and MaxHeaderBytes configure the HTTP
	// server; MaxBodyBytes bounds a request body.
	ReadHeaderTimeout, IdleTimeout time.Duration
	MaxHeaderBytes                 int
	MaxBodyBytes                   int64

	// SSEKeepAlive is the period of keep-alive comments on idle event
	// streams; zero means none.
	SSEKeepAlive time.Duration
	// MaxStreamDuration ends GET event streams after this long; zero means
	// no maximum.
	MaxStreamDuration time.Duration
	// StreamBufferBytes and StreamWriteTimeout bound a stream whose client
	// stops reading: the bytes held for it, and how long a write may wait
	// before the stream and its calls are cancelled.
	StreamBufferBytes  int
	StreamWriteTimeout time.Duration

	// BackendMaxMessageBytes bounds a gRPC message to or from a backend.
	BackendMaxMessageBytes int
	// BackendKeepAlive is the period of keep-alive pings on idle backend
	// connections; zero means none.
	BackendKeepAlive time.Duration
}

// DefaultLimits are the limits of a zero [LimitsConfig], and the flags'
// defaults. They stop one principal from taking the replica (64 calls in
// flight each, 1024 in all) and bound every connection, header, body and
// stream; rate limits, being quotas that depend on the deployment, are off.
func DefaultLimits() LimitsConfig {
	return LimitsConfig{
		RedisPrefix:               ratelimit.DefaultRedisPrefix,
		RedisTimeout:              ratelimit.DefaultFallbackTimeout,
		RateFallback:              string(ratelimit.FallbackLocal),
		Concurrency:               1024,
		ConcurrencyQueue:          1024,
		PrincipalConcurrency:      64,
		PrincipalConcurrencyQueue: 128,
		ToolConcurrencyQueue:      256,
		QueueTimeout:              limits.DefaultWaitTimeout,
		MaxRequests:               4096,
		ShedRetryAfter:            limits.DefaultShedRetryAfter,
		MaxConnections:            10_000,
		ReadHeaderTimeout:         limits.DefaultReadHeaderTimeout,
		IdleTimeout:               limits.DefaultIdleTimeout,
		MaxHeaderBytes:            limits.DefaultMaxHeaderBytes,
		MaxBodyBytes:              limits.DefaultMaxBodyBytes,
		SSEKeepAlive:              edge.DefaultKeepAlive,
		MaxStreamDuration:         time.Hour,
		StreamBufferBytes:         256 << 10,
		StreamWriteTimeout:        limits.DefaultWriteTimeout,
		BackendMaxMessageBytes:    4 << 20,
		BackendKeepAlive:          30 * time.Second,
	}
}

// limitsOf returns cfg's limits, or the defaults for a zero LimitsConfig.
func limitsOf(cfg Config) LimitsConfig {
	if reflect.ValueOf(cfg.Limits).IsZero() {
		return DefaultLimits()
	}
	return cfg.Limits
}

// governance is what the limits of cfg turn into: the edge's Limits, the
// concurrency limiter that load shedding watches, and the Redis client
// (rate budgets and tasks, shared by the replicas) to close at the end.
type governance struct {
	cfg     LimitsConfig
	rate    ratelimit.Limiter
	redis   *redis.Client
	limiter *limits.Limiter
}

// newGovernance connects to Redis, if cfg has a URL, and builds the rate
// store for cfg. The concurrency limiter waits for the catalog
// (edgeLimits).
func newGovernance(ctx context.Context, cfg Config) (*governance, error) {
	lc := limitsOf(cfg)
	g := &governance{cfg: lc}
	rated := lc.RateLimit != 0 || len(lc.RateClasses) > 0
	mode, err := ratelimit.ParseFallbackMode(lc.RateFallback)
	if rated && err != nil {
		return nil, fmt.Errorf("--rate-limit-fallback: %w", err)
	}
	if lc.RedisURL != "" {
		opt, err := redis.ParseURL(lc.RedisURL)
		if err != nil {
			return nil, fmt.Errorf("--redis-url: %w", err)
		}
		// The Fallback's timeout bounds each decision through the context;
		// the client must honour it rather than its own, longer read
		// timeout.
		opt.ContextTimeoutEnabled = true
		g.redis = redis.NewClient(opt)
		pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		if err := g.redis.Ping(pctx).Err(); err != nil {
			// Not fatal: rate limits fall back, and tasks requests fail,
			// until Redis answers.
			cfg.logger().Warn("Redis does not answer; rate limits fall back, and tasks requests fail, until it does",
				"mode", string(mode), "error", err)
		} else {
			cfg.logger().Info("rate limits and tasks shared through Redis", "addr", opt.Addr, "db", opt.DB)
		}
	}
	if !rated {
		return g, nil
	}
	local := ratelimit.NewLocal(nil)
	if g.redis == nil {
		g.rate = local
		return g, nil
	}
	g.rate = ratelimit.NewFallback(ratelimit.NewRedis(g.redis, &ratelimit.RedisOptions{Prefix: lc.RedisPrefix}), &ratelimit.FallbackOptions{
		Mode:    mode,
		Timeout: lc.RedisTimeout,
		Local:   local,
		Logger:  cfg.logger(),
	})
	return g, nil
}

// tasks are the edge's TaskOptions: tasks shared through Redis when the
// edge has it, else the defaults (in memory, one replica).
func (g *governance) tasks() *edge.TaskOptions {
	if g.redis == nil {
		return nil
	}
	return &edge.TaskOptions{Redis: g.redis}
}

func (g *governance) close() {
	if g.redis != nil {
		_ = g.redis.Close()
	}
}

// edgeLimits returns the edge's Limits for the tools of cat, building the
// concurrency limiter with their max_concurrency options.
func (g *governance) edgeLimits(cat *catalog.Catalog) (*edge.Limits, error) {
	lc := g.cfg
	l := &edge.Limits{
		Rate:       g.rate,
		RetryAfter: lc.ShedRetryAfter,
		Stream: &limits.StreamOptions{
			MaxPending:   lc.StreamBufferBytes,
			WriteTimeout: lc.StreamWriteTimeout,
		},
		MaxStreamDuration: lc.MaxStreamDuration,
	}
	if lc.RateLimit > 0 {
		burst := lc.RateBurst
		if burst <= 0 {
			burst = int(math.Ceil(lc.RateLimit))
		}
		l.Principal = ratelimit.Class{Name: "principal", Rate: lc.RateLimit, Burst: burst}
	}
	for _, spec := range lc.RateClasses {
		c, err := parseRateClass(spec)
		if err != nil {
			return nil, fmt.Errorf("--rate-class: %w", err)
		}
		if l.Classes == nil {
			l.Classes = map[string]ratelimit.Class{}
		}
		if _, dup := l.Classes[c.Name]; dup {
			return nil, fmt.Errorf("--rate-class: class %q given twice", c.Name)
		}
		l.Classes[c.Name] = c
	}
	tools := edge.ToolLimits(cat, lc.ToolConcurrencyQueue)
	g.limiter = limits.NewLimiter(&limits.Options{
		Global:       limits.Limit{MaxInFlight: lc.Concurrency, MaxQueue: lc.ConcurrencyQueue},
		PerPrincipal: limits.Limit{MaxInFlight: lc.PrincipalConcurrency, MaxQueue: lc.PrincipalConcurrencyQueue},
		PerTool:      limits.Limit{MaxInFlight: lc.ToolConcurrency, MaxQueue: lc.ToolConcurrencyQueue},
		Tools:        tools,
		WaitTimeout:  lc.QueueTimeout,
	})
	l.Concurrency = g.limiter
	return l, nil
}

// keepAlive is the edge's Options.KeepAlive: zero there means the default,
// so no keep-alives is negative.
func (lc LimitsConfig) keepAlive() time.Duration {
	if lc.SSEKeepAlive <= 0 {
		return -1
	}
	return lc.SSEKeepAlive
}

// shed wraps h with load shedding: while the replica's calls and their
// queue are full, or MaxRequests requests are being served, a request is
// answered 503 at once. GET streams, which live long and hold no call
// slot, health checks, metrics and DELETEs (which free resources) are
// exempt.
func (g *governance) shed(h http.Handler) http.Handler {
	opts := &limits.ShedOptions{
		MaxInFlight: max(g.cfg.MaxRequests, 0),
		RetryAfter:  g.cfg.ShedRetryAfter,
		Exempt: func(r *http.Request) bool {
			switch r.URL.Path {
			case "/healthz", "/metrics":
				return true
			}
			return r.Method == http.MethodGet || r.Method == http.MethodDelete || r.Method == http.MethodOptions
		},
	}
	if g.limiter != nil {
		opts.Overloaded = g.limiter.Saturated
	}
	return limits.Shed(h, opts)
}

// dialOptions are the edge's options for its backend connections: message
// sizes both ways and keep-alive pings, which find a dead backend (or a
// middlebox that dropped the connection) before a call does. The period
// stays above server.DefaultKeepaliveMinTime, below which backends close the
// connection.
func (lc LimitsConfig) dialOptions() []grpc.DialOption {
	opts := []grpc.DialOption{grpc.WithDefaultCallOptions(
		grpc.MaxCallRecvMsgSize(lc.BackendMaxMessageBytes),
		grpc.MaxCallSendMsgSize(lc.BackendMaxMessageBytes),
	)}
	if lc.BackendKeepAlive > 0 {
		opts = append(opts, grpc.WithKeepaliveParams(keepalive.ClientParameters{
			Time:                lc.BackendKeepAlive,
			Timeout:             10 * time.Second,
			PermitWithoutStream: true,
		}))
	}
	return opts
}

// parseRate reads a rate: N, N/s, N/m or N/h, as units per second.
func parseRate(s string) (float64, error) {
	num, unit, _ := strings.Cut(strings.TrimSpace(s), "/")
	per := 1.0
	switch unit {
	case "", "s":
	case "m":
		per = 60
	case "h":
		per = 3600
	default:
		return 0, fmt.Errorf("rate %q: want N, N/s, N/m or N/h", s)
	}
	n, err := strconv.ParseFloat(num, 64)
	if err != nil || n < 0 || math.IsInf(n, 0) || math.IsNaN(n) {
		return 0, fmt.Errorf("rate %q: want a number of calls, such as 100/s", s)
	}
	return n / per, nil
}

// formatRate writes a rate as parseRate reads it.
func formatRate(perSecond float64) string {
	return strconv.FormatFloat(perSecond, 'f', -1, 64) + "/s"
}

// parseRateClass reads NAME=RATE[:BURST]; the burst defaults to one
// second's worth, the rate rounded up.
func parseRateClass(spec string) (ratelimit.Class, error) {
	name, rest, ok := strings.Cut(spec, "=")
	if !ok || name == "" {
		return ratelimit.Class{}, fmt.Errorf("%q: want NAME=RATE[:BURST], such as search=5/s:10", spec)
	}
	rateText, burstText, hasBurst := strings.Cut(rest, ":")
	rate, err := parseRate(rateText)
	if err != nil {
		return ratelimit.Class{}, fmt.Errorf("%q: %w", spec, err)
	}
	c := ratelimit.Class{Name: name, Rate: rate, Burst: int(math.Ceil(rate))}
	if hasBurst {
		if c.Burst, err = strconv.Atoi(burstText); err != nil {
			return ratelimit.Class{}, fmt.Errorf("%q: burst %q is not a whole number", spec, burstText)
		}
	}
	if err := c.Validate(); err != nil {
		return ratelimit.Class{}, fmt.Errorf("%q: %w", spec, err)
	}
	return c, nil
}

// logLimits records the limits in force at start, for whoever reads the
// logs when a limit bites.
func (g *governance) logLimits(log *slog.Logger) {
	lc := g.cfg
	rate := "off"
	if lc.RateLimit > 0 {
		rate = formatRate(lc.RateLimit)
	}
	store := "local"
	if g.redis != nil {
		store = "redis"
	}
	log.Info("limits",
		"rate_limit", rate, "rate_burst", lc.RateBurst, "rate_classes", lc.RateClasses, "rate_store", store,
		"concurrency", lc.Concurrency, "principal_concurrency", lc.PrincipalConcurrency,
		"max_connections", lc.MaxConnections, "max_requests", lc.MaxRequests,
		"max_body_bytes", lc.MaxBodyBytes, "max_stream_duration", lc.MaxStreamDuration)
}
