package loadgen

import (
	"math"
	"slices"
	"time"
)

// percentile returns the p-th percentile (0 < p ≤ 100) of sorted by the
// nearest-rank method: the smallest sample with at least p% of the samples
// at or below it. It returns 0 for no samples.
func percentile(sorted []time.Duration, p float64) time.Duration {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(n)))
	rank = max(1, min(n, rank))
	return sorted[rank-1]
}

// latencies summarises samples: p50, p90, p99 and max, in milliseconds.
type latencies struct {
	P50, P90, P99, Max float64
}

func summarise(samples []time.Duration) latencies {
	s := slices.Clone(samples)
	slices.Sort(s)
	ms := func(d time.Duration) float64 { return round(float64(d)/float64(time.Millisecond), 3) }
	return latencies{
		P50: ms(percentile(s, 50)),
		P90: ms(percentile(s, 90)),
		P99: ms(percentile(s, 99)),
		Max: ms(percentile(s, 100)),
	}
}

// round rounds x to digits decimal places.
func round(x float64, digits int) float64 {
	p := math.Pow10(digits)
	return math.Round(x*p) / p
}
