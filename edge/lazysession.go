package edge

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/toolwire/toolwire/edge/internal/rpcscan"
)

// Sessions the edge opens itself, and the SDK's session only when needed.
//
// A 2025-era session costs the SDK a ServerSession, a jsonrpc2 connection
// with a reader goroutine, and about 350 KB of garbage to set up, most of it
// 32 KiB decoder buffers (MCP-NOTES.md): freed, but held by the heap until
// the scavenger returns it, which is what an idle session's RSS was made of
// (issue 3). Most sessions only ever call tools, which the fast path
// answers without the SDK. So the edge answers a well-formed initialize
// itself, with the result the SDK gives for that protocol version (learnt
// once, by asking the SDK: probeInitialize), and keeps the body. The first
// request on the session that the SDK must answer (tools/list, ping, a
// resource, anything the fast path passes on) opens the SDK session first:
// the edge replays the client's initialize, and notifications/initialized
// if the client sent it, to the SDK, so that its session is exactly the one
// the client would have had. Clients see no difference; the session id they
// know is the edge's, and the router gives the SDK its own (the SDK makes
// up ids itself and exposes no way to choose one per session).
//
// Notifications the SDK sends to every session (list changes) reach only
// sessions it has. When the catalog changes at run time (catalogswap.go),
// the edge writes the list changes to the GET stream of each session still
// without an SDK session itself, and the capabilities it learnt are learnt
// again.

// lazyInit is what opening a session's SDK session needs.
type lazyInit struct {
	// body is the client's initialize request, as it came.
	body []byte
	// initialized says the client has sent notifications/initialized
	// (guarded by the session's mu).
	initialized bool
	// open serialises opening (and a DELETE with it); a session whose
	// opening failed is closed.
	open sync.Mutex
}

// openingKey marks the context of the edge's own initialize requests to
// the SDK (see trackSessions): a *liveSession whose SDK session this is, or
// a probe.
type openingKey struct{}

// probe marks probeInitialize's requests.
type probe struct{}

// initResults are the SDK's initialize results by the protocol version the
// client asks for, learnt by probeInitialize.
type initResults struct {
	once      sync.Once
	byVersion map[string]json.RawMessage
	// other is the result for a version the SDK does not know.
	other json.RawMessage
	err   error
}

// result returns the SDK's initialize result for a client asking for
// version.
func (r *initResults) result(version string) json.RawMessage {
	if res, ok := r.byVersion[version]; ok {
		return res
	}
	return r.other
}

// probeInitialize asks the SDK for its initialize result for each 2025-era
// protocol version it supports, and for one it does not, into r, and closes
// the sessions it opened doing so. Capabilities depend on what the server
// serves, so a catalog change starts a new r (catalogswap.go).
func (e *Edge) probeInitialize(r *initResults) {
	r.byVersion = map[string]json.RawMessage{}
	versions := []string{}
	for _, v := range mcp.SupportedProtocolVersions() {
		if v < firstSessionlessVersion {
			versions = append(versions, v)
		}
	}
	ctx := context.WithValue(context.Background(), openingKey{}, probe{})
	for _, v := range append(versions, "0000-00-00") {
		body := fmt.Sprintf(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":%q,"capabilities":{},"clientInfo":{"name":"toolwire-probe","version":"0"}}}`, v)
		rec, err := e.sdkRequest(ctx, http.MethodPost, "", []byte(body))
		if err == nil {
			var res json.RawMessage
			if res, err = rec.result(); err == nil {
				if v == "0000-00-00" {
					r.other = res
				} else {
					r.byVersion[v] = res
				}
			}
		}
		if id := rec.header.Get(headerSessionID); id != "" {
			_, _ = e.sdkRequest(ctx, http.MethodDelete, id, nil)
		}
		if err != nil {
			r.err = fmt.Errorf("learning the SDK's initialize result for %s: %w", v, err)
			return
		}
	}
}

// serveInitialize answers a well-formed initialize POST without a session
// (see the top of this file). It reports false, with r's body intact, when
// the SDK must answer.
func (e *Edge) serveInitialize(w http.ResponseWriter, r *http.Request) bool {
	if !fastSessionVersions[r.Header.Get(headerProtocolVersion)] || !eligible(r) {
		return false
	}
	b := fastBufs.Get().(*fastBuf)
	defer putFastBuf(b)
	if !b.readBody(r) {
		return false
	}
	m := &b.msg
	if !rpcscan.Scan(b.body, m) || m.Method != "initialize" {
		b.giveBack(r)
		return false
	}
	inits := e.inits.Load()
	inits.once.Do(func() { e.probeInitialize(inits) })
	if inits.err != nil {
		b.giveBack(r)
		return false
	}
	id := rand.Text()
	e.sessions.addLazy(id, ownerOf(r.Context()), &lazyInit{body: bytes.Clone(b.body)})
	out := append(b.out[:0], `{"jsonrpc":"2.0","id":`...)
	out = append(out, m.ID...)
	out = append(out, `,"result":`...)
	out = append(out, inits.result(m.Version)...)
	out = append(out, '}')
	b.out = out
	h := w.Header()
	h["Cache-Control"] = noCache
	h["Content-Type"] = jsonContentType
	h[headerSessionID] = []string{id}
	_, _ = w.Write(out)
	e.fast.served.Add(1)
	return true
}

// initialized records notifications/initialized on a session without an
// SDK session; false if it has one, which must see the notification.
func (s *liveSession) initialized() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ss != nil || s.lazy == nil {
		return false
	}
	s.lazy.initialized = true
	return true
}

