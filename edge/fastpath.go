package edge

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/toolwire/toolwire/edge/bridge"
	"github.com/toolwire/toolwire/edge/internal/rpcscan"
)

// The fast path answers the hot request of Streamable HTTP itself: a POST
// that carries one tools/call of a unary or server-streaming tool, on a live
// session or as a 2026-07-28 request. It reads the body in place (rpcscan),
// calls the bridge and writes one application/json response, or, when the
// call sends events, an event stream (fastpath_stream.go); the SDK is not
// involved.
//
// Why: the SDK's JSON decoder allocates a 32 KiB buffer per message, several
// times per call (MCP-NOTES.md), so an edge built on it spends about 230 µs
// of CPU per call, most of it in allocation and GC. The edge also answers a
// plain initialize and notifications/initialized (lazysession.go) and serves
// GET streams (getstream.go). The SDK keeps everything else: other methods,
// server-to-client requests, errors of every kind, HTTP+SSE and stdio. Whenever a
// request is anything but the plain case, the body goes to the SDK as it
// came, so what a client sees never depends on which path answered, except
// that the fast path answers in JSON where the SDK would use a one-event SSE
// stream (both are allowed to a client that accepts both, which it must).
//
// Cancellation is direct here: the call runs on the POST's context, which
// ends when the client goes away, and notifications/cancelled for a fast
// call is caught on its way in (serveSession) and cancels that context.
type fastPath struct {
	// tools are the tools it serves, swapped whole when the catalog
	// changes (catalogswap.go): a call loads the map once, with no lock.
	tools atomic.Pointer[map[string]bridge.Tool]
	// serverInfo is _meta's io.modelcontextprotocol/serverInfo, as the SDK
	// adds it to every 2026-07-28 result.
	serverInfo json.RawMessage
	// served counts the requests answered here, for tests.
	served atomic.Uint64
}

const (
	// fastMaxBody is the largest body the fast path reads; a larger one goes
	// to the SDK, the bytes read so far first.
	fastMaxBody = 64 << 10
	// metaServerInfo is the 2026-07-28 result _meta key of the server's
	// identity.
	metaServerInfo = "io.modelcontextprotocol/serverInfo"
)

// The 2025-era revisions the fast path serves on a session; requests of
// others go to the SDK, which accepts or rejects them. A request without
// MCP-Protocol-Version is 2025-03-26 to the SDK.
var fastSessionVersions = map[string]bool{"": true, "2025-03-26": true, "2025-06-18": true, "2025-11-25": true}

func newFastPath(b *bridge.Bridge, names []string, name, title, version string) *fastPath {
	f := &fastPath{}
	f.setTools(b, names)
	f.serverInfo, _ = json.Marshal(map[string]string{"name": name, "title": title, "version": version})
	return f
}

// setTools makes the tools called names of b the ones the fast path serves
// (those it can: bridge.Bridge.Tool); calls already running finish on the
// tools they found.
func (f *fastPath) setTools(b *bridge.Bridge, names []string) {
	tools := make(map[string]bridge.Tool, len(names))
	for _, n := range names {
		if t, ok := b.Tool(n); ok {
			tools[n] = t
		}
	}
	f.tools.Store(&tools)
}

// Response header values, shared: net/http only reads them.
var (
	jsonContentType  = []string{"application/json"}
	eventContentType = []string{"text/event-stream"}
	noCache          = []string{"no-cache, no-transform"}
)

// fastBuf holds a request body and then the response.
type fastBuf struct {
	body, out []byte
	msg       rpcscan.Message
}

var fastBufs = sync.Pool{New: func() any {
	return &fastBuf{body: make([]byte, 0, 4<<10), out: make([]byte, 0, 4<<10)}
}}

func putFastBuf(b *fastBuf) {
	if cap(b.body) > fastMaxBody || cap(b.out) > 1<<20 {
		return // let an unusual one go
	}
	b.msg = rpcscan.Message{}
	fastBufs.Put(b)
}

// readBody reads r's body into b.body. If the body is too large or the read
// fails, it puts back what it read in front of the rest of the body, so that
// the SDK sees the request as it came, and reports false.
func (b *fastBuf) readBody(r *http.Request) bool {
	buf := b.body[:0]
	for {
		if len(buf) == cap(buf) {
			if cap(buf) >= fastMaxBody {
				break
			}
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			b.body = buf
			return true
		}
		if err != nil {
			break
		}
	}
	// The SDK reads the rest; the buffer is its now (not returned to the pool).
	r.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(strings.NewReader(string(buf)), r.Body), r.Body}
	b.body = nil
	return false
}

