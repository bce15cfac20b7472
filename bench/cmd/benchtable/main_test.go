package main

import (
	"math"
	"strings"
	"testing"
)

func TestMedian(t *testing.T) {
	for _, tt := range []struct {
		in   []float64
		want float64
	}{
		{[]float64{3, 1, 2}, 2},
		{[]float64{4, 1, 3, 2}, 2.5},
		{[]float64{7}, 7},
	} {
		if got := median(tt.in); got != tt.want {
			t.Errorf("median(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
	if !math.IsNaN(median(nil)) {
		t.Error("median(nil) is not NaN")
	}
}

func TestGroup(t *testing.T) {
	for in, want := range map[string]string{"1": "1", "1234": "1,234", "1234567.5": "1,234,567.5", "-1234": "-1,234", "123": "123"} {
		if got := group(in); got != want {
			t.Errorf("group(%s) = %s, want %s", in, got, want)
		}
	}
}

func TestWrite(t *testing.T) {
	runs := []run{
		{"server": "toolwire", "mode": "call", "repeat": "1", "calls_per_s": 9000.0, "p99_ms": 3.0, "errors": 0.0},
		{"server": "toolwire", "mode": "call", "repeat": "2", "calls_per_s": 10000.0, "p99_ms": 4.0, "errors": 1.0},
		{"server": "toolwire", "mode": "call", "repeat": "3", "calls_per_s": 11000.0, "p99_ms": 5.0, "errors": 0.0},
		{"server": "ref-gosdk", "mode": "call", "repeat": "1", "calls_per_s": 4500.0},
		{"server": "ref-gosdk", "mode": "call", "repeat": "2", "calls_per_s": 4000.0},
		{"server": "ref-gosdk", "mode": "call", "repeat": "3", "calls_per_s": 5500.0},
		{"server": "toolwire", "mode": "cancel", "how": "close", "repeat": "1", "success_pct": 100.0},
	}
	var b strings.Builder
	write(&b, runs, "toolwire", "ref-gosdk", nil)
	out := b.String()
	for _, want := range []string{
		"| figure | toolwire | ref-gosdk | target (toolwire) |",
		// Ratios 2.00, 2.50, 2.00: median 2.00, spread 2.00–2.50.
		"| calls/s ÷ ref-gosdk's, same repeat | 2.00× (2.00×–2.50×) | — | ≥ 2.00× |",
		"| echo calls/s (c=16) | 10,000 (9,000–11,000) | 4,500 (4,000–5,500) |",
		"| p99 latency ms | 4.00 (3.00–5.00) | — | ≤ 5 ms |",
		"| call errors (total) | 1 | — | 0 |",
		"| … trials reaching the handler % | 100 | — | 100% |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "progress notifications/s") {
		t.Errorf("table has a row with no data:\n%s", out)
	}
}
