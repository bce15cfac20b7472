package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync/atomic"
	"time"

	"github.com/toolwire/toolwire/edge/observe"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"
)

// FallbackMode is what a [Fallback] does while its primary store fails.
type FallbackMode string

// Fallback modes.
const (
	// FallbackLocal decides with the in-process store. Each replica then
	// enforces the whole budget on its own, so N replicas admit up to N times
	// the budget until the primary answers again. This is the default.
	FallbackLocal FallbackMode = "local"
	// FallbackAllow admits every call (fail open).
	FallbackAllow FallbackMode = "allow"
	// FallbackDeny denies every call (fail closed), with a RetryAfter of one
	// probe interval.
	FallbackDeny FallbackMode = "deny"
)

// ParseFallbackMode parses a mode from configuration; "" is [FallbackLocal].
func ParseFallbackMode(s string) (FallbackMode, error) {
	switch m := FallbackMode(s); m {
	case "":
		return FallbackLocal, nil
	case FallbackLocal, FallbackAllow, FallbackDeny:
		return m, nil
	}
	return "", fmt.Errorf("ratelimit: unknown fallback mode %q (want local, allow or deny)", s)
}

// Defaults of [FallbackOptions].
const (
	DefaultFallbackTimeout = 50 * time.Millisecond
	DefaultProbeInterval   = 500 * time.Millisecond
	DefaultLogInterval     = 30 * time.Second
)

// Reasons, the values of the "reason" label of FallbackMetric.
const (
	ReasonTimeout = "timeout" // the primary did not answer within the timeout
	ReasonError   = "error"   // the primary answered with an error
	ReasonDown    = "down"    // the primary was not asked: it failed and the next probe is not due
)

// Metric names of a [Fallback].
const (
	FallbackMetric = "toolwire_ratelimit_fallback_total"
	StoreUpMetric  = "toolwire_ratelimit_store_up"
)

// FallbackOptions configures a [Fallback]. The zero value, or nil, means the
// defaults.
type FallbackOptions struct {
	// Mode is what to do while the primary fails; "" means [FallbackLocal].
	Mode FallbackMode
	// Timeout bounds each call to the primary; 0 means
	// [DefaultFallbackTimeout]. A go-redis client honours it only when built
	// with ContextTimeoutEnabled; otherwise its own ReadTimeout applies.
	Timeout time.Duration
	// ProbeInterval is how often, at most, a call is sent to a failing
	// primary to learn whether it is back; the calls in between are decided
	// by the fallback at once. 0 means [DefaultProbeInterval].
	ProbeInterval time.Duration
	// Local decides in FallbackLocal mode; nil means NewLocal(nil).
	Local Limiter
	// Logger receives the fallback and recovery records, each at most once
	// per LogInterval; nil means slog.Default().
	Logger *slog.Logger
	// LogInterval spaces the log records; 0 means [DefaultLogInterval].
	LogInterval time.Duration
	// Registerer receives the metrics; nil means
	// prometheus.DefaultRegisterer.
	Registerer prometheus.Registerer
}

// Fallback is a [Limiter] that asks a primary store (usually [Redis]) and,
// while the primary fails or is slow, decides as its [FallbackMode] says.
//
// After a failure the primary counts as down: calls skip it until the probe
// interval has passed, then exactly one call probes it (with the usual
// timeout) while the others keep falling back. A probe that succeeds brings
// every call back to the primary. So a dead primary adds at most one
// timeout per probe interval, not one per call.
//
// Every call decided without the primary increments
// toolwire_ratelimit_fallback_total{reason}; toolwire_ratelimit_store_up is 1
// while the primary answers.
type Fallback struct {
	primary    Limiter
	local      Limiter
	mode       FallbackMode
	timeout    time.Duration
	probeEvery time.Duration
	logger     *slog.Logger
	now        func() time.Time

	counters map[string]prometheus.Counter
	up       prometheus.Gauge

	down      atomic.Bool
	probing   atomic.Bool
	nextProbe atomic.Int64 // unix nanoseconds
	downSince atomic.Int64 // unix nanoseconds
	unlogged  atomic.Int64 // fallback decisions since the last record

	// The rate of log records is limited with x/time/rate's Sometimes,
	// which runs its func the first time and then once per Interval.
	logDown, logUp rate.Sometimes
}

var _ Limiter = (*Fallback)(nil)

