package loadgen_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/toolwire/toolwire/cmd/toolwire-bench/internal/loadgen"
)

// The figures are not checked: no timing assertions. The runs must work,
// count what they did, and find what go-sdk is known to do.

type echoIn struct {
	Text string `json:"text"`
}
type echoOut struct {
	Text string `json:"text"`
}
type streamIn struct {
	N          int `json:"n"`
	IntervalMs int `json:"interval_ms,omitempty"`
}
type sleepIn struct {
	Ms int `json:"ms"`
}

// server is an in-process go-sdk server with the benchmark's tools, and a
// /metrics that serves the sleep-cancelled gauge as the backends do.
func server(t *testing.T) (mcpURL, metricsURL string) {
	t.Helper()
	var cancelledAt atomic.Uint64 // float64 bits
	s := mcp.NewServer(&mcp.Implementation{Name: "test", Version: "1"}, nil)
	mcp.AddTool(s, &mcp.Tool{Name: "echo", Description: "echo"},
		func(_ context.Context, _ *mcp.CallToolRequest, in echoIn) (*mcp.CallToolResult, echoOut, error) {
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: in.Text}}}, echoOut(in), nil
		})
	mcp.AddTool(s, &mcp.Tool{Name: "stream", Description: "stream"},
		func(ctx context.Context, req *mcp.CallToolRequest, in streamIn) (*mcp.CallToolResult, any, error) {
			for i := 1; i <= in.N; i++ {
				if tok := req.Params.GetProgressToken(); tok != nil {
					if err := req.Session.NotifyProgress(ctx, &mcp.ProgressNotificationParams{
						ProgressToken: tok, Progress: float64(i), Total: float64(in.N),
					}); err != nil {
						return nil, nil, err
					}
				}
			}
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "done"}}}, nil, nil
		})
	mcp.AddTool(s, &mcp.Tool{Name: "sleep", Description: "sleep"},
		func(ctx context.Context, _ *mcp.CallToolRequest, in sleepIn) (*mcp.CallToolResult, any, error) {
			select {
			case <-time.After(time.Duration(in.Ms) * time.Millisecond):
				return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "slept"}}}, nil, nil
			case <-ctx.Done():
				cancelledAt.Store(math.Float64bits(float64(time.Now().UnixNano()) / 1e9))
				return nil, nil, ctx.Err()
			}
		})
	mux := http.NewServeMux()
	mux.Handle("/mcp", mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s }, nil))
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintf(w, "# TYPE %s gauge\n%s %s\n", loadgen.SleepCancelledMetric, loadgen.SleepCancelledMetric,
			strconv.FormatFloat(math.Float64frombits(cancelledAt.Load()), 'g', -1, 64))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL + "/mcp", srv.URL + "/metrics"
}

func run(t *testing.T, cfg loadgen.Config) map[string]any {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	rep, err := loadgen.Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s", b)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"server", "mode", "c", "protocol", "transport"} {
		if _, ok := m[k]; !ok {
			t.Errorf("report has no %q", k)
		}
	}
	return m
}