// closeLazy closes a session that has no SDK session, reporting false if
// it has one (or is opening one), which the SDK must close.
func (s *liveSession) closeLazy() bool {
	s.mu.Lock()
	lazy := s.lazy
	s.mu.Unlock()
	if lazy == nil || !lazy.open.TryLock() {
		return false
	}
	defer lazy.open.Unlock()
	if s.sdkSession() != nil {
		return false
	}
	s.close()
	return true
}

// opened gives the session the SDK session opened for it.
func (s *liveSession) opened(ss *mcp.ServerSession) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ss == nil {
		s.ss, s.sdkID = ss, ss.ID()
	}
}

// errSessionClosed is openSDK's answer for a session that ended meanwhile.
var errSessionClosed = errors.New("session closed")

// openSDK opens s's SDK session, if it has none yet, by replaying the
// client's initialize (and notifications/initialized) to the SDK under r's
// context, which carries the principal. Concurrent callers wait for the
// first.
func (e *Edge) openSDK(r *http.Request, s *liveSession) error {
	s.mu.Lock()
	lazy := s.lazy
	s.mu.Unlock()
	if lazy == nil {
		return nil // the SDK's session from the start
	}
	lazy.open.Lock()
	defer lazy.open.Unlock()
	s.mu.Lock()
	ss, closed, initialized := s.ss, s.timer == nil, lazy.initialized
	s.mu.Unlock()
	switch {
	case closed:
		return errSessionClosed
	case ss != nil:
		return nil
	}
	ctx := context.WithValue(context.WithoutCancel(r.Context()), openingKey{}, s)
	rec, err := e.sdkRequest(ctx, http.MethodPost, "", lazy.body)
	if err == nil {
		_, err = rec.result()
	}
	sdkID := rec.header.Get(headerSessionID)
	if err == nil && (s.sdkSession() == nil || sdkID == "") {
		err = errors.New("the SDK opened no session")
	}
	if err == nil && initialized {
		rec, err = e.sdkRequest(ctx, http.MethodPost, sdkID, []byte(`{"jsonrpc":"2.0","method":"notifications/initialized"}`))
		if err == nil && rec.code != http.StatusAccepted {
			err = fmt.Errorf("notifications/initialized: HTTP %d", rec.code)
		}
	}
	if err != nil {
		e.logger.Error("opening the SDK session of an edge session failed; closing it", "session", s.id, "error", err)
		s.close()
		if ss := s.sdkSession(); ss != nil {
			_ = ss.Close()
		}
		return err
	}
	t := s.table
	t.mu.Lock()
	if t.m[s.id] == s {
		t.sdk[sdkID] = s
	}
	t.mu.Unlock()
	s.mu.Lock()
	s.lazy = nil
	s.mu.Unlock()
	return nil
}

// sdkRequest sends the SDK's Streamable HTTP handler a request of the edge's
// own and records the answer.
func (e *Edge) sdkRequest(ctx context.Context, method, session string, body []byte) (*recorder, error) {
	req, err := http.NewRequestWithContext(ctx, method, "http://toolwire.internal/mcp", bytes.NewReader(body))
	if err != nil {
		return &recorder{header: http.Header{}}, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if session != "" {
		req.Header.Set(headerSessionID, session)
	}
	rec := &recorder{header: http.Header{}}
	e.stateful.ServeHTTP(rec, req)
	if rec.code/100 != 2 {
		return rec, fmt.Errorf("%s: HTTP %d: %s", method, rec.code, strings.TrimSpace(rec.body.String()))
	}
	return rec, nil
}

// recorder is the http.ResponseWriter of sdkRequest.
type recorder struct {
	header http.Header
	code   int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(code int) {
	if r.code == 0 {
		r.code = code
	}
}

func (r *recorder) Write(p []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	return r.body.Write(p)
}

func (r *recorder) Flush() {}

// result is the JSON-RPC result the SDK answered, from a JSON body or the
// first message of an event stream.
func (r *recorder) result() (json.RawMessage, error) {
	data := r.body.Bytes()
	if strings.HasPrefix(r.header.Get("Content-Type"), "text/event-stream") {
		data = nil
		sc := bufio.NewScanner(bytes.NewReader(r.body.Bytes()))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			if d, ok := bytes.CutPrefix(sc.Bytes(), []byte("data:")); ok {
				data = bytes.TrimSpace(d)
				break
			}
		}
	}
	var msg struct {
		Result json.RawMessage `json:"result"`
		Error  *struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(data, &msg); err != nil {
		return nil, fmt.Errorf("reading the SDK's answer %q: %w", data, err)
	}
	if msg.Error != nil {
		return nil, errors.New(msg.Error.Message)
	}
	if len(msg.Result) == 0 {
		return nil, fmt.Errorf("no result in the SDK's answer %q", data)
	}
	return msg.Result, nil
}
