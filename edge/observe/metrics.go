package observe

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// Outcome labels of toolwire_tool_calls_total.
const (
	OutcomeOK          = "ok"           // the tool returned a result
	OutcomeToolError   = "tool_error"   // the tool returned an isError result
	OutcomeInvalidArgs = "invalid_args" // arguments failed the input schema; the backend was not called
	OutcomeCancelled   = "cancelled"    // the client cancelled or went away
	OutcomeDeadline    = "deadline"     // the call's deadline passed
	OutcomeRPCError    = "rpc_error"    // a JSON-RPC error was returned
	OutcomeLimited     = "limited"      // a rate or concurrency limit refused the call; the backend was not called
)

// Metrics are the edge's tool-call metrics.
type Metrics struct {
	calls    *prometheus.CounterVec
	inFlight *prometheus.GaugeVec
}

// NewMetrics registers the edge's metrics with reg (nil means
// prometheus.DefaultRegisterer). Registering twice with one registry returns
// collectors that share the first registration, so several edges may live in
// one process.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	if reg == nil {
		reg = prometheus.DefaultRegisterer
	}
	return &Metrics{
		calls: Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "toolwire_tool_calls_total",
			Help: "MCP tool calls finished by the edge, by tool and outcome.",
		}, []string{"tool", "outcome"})),
		inFlight: Register(reg, prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "toolwire_tool_calls_in_flight",
			Help: "MCP tool calls the edge is serving now, by tool.",
		}, []string{"tool"})),
	}
}

// Register registers c with reg, or returns the equal collector already
// there, so that several edges (or tests) may share a registerer; another
// collector under the same name is a programming error and panics.
func Register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
		panic(err) // a conflicting definition is a programming error
	}
	return c
}

// ToolMetrics are one tool's series, resolved once so that the hot path does
// no label lookups.
type ToolMetrics struct {
	inFlight prometheus.Gauge
	outcomes map[string]prometheus.Counter
}

// Tool resolves the series of one tool.
func (m *Metrics) Tool(name string) *ToolMetrics {
	tm := &ToolMetrics{
		inFlight: m.inFlight.WithLabelValues(name),
		outcomes: map[string]prometheus.Counter{},
	}
	for _, o := range []string{OutcomeOK, OutcomeToolError, OutcomeInvalidArgs, OutcomeCancelled, OutcomeDeadline, OutcomeRPCError, OutcomeLimited} {
		tm.outcomes[o] = m.calls.WithLabelValues(name, o)
	}
	return tm
}

// Start counts a call in flight; call the returned func with its outcome when
// the call ends.
func (tm *ToolMetrics) Start() (done func(outcome string)) {
	tm.Begin()
	return tm.End
}

// Begin counts a call in flight, as Start does, without allocating a func;
// call End with its outcome when the call ends.
func (tm *ToolMetrics) Begin() { tm.inFlight.Inc() }

// End counts a call begun with Begin as finished with outcome.
func (tm *ToolMetrics) End(outcome string) {
	tm.inFlight.Dec()
	tm.outcomes[outcome].Inc()
}
