package edge_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// BenchmarkCancel measures how long a cancellation takes to reach the backend
// handler: from the moment the client cancels to the moment the backend's
// context is done (the fake backend timestamps it). One iteration is one
// trial; run with -benchtime=Nx. It reports p50/p99/max in µs and the share
// of trials that reached the backend at all (the target is 100%).
//
//	go test -run '^$' -bench BenchmarkCancel -benchtime 200x ./edge/
func BenchmarkCancel(b *testing.B) {
	for _, tc := range []struct {
		name  string
		trial func(b *testing.B, f *fixture) (time.Duration, bool)
	}{
		{"streamable-2025-11-25/notify", streamableNotify},
		{"streamable-2025-11-25/close", streamableClose},
		{"streamable-2026-07-28/close", sessionlessClose},
		{"sse-2024-11-05/notify", sseNotify},
		{"sse-2024-11-05/close", sseClose},
		{"stdio/notify", stdioNotify},
		{"stdio/eof", stdioEOF},
	} {
		b.Run(tc.name, func(b *testing.B) {
			f := newFixture(b)
			var lat []time.Duration
			ok := 0
			for b.Loop() {
				d, reached := tc.trial(b, f)
				if reached {
					ok++
					lat = append(lat, d)
				}
			}
			report(b, lat, ok)
		})
	}
}

func report(b *testing.B, lat []time.Duration, ok int) {
	b.Helper()
	slices.Sort(lat)
	pct := func(p float64) float64 {
		if len(lat) == 0 {
			return 0
		}
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds())
	}
	b.ReportMetric(pct(0.50), "p50-µs")
	b.ReportMetric(pct(0.99), "p99-µs")
	b.ReportMetric(pct(1), "max-µs")
	b.ReportMetric(100*float64(ok)/float64(b.N), "reached-%")
	b.ReportMetric(0, "ns/op")
}

// ended waits for the backend to report its context done, and returns the
// latency from t0.
func ended(f *fixture, t0 time.Time) (time.Duration, bool) {
	select {
	case at := <-f.backend.Echo.Ended:
		return at.Sub(t0), true
	case <-time.After(5 * time.Second):
		return 0, false
	}
}

func started(b *testing.B, f *fixture) {
	b.Helper()
	select {
	case <-f.backend.Echo.Started:
	case <-time.After(5 * time.Second):
		b.Fatal("sleep never started")
	}
}

const sleepCall = `{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"sleep","arguments":{"ms":30000}}}`

var benchSessions = map[*fixture]string{}

func benchSession(b *testing.B, f *fixture) string {
	if sid, ok := benchSessions[f]; ok {
		return sid
	}
	sid := rawSession(b, f.url+"/mcp")
	benchSessions[f] = sid
	return sid
}

var trialID = 1000

// streamableNotify: the call's POST stays open; notifications/cancelled
// arrives on a second POST.
func streamableNotify(b *testing.B, f *fixture) (time.Duration, bool) {
	sid := benchSession(b, f)
	trialID++
	id := trialID
	resp := make(chan *http.Response, 1)
	go func() { resp <- post(b, context.Background(), f.url+"/mcp", sid, fmt.Sprintf(sleepCall, id)) }()
	started(b, f)
	t0 := time.Now()
	r := post(b, context.Background(), f.url+"/mcp", sid,
		fmt.Sprintf(`{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":%d}}`, id))
	r.Body.Close()
	d, ok := ended(f, t0)
	call := <-resp
	_, _ = io.Copy(io.Discard, call.Body)
	call.Body.Close()
	return d, ok
}

// streamableClose: the client drops the call's POST without a word.
func streamableClose(b *testing.B, f *fixture) (time.Duration, bool) {
	sid := benchSession(b, f)
	trialID++
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, f.url+"/mcp", strings.NewReader(fmt.Sprintf(sleepCall, trialID)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		req.Header.Set("Mcp-Session-Id", sid)
		req.Header.Set("Mcp-Protocol-Version", "2025-11-25")
		if resp, err := http.DefaultClient.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}()
	started(b, f)
	t0 := time.Now()
	cancel()
	return ended(f, t0)
}

// sessionlessClose: a 2026-07-28 request, cancelled by closing its POST.
func sessionlessClose(b *testing.B, f *fixture) (time.Duration, bool) {
	trialID++
	ctx, cancel := context.WithCancel(context.Background())
	body := fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"sleep","arguments":{"ms":30000},`+
		`"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientInfo":{"name":"bench","version":"1"},"io.modelcontextprotocol/clientCapabilities":{}}}}`, trialID)
	go func() {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, f.url+"/mcp", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		req.Header.Set("Mcp-Protocol-Version", "2026-07-28")
		req.Header.Set("Mcp-Method", "tools/call")
		req.Header.Set("Mcp-Name", "sleep")
		if resp, err := http.DefaultClient.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}()
	started(b, f)
	t0 := time.Now()
	cancel()
	return ended(f, t0)
}

var benchClients = map[string]*mcp.ClientSession{}

// sdkCancel starts sleep on cs and cancels its context: the go-sdk client
// then sends notifications/cancelled.
func sdkCancel(b *testing.B, f *fixture, cs *mcp.ClientSession) (time.Duration, bool) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = cs.CallTool(ctx, &mcp.CallToolParams{Name: "sleep", Arguments: map[string]any{"ms": 30000}})
	}()
	started(b, f)
	t0 := time.Now()
	cancel()
	d, ok := ended(f, t0)
	<-done
	return d, ok
}

func sseNotify(b *testing.B, f *fixture) (time.Duration, bool) {
	cs, ok := benchClients["sse"+f.url]
	if !ok {
		cs = connect(b, mcp.NewClient(&mcp.Implementation{Name: "bench", Version: "1"}, nil),
			&mcp.SSEClientTransport{Endpoint: f.url + "/sse"}, "2024-11-05")
		benchClients["sse"+f.url] = cs
	}
	return sdkCancel(b, f, cs)
}

// sseClose drops the SSE stream's connection (a session per trial).
func sseClose(b *testing.B, f *fixture) (time.Duration, bool) {
	conns := &connTracker{}
	hc := &http.Client{Transport: &http.Transport{DialContext: conns.dial}}
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "bench", Version: "1"}, nil).Connect(context.Background(),
		&mcp.SSEClientTransport{Endpoint: f.url + "/sse", HTTPClient: hc}, &mcp.ClientSessionOptions{ProtocolVersion: "2024-11-05"})
	if err != nil {
		b.Fatal(err)
	}
	go func() {
		_, _ = cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "sleep", Arguments: map[string]any{"ms": 30000}})
	}()
	started(b, f)
	t0 := time.Now()
	conns.closeAll()
	return ended(f, t0)
}

func stdioNotify(b *testing.B, f *fixture) (time.Duration, bool) {
	cs, ok := benchClients["stdio"+f.url]
	if !ok {
		cs, _ = connectStdio(b, f, mcp.NewClient(&mcp.Implementation{Name: "bench", Version: "1"}, nil))
		benchClients["stdio"+f.url] = cs
	}
	return sdkCancel(b, f, cs)
}

// stdioEOF closes stdin under a running call (a session per trial).
func stdioEOF(b *testing.B, f *fixture) (time.Duration, bool) {
	cs, stdin := connectStdio(b, f, mcp.NewClient(&mcp.Implementation{Name: "bench", Version: "1"}, nil))
	go func() {
		_, _ = cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "sleep", Arguments: map[string]any{"ms": 30000}})
	}()
	started(b, f)
	t0 := time.Now()
	_ = stdin.Close()
	return ended(f, t0)
}
