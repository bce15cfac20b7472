package limits

import (
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/toolwire/toolwire/edge/observe"

	"github.com/prometheus/client_golang/prometheus"
)

// DefaultShedRetryAfter is [ShedOptions.RetryAfter] when it is 0.
const DefaultShedRetryAfter = time.Second

// ShedOptions configures [Shed]. nil or zero fields mean: no in-flight bound,
// no other signal, Retry-After of [DefaultShedRetryAfter].
type ShedOptions struct {
	// MaxInFlight is the number of requests the wrapped handler may serve at
	// once; a request over it is shed. 0 means no bound.
	MaxInFlight int
	// Overloaded, if set, is asked for every request; true sheds it. It must
	// be cheap and must not block: [Limiter.Saturated] fits.
	Overloaded func() bool
	// Exempt, if set, marks requests that are neither counted nor shed, such
	// as health checks, or long-lived GET streams that would otherwise hold
	// in-flight places for their whole life.
	Exempt func(*http.Request) bool
	// RetryAfter is the Retry-After a shed request gets, rounded up to whole
	// seconds; 0 means DefaultShedRetryAfter.
	RetryAfter time.Duration
	// Registerer receives toolwire_shed_total; nil means
	// prometheus.DefaultRegisterer.
	Registerer prometheus.Registerer
}

// Shed wraps next so that, while the replica is over capacity, a request is
// answered at once with 503 Service Unavailable, a Retry-After and a short
// JSON body, without reading its body or calling next. Over capacity means
// more than MaxInFlight requests in next, or Overloaded reporting true.
//
// The check is an atomic add and, if set, one call to Overloaded, so a shed
// request costs microseconds however loaded next is: refusing early is what
// keeps the replica's latency bounded for the requests it does take.
func Shed(next http.Handler, opts *ShedOptions) http.Handler {
	var o ShedOptions
	if opts != nil {
		o = *opts
	}
	if o.RetryAfter <= 0 {
		o.RetryAfter = DefaultShedRetryAfter
	}
	reg := o.Registerer
	if reg == nil {
		reg = prometheus.DefaultRegisterer
	}
	shed := observe.Register(reg, prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: "toolwire", Name: "shed_total",
		Help: "Requests answered 503 at once because the replica was over capacity.",
	}))
	retryAfter := strconv.Itoa(int((o.RetryAfter + time.Second - 1) / time.Second))
	body := []byte(`{"error":"overloaded","message":"server over capacity; retry later","retryAfterMs":` +
		strconv.FormatInt(o.RetryAfter.Milliseconds(), 10) + "}\n")

	var inFlight atomic.Int64
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if o.Exempt != nil && o.Exempt(r) {
			next.ServeHTTP(w, r)
			return
		}
		// Look before adding, so that a flood being shed does not itself
		// inflate the count and shed requests that would fit.
		limit := int64(o.MaxInFlight)
		over := limit > 0 && inFlight.Load() >= limit
		if !over {
			over = limit > 0 && inFlight.Add(1) > limit
			defer inFlight.Add(-1)
		}
		if over || (o.Overloaded != nil && o.Overloaded()) {
			shed.Inc()
			h := w.Header()
			h.Set("Retry-After", retryAfter)
			h.Set("Content-Type", "application/json")
			h.Set("Cache-Control", "no-store")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write(body) // the client may be gone; nothing to do then
			return
		}
		next.ServeHTTP(w, r)
	})
}
