package echo_test

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	echov1 "github.com/toolwire/toolwire/gen/go/examples/echo/v1"
	"github.com/toolwire/toolwire/services/echo"
)

// sleepCancelledAt reads the gauge from the default registry, where the
// benchmark's metrics endpoints find it; ok is false when it is not there.
func sleepCancelledAt(t *testing.T) (v float64, ok bool) {
	t.Helper()
	mfs, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == echo.SleepCancelledMetric {
			return mf.GetMetric()[0].GetGauge().GetValue(), true
		}
	}
	return 0, false
}

func TestSleepRecordsWhenCancelled(t *testing.T) {
	const method = "/examples.echo.v1.EchoService/Sleep"
	client, s := serve(t)
	if _, ok := sleepCancelledAt(t); !ok {
		t.Fatalf("%s is not registered on the default registry once the service is", echo.SleepCancelledMetric)
	}

	// A sleep that runs to its end records nothing.
	before, _ := sleepCancelledAt(t)
	if _, err := client.Sleep(t.Context(), &echov1.SleepRequest{Ms: 1}); err != nil {
		t.Fatal(err)
	}
	if got, _ := sleepCancelledAt(t); got != before {
		t.Errorf("after a completed sleep the gauge moved from %v to %v", before, got)
	}

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := client.Sleep(ctx, &echov1.SleepRequest{Ms: 600000})
		done <- err
	}()
	waitFor(t, "the handler to start", func() bool { return s.InFlight(method) == 1 })
	t0 := time.Now()
	cancel()
	<-done
	waitFor(t, "the handler to return", func() bool { return s.InFlight(method) == 0 })
	t1 := time.Now()

	got, _ := sleepCancelledAt(t)
	lo, hi := float64(t0.UnixNano())/1e9, float64(t1.UnixNano())/1e9
	if got < lo || got > hi {
		t.Errorf("%s = %.6f, want between the cancel (%.6f) and the handler's return (%.6f)", echo.SleepCancelledMetric, got, lo, hi)
	}
}

func TestRegisterGaugeReusesExisting(t *testing.T) {
	reg := prometheus.NewRegistry()
	opts := prometheus.GaugeOpts{Name: echo.SleepCancelledMetric, Help: "h"}
	first := echo.RegisterGauge(reg, prometheus.NewGauge(opts))
	second := echo.RegisterGauge(reg, prometheus.NewGauge(opts))
	second.Set(42)
	var m dto.Metric
	if err := first.Write(&m); err != nil {
		t.Fatal(err)
	}
	if got := m.GetGauge().GetValue(); got != 42 {
		t.Errorf("the second registration did not return the first gauge: first reads %v after second.Set(42)", got)
	}
}