// giveBack hands the body read so far to the SDK.
func (b *fastBuf) giveBack(r *http.Request) {
	r.Body = struct {
		io.Reader
		io.Closer
	}{strings.NewReader(string(b.body)), r.Body}
}

// eligible reports whether r's headers allow the fast path: a JSON body,
// both response kinds accepted (as Streamable HTTP requires, and the SDK
// enforces), and no Last-Event-ID (which the SDK rejects on POST).
func eligible(r *http.Request) bool {
	ct := r.Header.Get("Content-Type")
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	if !strings.EqualFold(strings.TrimSpace(ct), "application/json") {
		return false
	}
	if _, ok := r.Header["Last-Event-Id"]; ok {
		return false
	}
	jsonOK, streamOK := accepts(r.Header["Accept"])
	return jsonOK && streamOK
}

// accepts reports whether Accept values admit JSON and SSE responses.
func accepts(values []string) (jsonOK, streamOK bool) {
	for _, v := range values {
		for v != "" {
			var item string
			item, v, _ = strings.Cut(v, ",")
			item, _, _ = strings.Cut(item, ";")
			switch strings.ToLower(strings.TrimSpace(item)) {
			case "application/json", "application/*":
				jsonOK = true
			case "text/event-stream", "text/*":
				streamOK = true
			case "*/*":
				jsonOK, streamOK = true, true
			}
		}
	}
	return jsonOK, streamOK
}

// serveSession tries the fast path for a POST on live session s. It reports
// false, with r's body intact, when the SDK must answer.
func (f *fastPath) serveSession(w http.ResponseWriter, r *http.Request, s *liveSession) bool {
	if !fastSessionVersions[r.Header.Get(headerProtocolVersion)] || !eligible(r) {
		return false
	}
	b := fastBufs.Get().(*fastBuf)
	if !b.readBody(r) {
		return false
	}
	m := &b.msg
	if !rpcscan.Scan(b.body, m) {
		b.giveBack(r)
		putFastBuf(b)
		return false
	}
	switch m.Method {
	case "notifications/cancelled":
		// Only a fast call's cancellation is caught; the SDK's own calls are
		// its business.
		if !s.cancelCall(m.CancelID) {
			b.giveBack(r)
			putFastBuf(b)
			return false
		}
		putFastBuf(b)
		f.served.Add(1)
		w.WriteHeader(http.StatusAccepted)
		return true
	case "notifications/initialized":
		// Recorded for a session the edge opened, whose SDK session may
		// never be needed (lazysession.go).
		if s.initialized() {
			putFastBuf(b)
			f.served.Add(1)
			w.WriteHeader(http.StatusAccepted)
			return true
		}
	case "logging/setLevel":
		// The SDK answers it; the fast path's streams need the level too.
		if lv, ok := logLevels[m.Level]; ok {
			s.logLevel.Store(int32(lv))
		}
	case "tools/call":
		t, ok := (*f.tools.Load())[m.Name]
		// A request that carries the 2026-07-28 _meta on a session is the
		// SDK's to judge, as is a progress token of another kind.
		if !ok || m.Meta.ProtocolVersion != "" || m.Meta.BadProgressToken {
			break
		}
		id := m.ID
		ctx, cancel := context.WithCancel(r.Context())
		if !s.startCall(id, cancel) {
			cancel()
			writeRPCError(w, http.StatusBadRequest, id, -32600, "duplicate in-flight request ID "+id)
			putFastBuf(b)
			return true
		}
		f.run(ctx, w, r, b, t, int(s.logLevel.Load()), s.clientCaps(), bridge.ResultExtras{})
		s.endCall(id)
		cancel()
		putFastBuf(b)
		return true
	}
	b.giveBack(r)
	putFastBuf(b)
	return false
}

// serveSessionless tries the fast path for a 2026-07-28 POST. It reports
// false, with r's body intact, when the SDK must answer.
func (f *fastPath) serveSessionless(w http.ResponseWriter, r *http.Request) bool {
	h := r.Header
	version := h.Get(headerProtocolVersion)
	if version != firstSessionlessVersion || h.Get("Mcp-Method") != "tools/call" || !eligible(r) {
		return false
	}
	// Mcp-Param-* headers were checked before (params.go).
	b := fastBufs.Get().(*fastBuf)
	if !b.readBody(r) {
		return false
	}
	m := &b.msg
	ok := rpcscan.Scan(b.body, m) && m.Method == "tools/call" && m.Name == h.Get("Mcp-Name") &&
		m.Meta.ProtocolVersion == version && m.Meta.ClientOK && !m.Meta.BadProgressToken
	var t bridge.Tool
	if ok {
		t, ok = (*f.tools.Load())[m.Name]
	}
	level := noLogs
	if ok && m.Meta.LogLevel != "" {
		var lv int
		lv, ok = logLevels[m.Meta.LogLevel]
		level = lv
	}
	if !ok {
		b.giveBack(r)
		putFastBuf(b)
		return false
	}
	f.run(r.Context(), w, r, b, t, level, requestCaps(b.body), bridge.ResultExtras{MetaKey: metaServerInfo, MetaValue: f.serverInfo, Complete: true})
	putFastBuf(b)
	return true
}

