package conformance_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// waitBound bounds every wait of these tests: a call, a notification, the
// session's start and end.
const waitBound = 10 * time.Second

// toolwireBin is the binary TestMain builds, or TOOLWIRE_BIN.
var toolwireBin string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if bin := os.Getenv("TOOLWIRE_BIN"); bin != "" {
		abs, err := filepath.Abs(bin)
		if err != nil {
			fmt.Fprintln(os.Stderr, "TOOLWIRE_BIN:", err)
			return 1
		}
		toolwireBin = abs
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "toolwire-conformance")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	toolwireBin = filepath.Join(dir, "toolwire")
	build := exec.Command("go", "build", "-o", toolwireBin, "github.com/toolwire/toolwire/cmd/toolwire")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building toolwire:", err)
		return 1
	}
	return m.Run()
}

// hermeticEnv is this process's environment without the variables that
// point toolwire at shared services.
func hermeticEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch name {
		case "DATABASE_URL", "REDIS_URL":
			continue
		}
		env = append(env, kv)
	}
	return env
}

// session is one `toolwire stdio` process and the go-sdk client session
// driving it.
type session struct {
	cs     *mcp.ClientSession
	wire   *wire
	stderr *syncBuffer

	// What the client's handlers saw, in order.
	logs     chan *mcp.LoggingMessageParams
	progress chan *mcp.ProgressNotificationParams
	updated  chan string
	sampled  chan *mcp.CreateMessageParams
	elicited chan *mcp.ElicitParams
}

// elicitAnswer is the answer of the suites' elicitation handlers, by the
// message the fixture asks with; nil for another message. Each call makes
// a new map: the SDK client fills in the schema's defaults in place.
func elicitAnswer(message string) map[string]any {
	switch message {
	case "Please provide your information": // tools-call-elicitation
		return map[string]any{"username": "testuser", "email": "test@example.com"}
	case "Test defaults for primitives": // elicitation-sep1034-defaults
		return map[string]any{"name": "Jane Smith", "age": 25, "score": 88, "status": "inactive", "verified": false}
	case "Test enum schemas": // elicitation-sep1330-enums
		return map[string]any{
			"untitledSingle": "option1", "titledSingle": "value1", "legacyEnum": "opt1",
			"untitledMulti": []string{"option1", "option2"}, "titledMulti": []string{"value1", "value2"},
		}
	}
	return nil
}

// samplingAnswer is the text of the suite's sampling handler.
const samplingAnswer = "This is a test response from the client"

// startSession starts `toolwire stdio --demo --services conformance` with
// extra flags and connects to it at protocol version version. A full client
// declares sampling and elicitation, answering as the suites' handlers do;
// a bare one declares neither. The session closes when the test ends.
func startSession(t *testing.T, version string, full bool, extra ...string) *session {
	t.Helper()
	s := &session{
		wire:     &wire{},
		stderr:   &syncBuffer{},
		logs:     make(chan *mcp.LoggingMessageParams, 64),
		progress: make(chan *mcp.ProgressNotificationParams, 64),
		updated:  make(chan string, 64),
		sampled:  make(chan *mcp.CreateMessageParams, 8),
		elicited: make(chan *mcp.ElicitParams, 8),
	}
	opts := &mcp.ClientOptions{
		LoggingMessageHandler: func(_ context.Context, r *mcp.LoggingMessageRequest) {
			offer(s.logs, r.Params)
		},
		ProgressNotificationHandler: func(_ context.Context, r *mcp.ProgressNotificationClientRequest) {
			offer(s.progress, r.Params)
		},
		ResourceUpdatedHandler: func(_ context.Context, r *mcp.ResourceUpdatedNotificationRequest) {
			offer(s.updated, r.Params.URI)
		},
	}
	if full {
		opts.CreateMessageHandler = func(_ context.Context, r *mcp.CreateMessageRequest) (*mcp.CreateMessageResult, error) {
			offer(s.sampled, r.Params)
			return &mcp.CreateMessageResult{
				Role:       "assistant",
				Content:    &mcp.TextContent{Text: samplingAnswer},
				Model:      "test-model",
				StopReason: "endTurn",
			}, nil
		}
		opts.ElicitationHandler = func(_ context.Context, r *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
			offer(s.elicited, r.Params)
			content := elicitAnswer(r.Params.Message)
			if content == nil {
				return &mcp.ElicitResult{Action: "decline"}, nil
			}
			return &mcp.ElicitResult{Action: "accept", Content: content}, nil
		}
	}
	client := mcp.NewClient(&mcp.Implementation{Name: "toolwire-stdio-conformance", Version: "1.0.0"}, opts)

	args := append([]string{"stdio", "--demo", "--services", "conformance"}, extra...)
	cmd := exec.Command(toolwireBin, args...)
	cmd.Env = hermeticEnv()
	cmd.Stderr = s.stderr
	transport := &mcp.LoggingTransport{
		Transport: &mcp.CommandTransport{Command: cmd, TerminateDuration: waitBound},
		Writer:    s.wire,
	}
	ctx, cancel := context.WithTimeout(t.Context(), waitBound)
	defer cancel()
	cs, err := client.Connect(ctx, transport, &mcp.ClientSessionOptions{ProtocolVersion: version})
	if err != nil {
		t.Fatalf("connecting to toolwire %s: %v\nstderr:\n%s", strings.Join(args, " "), err, s.stderr)
	}
	s.cs = cs
	t.Cleanup(func() {
		// Closing stdin ends the session; toolwire must then exit cleanly.
		if err := cs.Close(); err != nil {
			t.Errorf("closing the session (toolwire's exit): %v", err)
		}
		if t.Failed() {
			t.Logf("toolwire stderr:\n%s", s.stderr)
			t.Logf("wire (last messages):\n%s", s.wire.tail(40))
		}
	})
	return s
}