// NewFallback returns a [Limiter] that asks primary and falls back as opts
// says. It panics if opts.Mode is not a known mode or if a metric of the
// same name but another shape is registered, both programming errors.
func NewFallback(primary Limiter, opts *FallbackOptions) *Fallback {
	var o FallbackOptions
	if opts != nil {
		o = *opts
	}
	mode, err := ParseFallbackMode(string(o.Mode))
	if err != nil {
		panic(err)
	}
	f := &Fallback{
		primary:    primary,
		local:      o.Local,
		mode:       mode,
		timeout:    orDefault(o.Timeout, DefaultFallbackTimeout),
		probeEvery: orDefault(o.ProbeInterval, DefaultProbeInterval),
		logger:     o.Logger,
		now:        time.Now,
	}
	if f.local == nil {
		f.local = NewLocal(nil)
	}
	if f.logger == nil {
		f.logger = slog.Default()
	}
	logEvery := orDefault(o.LogInterval, DefaultLogInterval)
	f.logDown = rate.Sometimes{Interval: logEvery}
	f.logUp = rate.Sometimes{Interval: logEvery}

	reg := o.Registerer
	if reg == nil {
		reg = prometheus.DefaultRegisterer
	}
	vec := observe.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: FallbackMetric,
		Help: "Rate-limit decisions made without the primary store, by reason.",
	}, []string{"reason"}))
	f.counters = map[string]prometheus.Counter{}
	for _, r := range []string{ReasonTimeout, ReasonError, ReasonDown} {
		f.counters[r] = vec.WithLabelValues(r)
	}
	f.up = observe.Register(reg, prometheus.NewGauge(prometheus.GaugeOpts{
		Name: StoreUpMetric,
		Help: "1 while the primary rate-limit store answers, 0 while decisions fall back.",
	}))
	f.up.Set(1)
	return f
}

// Allow asks the primary, unless it is down and no probe is due, and falls
// back if it fails. The error is non-nil only for an invalid class or a
// ctx that ended: a failing primary is never the caller's error.
func (f *Fallback) Allow(ctx context.Context, key string, class Class) (Decision, error) {
	if err := class.Validate(); err != nil {
		return Decision{}, err
	}
	if f.down.Load() {
		if f.now().UnixNano() < f.nextProbe.Load() || !f.probing.CompareAndSwap(false, true) {
			return f.fallback(ctx, key, class, ReasonDown, nil)
		}
		defer f.probing.Store(false)
	}

	pctx, cancel := context.WithTimeout(ctx, f.timeout)
	d, err := f.primary.Allow(pctx, key, class)
	cancel()
	if err == nil {
		f.markUp()
		return d, nil
	}
	if ctx.Err() != nil {
		// The caller gave up; that says nothing about the primary.
		return Decision{}, fmt.Errorf("ratelimit: %w", context.Cause(ctx))
	}
	reason := ReasonError
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		reason = ReasonTimeout
	}
	f.markDown()
	return f.fallback(ctx, key, class, reason, err)
}

// Healthy reports whether the primary answered the last call sent to it.
func (f *Fallback) Healthy() bool { return !f.down.Load() }

func (f *Fallback) markDown() {
	now := f.now()
	f.nextProbe.Store(now.Add(f.probeEvery).UnixNano())
	if f.down.CompareAndSwap(false, true) {
		f.downSince.Store(now.UnixNano())
		f.up.Set(0)
	}
}

func (f *Fallback) markUp() {
	if !f.down.CompareAndSwap(true, false) {
		return
	}
	f.up.Set(1)
	downFor := f.now().Sub(time.Unix(0, f.downSince.Load()))
	f.logUp.Do(func() {
		f.logger.Info("rate-limit store answers again",
			slog.Duration("down_for", downFor),
			slog.Int64("fallback_decisions", f.unlogged.Swap(0)))
	})
}

// fallback decides without the primary. err is the primary's error, nil if
// it was not asked.
func (f *Fallback) fallback(ctx context.Context, key string, class Class, reason string, err error) (Decision, error) {
	f.counters[reason].Inc()
	f.unlogged.Add(1)
	f.logDown.Do(func() {
		attrs := []any{
			slog.String("mode", string(f.mode)),
			slog.String("reason", reason),
			slog.Int64("fallback_decisions", f.unlogged.Swap(0)),
			slog.Duration("probe_interval", f.probeEvery),
		}
		if err != nil {
			attrs = append(attrs, slog.Any("error", err))
		}
		f.logger.Warn("rate-limit store failing; deciding without it", attrs...)
	})

	switch f.mode {
	case FallbackAllow:
		return Decision{Allowed: true, Remaining: class.Burst - class.cost(), Limit: class.Burst, Class: class, Source: SourceFallback}, nil
	case FallbackDeny:
		return Decision{RetryAfter: f.probeEvery, ResetAfter: f.probeEvery, Limit: class.Burst, Class: class, Source: SourceFallback}, nil
	}
	return f.local.Allow(ctx, key, class)
}

// orDefault returns v, or def if v is not positive.
func orDefault(v, def time.Duration) time.Duration {
	if v > 0 {
		return v
	}
	return def
}
