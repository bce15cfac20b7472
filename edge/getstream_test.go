package edge

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/toolwire/toolwire/edge/catalog"
	"github.com/toolwire/toolwire/edge/observe"
	echov1 "github.com/toolwire/toolwire/gen/go/examples/echo/v1"
)

func streamEdge(t *testing.T, keepAlive time.Duration) (*Edge, string) {
	t.Helper()
	return streamEdgeWith(t, &Options{KeepAlive: keepAlive})
}

func streamEdgeWith(t *testing.T, o *Options) (*Edge, string) {
	t.Helper()
	svc := echov1.File_examples_echo_v1_echo_proto.Services().Get(0)
	cat, err := catalog.New([]protoreflect.ServiceDescriptor{svc}, nil)
	if err != nil {
		t.Fatal(err)
	}
	o.Metrics = observe.NewMetrics(prometheus.NewRegistry())
	e, err := New(cat, func(protoreflect.FullName) (grpc.ClientConnInterface, bool) { return nil, true }, o)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(e.Handler())
	t.Cleanup(func() {
		e.Close()
		srv.Close()
	})
	return e, srv.URL + "/mcp"
}

func rawPost(t *testing.T, url, sid, body string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if sid != "" {
		req.Header.Set("Mcp-Session-Id", sid)
		req.Header.Set("Mcp-Protocol-Version", "2025-11-25")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// lines reads an SSE body line by line into a channel.
func lines(body io.Reader) <-chan string {
	ch := make(chan string, 64)
	go func() {
		defer close(ch)
		sc := bufio.NewScanner(body)
		for sc.Scan() {
			ch <- sc.Text()
		}
	}()
	return ch
}

func expectLine(t *testing.T, ch <-chan string, want func(string) bool, what string) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case l, ok := <-ch:
			if !ok {
				t.Fatalf("stream ended before %s", what)
			}
			if want(l) {
				return
			}
		case <-deadline:
			t.Fatalf("no %s", what)
		}
	}
}

// The standalone GET stream, served on a taken-over connection, carries the
// session's messages, keep-alive comments, and ends with the session; a
// client that goes away is noticed by a keep-alive write and its stream
// released, so the session can expire.
func TestHijackedGETStream(t *testing.T) {
	e, url := streamEdge(t, 50*time.Millisecond)
	resp := rawPost(t, url, "", `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`)
	sid := resp.Header.Get("Mcp-Session-Id")
	if sid == "" {
		t.Fatal("no session")
	}
	rawPost(t, url, sid, `{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	rawPost(t, url, sid, `{"jsonrpc":"2.0","id":2,"method":"logging/setLevel","params":{"level":"info"}}`)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Mcp-Session-Id", sid)
	req.Header.Set("Mcp-Protocol-Version", "2025-11-25")
	get, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if get.StatusCode != http.StatusOK || get.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("GET: %s %q", get.Status, get.Header.Get("Content-Type"))
	}
	ch := lines(get.Body)

	s := e.sessions.acquire(sid, "")
	if s == nil {
		t.Fatal("session not in the table")
	}
	s.release()
	if err := s.ss.Log(context.Background(), &mcp.LoggingMessageParams{Level: "warning", Data: "hello from the server"}); err != nil {
		t.Fatal(err)
	}
	expectLine(t, ch, func(l string) bool {
		return strings.HasPrefix(l, "data: ") && strings.Contains(l, `"notifications/message"`) && strings.Contains(l, "hello from the server")
	}, "log message on the GET stream")
	expectLine(t, ch, func(l string) bool { return l == ": keep-alive" }, "keep-alive comment")

	// A second GET stream for the same session is refused by the SDK, with
	// its status, on the taken-over connection too.
	req2, _ := http.NewRequest(http.MethodGet, url, nil)
	req2.Header = req.Header.Clone()
	if r2, err := http.DefaultClient.Do(req2); err != nil {
		t.Fatal(err)
	} else {
		r2.Body.Close()
		if r2.StatusCode != http.StatusConflict {
			t.Errorf("second GET stream: %s, want 409", r2.Status)
		}
	}

	// The client goes away: the stream is released within a few keep-alive
	// periods.
	cancel()
	get.Body.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s.mu.Lock()
		refs := s.refs
		s.mu.Unlock()
		if refs == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the gone client's stream still holds the session (%d refs)", refs)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Ending the session (DELETE) ends its GET stream.
func TestHijackedGETStreamEndsWithSession(t *testing.T) {
	_, url := streamEdge(t, time.Hour)
	resp := rawPost(t, url, "", `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`)
	sid := resp.Header.Get("Mcp-Session-Id")
	rawPost(t, url, sid, `{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Mcp-Session-Id", sid)
	get, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer get.Body.Close()
	ended := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, get.Body)
		close(ended)
	}()
	del, _ := http.NewRequest(http.MethodDelete, url, nil)
	del.Header.Set("Mcp-Session-Id", sid)
	r, err := http.DefaultClient.Do(del)
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE: %s", r.Status)
	}
	select {
	case <-ended:
	case <-time.After(10 * time.Second):
		t.Fatal("the GET stream outlived its session")
	}
}

// A GET stream the edge serves ends at the maximum stream duration; the
// session lives on.
func TestHijackedGETStreamMaxDuration(t *testing.T) {
	e, url := streamEdgeWith(t, &Options{KeepAlive: time.Hour, Limits: &Limits{MaxStreamDuration: 100 * time.Millisecond}})
	resp := rawPost(t, url, "", `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`)
	sid := resp.Header.Get("Mcp-Session-Id")
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Mcp-Session-Id", sid)
	req.Header.Set("Mcp-Protocol-Version", "2025-11-25")
	get, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer get.Body.Close()
	if get.StatusCode != http.StatusOK {
		t.Fatalf("GET: %s", get.Status)
	}
	ended := make(chan error, 1)
	go func() {
		_, err := io.Copy(io.Discard, get.Body)
		ended <- err
	}()
	select {
	case <-ended:
	case <-time.After(10 * time.Second):
		t.Fatal("the stream outlived its maximum duration by 10s")
	}
	if e.sessions.byIDForTest(sid) == nil {
		t.Error("the session ended with its stream")
	}
}