// run calls t for the tools/call in b, from a client with caps, and writes
// its answer.
func (f *fastPath) run(ctx context.Context, w http.ResponseWriter, r *http.Request, b *fastBuf, t bridge.Tool, level int, caps bridge.Capabilities, x bridge.ResultExtras) {
	f.served.Add(1)
	m := &b.msg
	// The call lives on the stack: the bridge keeps no pointer to it.
	var c bridge.Call
	f.call(&c, r, m)
	c.Caps = caps
	if !t.Streams() {
		a := t.Call(ctx, &c, nil)
		f.answer(w, b, m.ID, &a, x, ctx)
		return
	}
	sink := newStreamSink(w, m.Meta.ProgressToken, level)
	a := t.Call(ctx, &c, sink)
	if !sink.started() {
		f.answer(w, b, m.ID, &a, x, ctx)
		return
	}
	// The stream is open: the answer is its last event, unless the call was
	// cancelled, when the stream just ends.
	if a.Dropped || ctx.Err() != nil {
		sink.finish(nil)
		return
	}
	out, err := a.AppendJSONRPC(b.out[:0], unsafeBytes(m.ID), x)
	if err != nil {
		out = appendRPCError(b.out[:0], m.ID, -32603, "internal error: "+err.Error())
	}
	b.out = out
	sink.finish(out)
}

// call fills c, the bridge's view of the tools/call in m.
func (f *fastPath) call(c *bridge.Call, r *http.Request, m *rpcscan.Message) {
	*c = bridge.Call{
		Args:              unsafeBytes(m.Args),
		HeaderRequestID:   r.Header.Get("X-Request-Id"),
		HeaderTraceparent: r.Header.Get("Traceparent"),
		HeaderTracestate:  r.Header.Get("Tracestate"),
	}
	if m.Meta.HasTraceparent {
		c.MetaTraceparent, c.MetaTracestate = m.Meta.Traceparent, m.Meta.Tracestate
	}
	switch {
	case m.Meta.HasTimeoutNum:
		c.Timeout, _ = bridge.TimeoutHintMs(m.Meta.TimeoutNum)
	case m.Meta.TimeoutStr != "":
		c.Timeout, _ = bridge.TimeoutHintString(m.Meta.TimeoutStr)
	}
}

// answer writes a's response, or, when the call was cancelled, an event
// stream that ends without it: no response is ever sent to a cancelled
// request, and the client is not left waiting on an open request.
func (f *fastPath) answer(w http.ResponseWriter, b *fastBuf, id string, a *bridge.Answer, x bridge.ResultExtras, ctx context.Context) {
	h := w.Header()
	h["Cache-Control"] = noCache
	if a.Dropped || ctx.Err() != nil {
		h["Content-Type"] = eventContentType
		w.WriteHeader(http.StatusOK)
		return
	}
	out, err := a.AppendJSONRPC(b.out[:0], unsafeBytes(id), x)
	if err != nil {
		writeRPCError(w, http.StatusInternalServerError, id, -32603, "internal error: "+err.Error())
		return
	}
	b.out = out
	h["Content-Type"] = jsonContentType
	_, _ = w.Write(out)
}

// writeRPCError writes a JSON-RPC error response with HTTP status code.
func writeRPCError(w http.ResponseWriter, code int, id string, rpcCode int64, msg string) {
	w.Header()["Content-Type"] = jsonContentType
	w.WriteHeader(code)
	_, _ = w.Write(appendRPCError(nil, id, rpcCode, msg))
}

// appendRPCError appends a JSON-RPC error response to request id (raw JSON).
func appendRPCError(dst []byte, id string, rpcCode int64, msg string) []byte {
	m, _ := json.Marshal(msg)
	dst = append(dst, `{"jsonrpc":"2.0","id":`...)
	dst = append(dst, id...)
	dst = append(dst, `,"error":{"code":`...)
	dst = strconv.AppendInt(dst, rpcCode, 10)
	dst = append(dst, `,"message":`...)
	dst = append(dst, m...)
	return append(dst, "}}"...)
}

func unsafeBytes(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }
