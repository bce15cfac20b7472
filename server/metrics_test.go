package server_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/toolwire/toolwire/server"
)

func TestServeMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	probe := prometheus.NewCounter(prometheus.CounterOpts{Name: "toolwire_test_probe_total", Help: "A series for the test."})
	reg.MustRegister(probe)
	probe.Add(3)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- server.ServeMetrics(ctx, lis, reg) }()
	resp, err := http.Get("http://" + lis.Addr().String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "toolwire_test_probe_total 3") {
		t.Errorf("/metrics lacks the registry's series:\n%s", body)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("ServeMetrics: %v", err)
	}
}
