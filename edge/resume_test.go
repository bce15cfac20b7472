package edge

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/toolwire/toolwire/edge/catalog"
	echov1 "github.com/toolwire/toolwire/gen/go/examples/echo/v1"
)

// sseEvent is one event read from a stream: its id and data.
type sseEvent struct{ id, data string }

// sseEvents reads an SSE stream's lines into events; comments are skipped.
func sseEvents(ch <-chan string) <-chan sseEvent {
	out := make(chan sseEvent, 64)
	go func() {
		defer close(out)
		var ev sseEvent
		seen := false
		for l := range ch {
			switch {
			case l == "":
				if seen {
					out <- ev
				}
				ev, seen = sseEvent{}, false
			case strings.HasPrefix(l, "id: "):
				ev.id, seen = strings.TrimPrefix(l, "id: "), true
			case strings.HasPrefix(l, "data: "), l == "data:":
				ev.data, seen = strings.TrimSpace(strings.TrimPrefix(l, "data:")), true
			case strings.HasPrefix(l, "event: "):
				seen = true
			}
		}
	}()
	return out
}

func nextEvent(t *testing.T, ch <-chan sseEvent) sseEvent {
	t.Helper()
	select {
	case ev, ok := <-ch:
		if !ok {
			t.Fatal("stream ended")
		}
		return ev
	case <-time.After(10 * time.Second):
		t.Fatal("no event in 10s")
	}
	panic("unreachable")
}

