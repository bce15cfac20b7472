package loadgen

import (
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	ms := func(ns ...int) []time.Duration {
		out := make([]time.Duration, len(ns))
		for i, n := range ns {
			out[i] = time.Duration(n) * time.Millisecond
		}
		return out
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = i + 1
	}
	tests := []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{"empty", nil, 50, 0},
		{"one sample, p50", ms(7), 50, 7 * time.Millisecond},
		{"one sample, p99", ms(7), 99, 7 * time.Millisecond},
		{"one sample, max", ms(7), 100, 7 * time.Millisecond},
		{"two samples, p50 is the lower", ms(1, 2), 50, 1 * time.Millisecond},
		{"two samples, p51 is the upper", ms(1, 2), 51, 2 * time.Millisecond},
		{"1..100, p50", ms(hundred...), 50, 50 * time.Millisecond},
		{"1..100, p90", ms(hundred...), 90, 90 * time.Millisecond},
		{"1..100, p99", ms(hundred...), 99, 99 * time.Millisecond},
		{"1..100, p99.9", ms(hundred...), 99.9, 100 * time.Millisecond},
		{"1..100, max", ms(hundred...), 100, 100 * time.Millisecond},
		{"1..100, p0 is the min", ms(hundred...), 0, 1 * time.Millisecond},
		{"ten samples, p99 is the max", ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 99, 10 * time.Millisecond},
		{"ten samples, p90", ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 90, 9 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := percentile(tt.sorted, tt.p); got != tt.want {
				t.Errorf("percentile(%v, %v) = %v, want %v", tt.sorted, tt.p, got, tt.want)
			}
		})
	}
}

func TestSummarise(t *testing.T) {
	// Unsorted input, left as it was.
	in := []time.Duration{5 * time.Millisecond, 1500 * time.Microsecond, 3 * time.Millisecond, 2 * time.Millisecond}
	got := summarise(in)
	want := latencies{P50: 2, P90: 5, P99: 5, Max: 5}
	if got != want {
		t.Errorf("summarise = %+v, want %+v", got, want)
	}
	if in[0] != 5*time.Millisecond {
		t.Error("summarise sorted its input in place")
	}
	if got := summarise([]time.Duration{1234567}); got.P50 != 1.235 {
		t.Errorf("p50 of 1.234567ms = %v, want 1.235 (3 decimals)", got.P50)
	}
	if got := summarise(nil); got != (latencies{}) {
		t.Errorf("summarise(nil) = %+v, want zeros", got)
	}
}