// all collects every item of a paginated list, failing the test on an
// error: the lists are walked to their last page, whatever --page-size.
func all[T any](t *testing.T, seq iter.Seq2[T, error]) []T {
	t.Helper()
	var items []T
	for item, err := range seq {
		if err != nil {
			t.Fatal(err)
		}
		items = append(items, item)
	}
	return items
}

// offer sends v on c unless c is full: a handler never blocks the client.
func offer[T any](c chan T, v T) {
	select {
	case c <- v:
	default:
	}
}

// callCtx bounds one call.
func callCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), waitBound)
	t.Cleanup(cancel)
	return ctx
}

// receive returns the next value of c, failing the test after waitBound.
func receive[T any](t *testing.T, c <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-c:
		return v
	case <-time.After(waitBound):
		t.Fatalf("no %s within %s", what, waitBound)
		panic("unreachable")
	}
}

// nextProgress returns the next progress notification for token.
func (s *session) nextProgress(t *testing.T, token string) *mcp.ProgressNotificationParams {
	t.Helper()
	for {
		if p := receive(t, s.progress, "notifications/progress for "+token); p.ProgressToken == token {
			return p
		}
	}
}

// eventually polls cond until it holds, failing the test after waitBound.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(waitBound); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, waitBound)
		}
	}
}

// wantEmptyResult checks that the last request of method was answered with
// exactly {} on the wire, as ping, logging/setLevel and
// resources/(un)subscribe must be.
func (s *session) wantEmptyResult(t *testing.T, method string) {
	t.Helper()
	resp, ok := s.wire.response(method)
	if !ok {
		t.Fatalf("no response to %s on the wire", method)
	}
	if string(resp.Result) != "{}" {
		t.Errorf("%s result = %s (error %s), want exactly {}", method, resp.Result, resp.Error)
	}
}

// wantJSON compares got, marshaled, with the JSON text want.
func wantJSON(t *testing.T, what string, got any, want string) {
	t.Helper()
	b, err := json.Marshal(got)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if diff := cmp.Diff(decodeJSON(t, want), decodeJSON(t, string(b))); diff != "" {
		t.Errorf("%s (-want +got):\n%s", what, diff)
	}
}

// decodeJSON decodes a JSON text into plain Go values.
func decodeJSON(t *testing.T, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("decoding %q: %v", s, err)
	}
	return v
}

// wire records a session's JSON-RPC messages from the lines
// mcp.LoggingTransport writes: "write: {...}" for what the client sent,
// "read: {...}" for what toolwire wrote.
type wire struct {
	mu   sync.Mutex
	part []byte
	msgs []wireMsg
}

// wireMsg is one JSON-RPC message on the wire.
type wireMsg struct {
	Sent   bool            `json:"-"` // client to server
	Line   string          `json:"-"`
	ID     json.RawMessage `json:"id"`
	Method string          `json:"method"`
	Params json.RawMessage `json:"params"`
	Result json.RawMessage `json:"result"`
	Error  json.RawMessage `json:"error"`
}

func (w *wire) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.part = append(w.part, p...)
	for {
		i := bytes.IndexByte(w.part, '\n')
		if i < 0 {
			return len(p), nil
		}
		line := string(w.part[:i])
		w.part = w.part[i+1:]
		dir, body, _ := strings.Cut(line, ": ")
		if dir != "read" && dir != "write" {
			continue // "read error: EOF" and the like
		}
		m := wireMsg{Sent: dir == "write", Line: line}
		if err := json.Unmarshal([]byte(body), &m); err != nil {
			continue
		}
		w.msgs = append(w.msgs, m)
	}
}

// lastRequest returns the last request the client sent that match accepts.
func (w *wire) lastRequest(match func(wireMsg) bool) (wireMsg, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for i := len(w.msgs) - 1; i >= 0; i-- {
		if m := w.msgs[i]; m.Sent && m.ID != nil && match(m) {
			return m, true
		}
	}
	return wireMsg{}, false
}

// responseTo returns toolwire's response to the client's request id.
func (w *wire) responseTo(id json.RawMessage) (wireMsg, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, m := range w.msgs {
		if !m.Sent && m.Method == "" && bytes.Equal(m.ID, id) {
			return m, true
		}
	}
	return wireMsg{}, false
}

// response returns toolwire's response to the last request of method.
func (w *wire) response(method string) (wireMsg, bool) {
	req, ok := w.lastRequest(func(m wireMsg) bool { return m.Method == method })
	if !ok {
		return wireMsg{}, false
	}
	return w.responseTo(req.ID)
}

// sentNotification reports whether the client sent a notification of
// method whose params satisfy match.
func (w *wire) sentNotification(method string, match func(params json.RawMessage) bool) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, m := range w.msgs {
		if m.Sent && m.ID == nil && m.Method == method && match(m.Params) {
			return true
		}
	}
	return false
}

// tail is the last n messages, each cut to 300 bytes.
func (w *wire) tail(n int) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var b strings.Builder
	for _, m := range w.msgs[max(0, len(w.msgs)-n):] {
		l := m.Line
		if len(l) > 300 {
			l = l[:300] + "..."
		}
		b.WriteString(l + "\n")
	}
	return b.String()
}

// syncBuffer collects a process's stderr.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
