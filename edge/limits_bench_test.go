package edge

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/toolwire/toolwire/edge/catalog"
	"github.com/toolwire/toolwire/edge/policy/limits"
	"github.com/toolwire/toolwire/edge/policy/ratelimit"
)

// BenchmarkFastPathGoverned is BenchmarkFastPath's sessionless echo call
// with the limits `toolwire serve` runs with, to show what governance costs
// per call:
//
//   - none: no Limits, as BenchmarkFastPath;
//   - defaults: the concurrency limiter (global and per principal) and the
//     stream guard, as serve's defaults have them;
//   - rate: defaults plus a per-principal rate limit and a budget for the
//     tool's class, in the in-process store (effectively unbounded, so that
//     every call is admitted).
func BenchmarkFastPathGoverned(b *testing.B) {
	cat := benchCatalog(b)
	concurrency := func() *limits.Limiter {
		return limits.NewLimiter(&limits.Options{
			Global:       limits.Limit{MaxInFlight: 1024, MaxQueue: 1024},
			PerPrincipal: limits.Limit{MaxInFlight: 64, MaxQueue: 128},
			Tools:        ToolLimits(cat, 256),
			Registerer:   prometheus.NewRegistry(),
		})
	}
	for _, tc := range []struct {
		name   string
		limits func() *Limits
	}{
		{"none", func() *Limits { return nil }},
		{"defaults", func() *Limits {
			return &Limits{Concurrency: concurrency(), Stream: &limits.StreamOptions{}}
		}},
		{"rate", func() *Limits {
			return &Limits{
				Concurrency: concurrency(), Stream: &limits.StreamOptions{},
				Rate:      ratelimit.NewLocal(nil),
				Principal: ratelimit.Class{Rate: 1e9, Burst: 1e9},
				Classes:   map[string]ratelimit.Class{catalog.DefaultRateClass: {Rate: 1e9, Burst: 1e9}},
			}
		}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			h := benchEdge(b, nil, &Options{Limits: tc.limits()})
			benchCalls(b, h, benchSessionlessCall, benchSessionlessHeaders)
		})
	}
}
