package limits_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/toolwire/toolwire/edge/policy/limits"
)

// newClient returns a client with a transport of its own, closed when the
// test ends, so that no keep-alive goroutine outlives it.
func newClient(t *testing.T) *http.Client {
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

// TestShedUnderOverload fills a server's in-flight bound with requests that
// block, then measures how fast further requests are refused.
func TestShedUnderOverload(t *testing.T) {
	block := make(chan struct{})
	entered := make(chan struct{}, 2)
	slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		<-block
		w.WriteHeader(http.StatusNoContent)
	})
	srv := httptest.NewServer(limits.Shed(slow, &limits.ShedOptions{MaxInFlight: 2, Registerer: prometheus.NewRegistry()}))
	defer srv.Close()
	client := newClient(t)

	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			resp, err := client.Get(srv.URL)
			if err != nil {
				t.Errorf("admitted request: %v", err)
				return
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusNoContent {
				t.Errorf("admitted request: status %d", resp.StatusCode)
			}
		})
		<-entered
	}

	// Warm one connection, then time sequential refusals.
	var lat []time.Duration
	for i := range 201 {
		start := time.Now()
		resp, err := client.Get(srv.URL)
		took := time.Since(start)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "1" {
			t.Fatalf("over capacity: status %d, Retry-After %q; want 503, 1", resp.StatusCode, resp.Header.Get("Retry-After"))
		}
		var msg struct{ Error string }
		if err := json.Unmarshal(body, &msg); err != nil || msg.Error != "overloaded" {
			t.Errorf("body %q: want a JSON overloaded error", body)
		}
		if i > 0 {
			lat = append(lat, took)
		}
	}
	slices.Sort(lat)
	t.Logf("503 latency over loopback HTTP/1.1 (%d requests): p50 %v, p99 %v, max %v",
		len(lat), lat[len(lat)/2], lat[len(lat)*99/100], lat[len(lat)-1])

	close(block)
	wg.Wait()
	// Capacity is back.
	resp, err := client.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Errorf("after the load: status %d; want 204", resp.StatusCode)
	}
}

func TestShedOverloadedAndExempt(t *testing.T) {
	overloaded := true
	h := limits.Shed(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}), &limits.ShedOptions{
		Overloaded: func() bool { return overloaded },
		Exempt:     func(r *http.Request) bool { return r.URL.Path == "/healthz" },
		RetryAfter: 1500 * time.Millisecond,
		Registerer: prometheus.NewRegistry(),
	})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/mcp", nil))
	if rec.Code != 503 || rec.Header().Get("Retry-After") != "2" {
		t.Errorf("overloaded: %d, Retry-After %q; want 503, 2", rec.Code, rec.Header().Get("Retry-After"))
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/healthz", nil))
	if rec.Code != 200 {
		t.Errorf("exempt: %d; want 200", rec.Code)
	}
	overloaded = false
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/mcp", nil))
	if rec.Code != 200 {
		t.Errorf("not overloaded: %d; want 200", rec.Code)
	}
}

// BenchmarkShed measures the handler's cost of refusing a request.
func BenchmarkShed(b *testing.B) {
	h := limits.Shed(http.NotFoundHandler(), &limits.ShedOptions{
		Overloaded: func() bool { return true },
		Registerer: prometheus.NewRegistry(),
	})
	req := httptest.NewRequest("POST", "/mcp", nil)
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 503 {
			b.Fatal(rec.Code)
		}
	}
}
