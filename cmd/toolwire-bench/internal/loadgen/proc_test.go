package loadgen

import (
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseStatCPU(t *testing.T) {
	// A command name with spaces and parentheses; utime 1234, stime 56.
	stat := "4242 (my (odd) cmd) S 1 4242 4242 0 -1 4194560 100 0 0 0 1234 56 0 0 20 0 9 0 12345 123456789 2048 18446744073709551615\n"
	got, err := parseStatCPU([]byte(stat))
	if err != nil {
		t.Fatal(err)
	}
	if got != 1290 {
		t.Errorf("parseStatCPU = %d, want 1290", got)
	}
	for _, bad := range []string{"", "1 cmd S 1 2", "1 (cmd) S 1 2 3"} {
		if _, err := parseStatCPU([]byte(bad)); err == nil {
			t.Errorf("parseStatCPU(%q) = nil error", bad)
		}
	}
	// And this process's own.
	if _, err := processCPU(os.Getpid()); err != nil {
		t.Errorf("processCPU(self) = %v", err)
	}
}

func TestParseVmRSS(t *testing.T) {
	status := "Name:\tx\nVmPeak:\t  9999 kB\nVmRSS:\t   20480 kB\nRssAnon:\t 100 kB\n"
	got, err := parseVmRSS([]byte(status))
	if err != nil || got != 20480 {
		t.Errorf("parseVmRSS = %d, %v; want 20480", got, err)
	}
	if _, err := parseVmRSS([]byte("Name:\tx\n")); err == nil {
		t.Error("parseVmRSS without VmRSS = nil error")
	}
	if kib, err := processRSS(os.Getpid()); err != nil || kib <= 0 {
		t.Errorf("processRSS(self) = %d, %v", kib, err)
	}
}

func TestParseProcs(t *testing.T) {
	got, err := ParseProcs("edge=12, 34,")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]Proc{{"edge", 12}, {"34", 34}}, got); diff != "" {
		t.Errorf("ParseProcs (-want +got):\n%s", diff)
	}
	for _, bad := range []string{"x", "edge=", "-1", "a=b"} {
		if _, err := ParseProcs(bad); err == nil {
			t.Errorf("ParseProcs(%q) = nil error", bad)
		}
	}
	if procs, err := ParseProcs(""); err != nil || procs != nil {
		t.Errorf("ParseProcs(\"\") = %v, %v", procs, err)
	}
}

func TestParseGauge(t *testing.T) {
	text := strings.Join([]string{
		"# HELP toolwire_echo_sleep_cancelled_at_seconds When...",
		"# TYPE toolwire_echo_sleep_cancelled_at_seconds gauge",
		"toolwire_echo_sleep_cancelled_at_seconds_other 5",
		`toolwire_echo_sleep_cancelled_at_seconds{x="y"} 6`,
		"toolwire_echo_sleep_cancelled_at_seconds 1.7634567891234567e+09",
		"",
	}, "\n")
	v, ok, err := parseGauge(strings.NewReader(text), SleepCancelledMetric)
	if err != nil || !ok || v != 1.7634567891234567e+09 {
		t.Errorf("parseGauge = %v, %v, %v", v, ok, err)
	}
	if _, ok, err := parseGauge(strings.NewReader("other 1\n"), SleepCancelledMetric); ok || err != nil {
		t.Errorf("parseGauge without the metric = %v, %v", ok, err)
	}
}

func TestParseProcStatBusy(t *testing.T) {
	stat := "cpu  100 5 50 9000 20 3 2 1 7 0\ncpu0 50 2 25 4500 10 1 1 0 3 0\n"
	got, err := parseProcStatBusy([]byte(stat))
	if err != nil || got != 161 {
		t.Errorf("parseProcStatBusy = %d, %v; want 161 (user+nice+system+irq+softirq+steal)", got, err)
	}
	if _, err := parseProcStatBusy([]byte("intr 1 2\n")); err == nil {
		t.Error("parseProcStatBusy without a cpu line = nil error")
	}
	if _, err := machineBusy(); err != nil {
		t.Errorf("machineBusy = %v", err)
	}
}