func TestRunAgainstGoSDK(t *testing.T) {
	if testing.Short() {
		t.Skip("runs load for a few seconds")
	}
	mcpURL, metricsURL := server(t)
	self := []loadgen.Proc{{Name: "self", PID: os.Getpid()}}

	t.Run("call", func(t *testing.T) {
		m := run(t, loadgen.Config{URL: mcpURL, Mode: loadgen.ModeCall, Server: "test", C: 4,
			Duration: time.Second, Warmup: 200 * time.Millisecond, Procs: self})
		if m["calls"].(float64) == 0 || m["errors"].(float64) != 0 {
			t.Errorf("calls = %v, errors = %v (%v); want calls and no errors", m["calls"], m["errors"], m["first_error"])
		}
		if _, ok := m["cpu_us_per_call"]; !ok {
			t.Error("no cpu_us_per_call with --pid")
		}
	})
	t.Run("stream", func(t *testing.T) {
		m := run(t, loadgen.Config{URL: mcpURL, Mode: loadgen.ModeStream, C: 2, N: 20,
			Duration: 500 * time.Millisecond, Warmup: 100 * time.Millisecond})
		if m["calls"].(float64) == 0 || m["errors"].(float64) != 0 || m["lost"].(float64) != 0 || m["misrouted"].(float64) != 0 {
			t.Errorf("stream: %v", m)
		}
		if m["progress_received"] != m["progress_expected"] {
			t.Errorf("received %v of %v progress notifications", m["progress_received"], m["progress_expected"])
		}
	})
	t.Run("idle", func(t *testing.T) {
		m := run(t, loadgen.Config{URL: mcpURL, Mode: loadgen.ModeIdle, Sessions: 20, Settle: 50 * time.Millisecond, Procs: self})
		if m["sessions_ok"].(float64) != 20 {
			t.Errorf("idle: %v", m)
		}
		if _, ok := m["rss_per_session_kib"]; !ok {
			t.Error("no rss_per_session_kib")
		}
	})
	t.Run("cancel notify", func(t *testing.T) {
		m := run(t, loadgen.Config{URL: mcpURL, Mode: loadgen.ModeCancel, How: loadgen.HowNotify, Trials: 3,
			MetricsURL: metricsURL, SleepMs: 5000, StartDelay: 20 * time.Millisecond})
		if m["success"].(float64) != 3 {
			t.Errorf("cancel notify: %v", m)
		}
		// go-sdk v1.8.0 answers a cancelled call with an isError result.
		if m["responses_after_cancel"].(float64) != 3 {
			t.Errorf("responses_after_cancel = %v, want 3 (go-sdk answers cancelled calls)", m["responses_after_cancel"])
		}
	})
	t.Run("cancel close gives up", func(t *testing.T) {
		// go-sdk's stateful handler never sees a closed connection.
		m := run(t, loadgen.Config{URL: mcpURL, Mode: loadgen.ModeCancel, How: loadgen.HowClose, Trials: 5, GiveUp: 1,
			MetricsURL: metricsURL, SleepMs: 2000, StartDelay: 20 * time.Millisecond, CancelTimeout: 300 * time.Millisecond})
		if m["trials"].(float64) != 1 || m["success"].(float64) != 0 {
			t.Errorf("cancel close: %v", m)
		}
	})
}

func TestRunCountsErrors(t *testing.T) {
	// A server whose every call is an isError result.
	mux := http.NewServeMux()
	mux.HandleFunc("/mcp", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			ID     json.RawMessage `json:"id"`
			Method string          `json:"method"`
		}
		_ = json.NewDecoder(r.Body).Decode(&req)
		if req.ID == nil {
			w.WriteHeader(http.StatusAccepted)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		result := `{"content":[{"type":"text","text":"no"}],"isError":true}`
		if req.Method == "initialize" {
			result = `{"protocolVersion":"2025-11-25","capabilities":{},"serverInfo":{"name":"x","version":"1"}}`
		}
		fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%s,"result":%s}`, req.ID, result)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	m := run(t, loadgen.Config{URL: srv.URL + "/mcp", Mode: loadgen.ModeCall, C: 1,
		Duration: 100 * time.Millisecond, Warmup: 10 * time.Millisecond})
	if m["calls"].(float64) != 0 || m["errors"].(float64) == 0 || m["first_error"] == nil {
		t.Errorf("isError results: %v", m)
	}
}

func TestRunRefusesNonLoopback(t *testing.T) {
	if _, err := loadgen.Run(t.Context(), loadgen.Config{URL: "http://192.0.2.1/mcp"}); err == nil {
		t.Error("Run against a non-loopback URL = nil error")
	}
	if _, err := loadgen.Run(t.Context(), loadgen.Config{URL: "http://127.0.0.1:1/mcp", Mode: loadgen.ModeIdle}); err == nil {
		t.Error("idle without a pid = nil error")
	}
}