// openSession opens a 2025-11-25 session with raw HTTP, its log level set
// to info.
func openSession(t *testing.T, url string) string {
	t.Helper()
	resp := rawPost(t, url, "", `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`)
	sid := resp.Header.Get("Mcp-Session-Id")
	if sid == "" {
		t.Fatal("no session")
	}
	rawPost(t, url, sid, `{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	return sid
}

// getStream opens sid's GET stream, resuming after lastID if it is set.
func getStream(t *testing.T, url, sid, lastID string) (*http.Response, context.CancelFunc) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Mcp-Session-Id", sid)
	req.Header.Set("Mcp-Protocol-Version", "2025-11-25")
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); resp.Body.Close() })
	return resp, cancel
}

func logTo(t *testing.T, s *liveSession, msg string) {
	t.Helper()
	if err := s.ss.Log(context.Background(), &mcp.LoggingMessageParams{Level: "warning", Data: msg}); err != nil {
		t.Fatal(err)
	}
}

// A client that lost its GET stream and comes back with Last-Event-ID gets
// exactly the events it missed, in order, once, then the live ones; the
// resumed stream replaces the old one, whose loss no write had found yet.
func TestResumeGETStream(t *testing.T) {
	e, url := streamEdge(t, time.Hour)
	sid := openSession(t, url)
	rawPost(t, url, sid, `{"jsonrpc":"2.0","id":2,"method":"logging/setLevel","params":{"level":"info"}}`)
	s := e.sessions.byIDForTest(sid)

	get, cancel := getStream(t, url, sid, "")
	if get.StatusCode != http.StatusOK {
		t.Fatalf("GET: %s", get.Status)
	}
	evs := sseEvents(lines(get.Body))
	if ev := nextEvent(t, evs); ev != (sseEvent{id: "_0"}) {
		t.Fatalf("first event %+v, want the priming event _0", ev)
	}
	logTo(t, s, "one")
	if ev := nextEvent(t, evs); ev.id != "_1" || !strings.Contains(ev.data, `"one"`) {
		t.Fatalf("event %+v, want _1 with one", ev)
	}
	// The client goes away; the server has not noticed (no keep-alive).
	cancel()
	for _, m := range []string{"two", "three", "four"} {
		logTo(t, s, m)
	}

	again, _ := getStream(t, url, sid, "_1")
	if again.StatusCode != http.StatusOK || again.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("resuming GET: %s %q", again.Status, again.Header.Get("Content-Type"))
	}
	evs = sseEvents(lines(again.Body))
	var got []string
	for range 3 {
		ev := nextEvent(t, evs)
		got = append(got, ev.id+" "+ev.data)
	}
	logTo(t, s, "five") // live, after the replay
	ev := nextEvent(t, evs)
	got = append(got, ev.id+" "+ev.data)
	want := []string{}
	for i, m := range []string{"two", "three", "four", "five"} {
		want = append(want, fmt.Sprintf(`_%d {"jsonrpc":"2.0","method":"notifications/message","params":{"data":%q,"level":"warning"}}`, i+2, m))
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("resumed stream (-want +got):\n%s", diff)
	}
	// Nothing else: no event is sent twice.
	select {
	case ev, ok := <-evs:
		if ok {
			t.Errorf("unexpected event %+v", ev)
		}
	case <-time.After(100 * time.Millisecond):
	}

	// Resuming from the latest event replays nothing and waits for more.
	third, _ := getStream(t, url, sid, "_5")
	if third.StatusCode != http.StatusOK {
		t.Fatalf("GET from _5: %s", third.Status)
	}
	evs = sseEvents(lines(third.Body))
	logTo(t, s, "six")
	if ev := nextEvent(t, evs); ev.id != "_6" || !strings.Contains(ev.data, `"six"`) {
		t.Errorf("event %+v, want _6 with six", ev)
	}
}

// A Last-Event-ID the edge cannot replay from gets the SDK's 400, not a
// stream with a silent gap; an unknown session gets 404.
func TestResumeUnknownEventID(t *testing.T) {
	e, url := streamEdge(t, time.Hour)
	sid := openSession(t, url)
	rawPost(t, url, sid, `{"jsonrpc":"2.0","id":2,"method":"logging/setLevel","params":{"level":"info"}}`)
	s := e.sessions.byIDForTest(sid)

	// Before the edge served a stream there is nothing to resume.
	if r, _ := getStream(t, url, sid, "_0"); r.StatusCode != http.StatusBadRequest {
		t.Errorf("resume before any stream: %s, want 400", r.Status)
	}
	get, cancel := getStream(t, url, sid, "")
	evs := sseEvents(lines(get.Body))
	nextEvent(t, evs) // priming
	cancel()
	// More events than the history holds: the first ones are dropped.
	for i := range resumeMaxEvents + 2 {
		logTo(t, s, fmt.Sprint("m", i))
	}
	for _, c := range []struct {
		id   string
		code int
		body string
	}{
		{"_1", http.StatusBadRequest, "failed to replay events"}, // dropped
		{"_999", http.StatusBadRequest, "failed to replay events"},
		{"abc_1", http.StatusBadRequest, "failed to replay events"}, // a POST stream's, in the SDK's form
		{"garbage", http.StatusBadRequest, "malformed Last-Event-ID"},
		{"_-1", http.StatusBadRequest, "malformed Last-Event-ID"},
	} {
		r, _ := getStream(t, url, sid, c.id)
		b := make([]byte, 200)
		n, _ := r.Body.Read(b)
		if r.StatusCode != c.code || !strings.Contains(string(b[:n]), c.body) {
			t.Errorf("Last-Event-ID %s: %s %q, want %d %q", c.id, r.Status, b[:n], c.code, c.body)
		}
	}
	// The oldest event still held can be resumed after.
	s.events.mu.Lock()
	first := s.events.first()
	s.events.mu.Unlock()
	r, _ := getStream(t, url, sid, fmt.Sprint("_", first-1))
	if r.StatusCode != http.StatusOK {
		t.Fatalf("resume from the oldest held: %s", r.Status)
	}
	evs = sseEvents(lines(r.Body))
	if ev := nextEvent(t, evs); ev.id != fmt.Sprint("_", first) {
		t.Errorf("first replayed %+v, want _%d", ev, first)
	}
	if r, _ := getStream(t, url, "no-such-session", "_1"); r.StatusCode != http.StatusNotFound {
		t.Errorf("unknown session: %s, want 404", r.Status)
	}
}

// The history is bounded in count and bytes, and costs nothing until
// something is sent.
func TestResumeHistoryBounds(t *testing.T) {
	var l eventLog
	l.on, l.next = true, 1
	for range 3 * resumeMaxEvents {
		l.keep(make([]byte, 10))
	}
	if len(l.events) != resumeMaxEvents || l.size != 10*resumeMaxEvents || l.first() != l.next-resumeMaxEvents {
		t.Errorf("count bound: %d events, %d bytes, first %d next %d", len(l.events), l.size, l.first(), l.next)
	}
	for range 10 {
		l.keep(make([]byte, resumeMaxBytes/4))
	}
	if l.size > resumeMaxBytes || len(l.events) != 4 {
		t.Errorf("byte bound: %d events, %d bytes", len(l.events), l.size)
	}
	l.keep(make([]byte, resumeMaxBytes+1))
	if len(l.events) != 0 || l.size != 0 {
		t.Errorf("an event too large to hold: %d events, %d bytes held", len(l.events), l.size)
	}
	if _, ok := l.resumeFrom(l.next - 2); ok {
		t.Error("resumed across an event not held")
	}
	if evs, ok := l.resumeFrom(l.next - 1); !ok || len(evs) != 0 {
		t.Errorf("resume from the last event: %d, %v", len(evs), ok)
	}
}

// A session the edge opened and that has no SDK session gets the list
// changes it missed while its stream was down, too.
func TestResumeLazySessionListChanged(t *testing.T) {
	e, url := streamEdge(t, time.Hour)
	sid := openSession(t, url)
	get, cancel := getStream(t, url, sid, "")
	evs := sseEvents(lines(get.Body))
	nextEvent(t, evs)
	cancel()
	if e.sessions.byIDForTest(sid).sdkSession() != nil {
		t.Fatal("the session has an SDK session")
	}
	svc := echov1.File_examples_echo_v1_echo_proto.Services().Get(0)
	cat, err := catalog.New([]protoreflect.ServiceDescriptor{svc}, &catalog.Options{
		Include: func(md protoreflect.MethodDescriptor) bool { return md.Name() == "Echo" },
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.SetCatalog(cat, func(protoreflect.FullName) (grpc.ClientConnInterface, bool) { return nil, true }); err != nil {
		t.Fatal(err)
	}
	again, _ := getStream(t, url, sid, "_0")
	evs = sseEvents(lines(again.Body))
	if ev := nextEvent(t, evs); ev.id != "_1" || !strings.Contains(ev.data, "notifications/tools/list_changed") {
		t.Errorf("replayed %+v, want _1 tools/list_changed", ev)
	}
}

// The go-sdk client resumes a GET stream the server ended, with the id of
// the last event it saw, and misses nothing sent meanwhile.
func TestResumeGoSDKClient(t *testing.T) {
	e, url := streamEdge(t, time.Hour)
	var mu sync.Mutex
	var got []string
	c := mcp.NewClient(&mcp.Implementation{Name: "t", Version: "1"}, &mcp.ClientOptions{
		LoggingMessageHandler: func(_ context.Context, r *mcp.LoggingMessageRequest) {
			mu.Lock()
			got = append(got, fmt.Sprint(r.Params.Data))
			mu.Unlock()
		},
	})
	ctx := context.Background()
	cs, err := c.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: url}, &mcp.ClientSessionOptions{ProtocolVersion: "2025-11-25"})
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	if err := cs.SetLoggingLevel(ctx, &mcp.SetLoggingLevelParams{Level: "info"}); err != nil {
		t.Fatal(err)
	}
	s := e.sessions.byIDForTest(cs.ID())
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("no %s in 10s", what)
			}
		}
	}
	waitFor("GET stream", s.streaming)
	logTo(t, s, "before")
	count := func(n int) func() bool {
		return func() bool { mu.Lock(); defer mu.Unlock(); return len(got) >= n }
	}
	waitFor("first message", count(1))

	// The server ends the stream (as a maximum duration or a restarted
	// proxy would) and sends while the client is away.
	s.stream().close()
	waitFor("stream's end", func() bool { return !s.streaming() })
	logTo(t, s, "while away 1")
	logTo(t, s, "while away 2")
	waitFor("the missed messages", count(3))
	logTo(t, s, "after")
	waitFor("the live message", count(4))
	time.Sleep(100 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	if want := []string{"before", "while away 1", "while away 2", "after"}; !slices.Equal(got, want) {
		t.Errorf("messages %q, want %q", got, want)
	}
}
