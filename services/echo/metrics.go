package echo

import (
	"errors"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// SleepCancelledMetric is the name of the gauge that holds when a Sleep
// handler last saw its context end before its time was up, in Unix seconds
// with nanosecond precision. The benchmark's cancel mode
// (cmd/toolwire-bench --mode cancel) reads it to time how long a client's
// cancellation takes to reach the handler.
const SleepCancelledMetric = "toolwire_echo_sleep_cancelled_at_seconds"

// sleepCancelledAt is registered on prometheus.DefaultRegisterer the first
// time it is needed, so that it is served by /metrics (--metrics-addr, or the
// demo edge's /metrics).
var sleepCancelledAt = sync.OnceValue(func() prometheus.Gauge {
	return registerGauge(prometheus.DefaultRegisterer, prometheus.NewGauge(prometheus.GaugeOpts{
		Name: SleepCancelledMetric,
		Help: "When a Sleep handler last saw its context end before its time was up, in Unix seconds (nanosecond precision).",
	}))
})

// registerGauge registers g on reg, or returns the gauge already registered
// under the same description.
func registerGauge(reg prometheus.Registerer, g prometheus.Gauge) prometheus.Gauge {
	err := reg.Register(g)
	if err == nil {
		return g
	}
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(prometheus.Gauge); ok {
			return existing
		}
	}
	// A different collector took the name: keep counting, unserved,
	// rather than fail a backend over a benchmark figure.
	return g
}

// unixSeconds is t as Unix seconds with nanosecond precision.
func unixSeconds(t time.Time) float64 {
	return float64(t.UnixNano()) / 1e9
}
