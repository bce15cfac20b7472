package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Protocol revisions the load generator speaks.
const (
	Protocol20251125 = "2025-11-25"
	Protocol20260728 = "2026-07-28"
)

// The per-request _meta keys of 2026-07-28 (SEP-2575), as the go-sdk client
// sends them (mcp.MetaKeyProtocolVersion and friends).
const (
	metaProtocolVersion    = "io.modelcontextprotocol/protocolVersion"
	metaClientCapabilities = "io.modelcontextprotocol/clientCapabilities"
	metaClientInfo         = "io.modelcontextprotocol/clientInfo"
)

// sessionless reports whether protocol has no initialize and no sessions.
func sessionless(protocol string) bool { return protocol >= Protocol20260728 }

// newTransport returns an HTTP/1.1 transport that keeps up to conns idle
// connections to the one server, with no proxy and no compression.
func newTransport(conns int) *http.Transport {
	return &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
		WriteBufferSize:     16 << 10,
		ReadBufferSize:      16 << 10,
	}
}

// checkLoopback refuses URLs whose host is not a loopback address: the
// load generator is for this machine only.
func checkLoopback(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	if u.Scheme != "http" {
		return fmt.Errorf("%s: only http:// URLs are supported", raw)
	}
	host := u.Hostname()
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("%s: not a loopback address; the benchmark only talks to this machine", raw)
}

// session is one MCP client session over Streamable HTTP: the session id
// from initialize (none in 2026-07-28) and the negotiated revision.
type session struct {
	url      string
	hc       *http.Client
	protocol string // asked for; after initialize, the negotiated one
	id       string // Mcp-Session-Id; "" when sessionless
	ids      *atomic.Int64
	meta     []byte // 2026-07-28: the _meta members every request carries, without braces
}

// clientInfo is what the sessions call themselves.
const clientInfo = `{"name":"toolwire-bench","version":"1"}`

func newSession(endpoint string, hc *http.Client, protocol string, ids *atomic.Int64) *session {
	s := &session{url: endpoint, hc: hc, protocol: protocol, ids: ids}
	if sessionless(protocol) {
		s.meta = fmt.Appendf(nil, `%q:%q,%q:{},%q:%s`,
			metaProtocolVersion, protocol, metaClientCapabilities, metaClientInfo, clientInfo)
	}
	return s
}

// nextID returns a request id unique across the run.
func (s *session) nextID() int64 { return s.ids.Add(1) }

// open starts the session: initialize and notifications/initialized, or, in
// 2026-07-28, server/discover (which the revision requires servers to serve)
// as a check that the server speaks it.
func (s *session) open(ctx context.Context) error {
	id := s.nextID()
	if sessionless(s.protocol) {
		body := s.requestBody(nil, id, "server/discover", "", nil, 0)
		ex, err := s.exchange(ctx, s.hc, id, "server/discover", "", body, 0)
		if err != nil {
			return fmt.Errorf("server/discover: %w", err)
		}
		return ex.rpcError()
	}
	body := fmt.Appendf(nil, `{"jsonrpc":"2.0","id":%d,"method":"initialize","params":{"protocolVersion":%q,"capabilities":{},"clientInfo":%s}}`,
		id, s.protocol, clientInfo)
	resp, err := s.post(ctx, s.hc, "initialize", "", body)
	if err != nil {
		return fmt.Errorf("initialize: %w", err)
	}
	var ex exchange
	err = readMessages(resp, id, 0, &ex)
	resp.Body.Close()
	if err != nil {
		return fmt.Errorf("initialize: %w", err)
	}
	if err := ex.rpcError(); err != nil {
		return fmt.Errorf("initialize: %w", err)
	}
	var res struct {
		ProtocolVersion string `json:"protocolVersion"`
	}
	if err := json.Unmarshal(ex.response.Result, &res); err != nil {
		return fmt.Errorf("initialize result: %w", err)
	}
	if res.ProtocolVersion == "" {
		return errors.New("initialize result: no protocolVersion")
	}
	s.protocol = res.ProtocolVersion
	s.id = resp.Header.Get("Mcp-Session-Id")
	return s.notify(ctx, s.hc, "notifications/initialized", "")
}

// notify sends a notification; params is its raw JSON params, or "".
func (s *session) notify(ctx context.Context, hc *http.Client, method, params string) error {
	body := []byte(`{"jsonrpc":"2.0","method":"` + method + `"`)
	if params != "" {
		body = append(append(body, `,"params":`...), params...)
	}
	body = append(body, '}')
	resp, err := s.post(ctx, hc, method, "", body)
	if err != nil {
		return fmt.Errorf("%s: %w", method, err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted && resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: HTTP %s", method, resp.Status)
	}
	return nil
}

// close ends the session with DELETE, if it has one.
func (s *session) close(ctx context.Context) {
	if s.id == "" {
		return
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, s.url, nil)
	if err != nil {
		return
	}
	s.setHeaders(req.Header, "", "")
	if resp, err := s.hc.Do(req); err == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}

// requestBody appends to buf a JSON-RPC request: id, method, and params
// holding name and arguments (raw JSON) when name is set; progressToken in
// _meta when token is not 0, and the 2026-07-28 _meta members.
func (s *session) requestBody(buf []byte, id int64, method, name string, args []byte, token int64) []byte {
	buf = append(buf, `{"jsonrpc":"2.0","id":`...)
	buf = strconv.AppendInt(buf, id, 10)
	buf = append(buf, `,"method":"`...)
	buf = append(buf, method...)
	buf = append(buf, `","params":{`...)
	sep := false
	if name != "" {
		buf = append(buf, `"name":`...)
		buf = strconv.AppendQuote(buf, name)
		buf = append(buf, `,"arguments":`...)
		if args == nil {
			args = []byte("{}")
		}
		buf = append(buf, args...)
		sep = true
	}
	if token != 0 || s.meta != nil {
		if sep {
			buf = append(buf, ',')
		}
		buf = append(buf, `"_meta":{`...)
		if token != 0 {
			buf = append(buf, `"progressToken":`...)
			buf = strconv.AppendInt(buf, token, 10)
			if s.meta != nil {
				buf = append(buf, ',')
			}
		}
		buf = append(buf, s.meta...)
		buf = append(buf, '}')
	}
	return append(buf, "}}"...)
}

// setHeaders sets the headers every request of the session carries;
// method and name are the 2026-07-28 routing headers (Mcp-Method, Mcp-Name),
// set when not "".
func (s *session) setHeaders(h http.Header, method, name string) {
	h["Accept"] = acceptBoth
	if s.id != "" {
		h["Mcp-Session-Id"] = []string{s.id}
	}
	if s.protocol != "" && (s.id != "" || sessionless(s.protocol)) {
		h["Mcp-Protocol-Version"] = []string{s.protocol}
	}
	if sessionless(s.protocol) && method != "" {
		h["Mcp-Method"] = []string{method}
		if name != "" {
			h["Mcp-Name"] = []string{name}
		}
	}
}

var (
	acceptBoth  = []string{"application/json, text/event-stream"}
	contentJSON = []string{"application/json"}
)

// post sends body as a POST and returns the response if its status is 2xx.
func (s *session) post(ctx context.Context, hc *http.Client, method, name string, body []byte) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header["Content-Type"] = contentJSON
	s.setHeaders(req.Header, method, name)
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		resp.Body.Close()
		return nil, fmt.Errorf("HTTP %s: %s", resp.Status, bytes.TrimSpace(b))
	}
	return resp, nil
}

// exchange posts a request and reads its whole response stream.
func (s *session) exchange(ctx context.Context, hc *http.Client, id int64, method, name string, body []byte, token int64) (exchange, error) {
	var ex exchange
	resp, err := s.post(ctx, hc, method, name, body)
	if err != nil {
		return ex, err
	}
	err = readMessages(resp, id, token, &ex)
	resp.Body.Close()
	return ex, err
}

// message is a JSON-RPC message, with what the benchmark looks at: raw
// JSON, copied out of the read buffers.
type message struct {
	ID     []byte // raw id; nil in a notification
	Method []byte // raw method, quoted; nil in a response
	Result []byte // raw result
	Error  *rpcError
}

// parseMessage reads the members of a JSON-RPC message that the benchmark
// looks at, without encoding/json (see scan.go).
func parseMessage(data []byte) (message, error) {
	var m message
	var errRaw []byte
	err := members(data, func(key, value []byte) bool {
		switch string(key) {
		case `"id"`:
			m.ID = value
		case `"method"`:
			m.Method = value
		case `"result"`:
			m.Result = value
		case `"error"`:
			errRaw = value
		}
		return true
	})
	if err != nil {
		return m, err
	}
	if len(errRaw) > 0 && string(errRaw) != "null" {
		m.Error = new(rpcError)
		if err := json.Unmarshal(errRaw, m.Error); err != nil {
			return m, err
		}
	}
	m.ID, m.Method, m.Result = bytes.Clone(m.ID), bytes.Clone(m.Method), bytes.Clone(m.Result)
	return m, nil
}

type rpcError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

func (e *rpcError) Error() string { return fmt.Sprintf("JSON-RPC error %d: %s", e.Code, e.Message) }

// exchange is what one POST's response brought.
type exchange struct {
	response    *message  // the response to the request, nil if none came
	respondedAt time.Time // when it came
	responses   int       // responses to the request (more than 1 is a fault)
	progress    int       // progress notifications carrying the request's token
	foreign     int       // progress notifications carrying another token
	others      int       // any other message
}

// rpcError returns the response's JSON-RPC error, or an error if no
// response came.
func (ex *exchange) rpcError() error {
	if ex.response == nil {
		return errors.New("no response")
	}
	if ex.response.Error != nil {
		return ex.response.Error
	}
	return nil
}

var sseReaders = sync.Pool{New: func() any { return newSSEReader(nil) }}

// readMessages reads the JSON-RPC messages of resp's body, a single JSON
// message or an SSE stream, to its end, into ex: the response to id (and
// when it came) and the progress notifications for token. It does not close
// the body.
func readMessages(resp *http.Response, id, token int64, ex *exchange) error {
	ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	switch ct {
	case "application/json":
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			return err
		}
		if len(bytes.TrimSpace(b)) == 0 {
			return nil
		}
		return ex.add(b, id, token)
	case "text/event-stream":
		r := sseReaders.Get().(*sseReader)
		defer sseReaders.Put(r)
		r.reset(resp.Body)
		defer r.reset(nil)
		for {
			event, data, err := r.next()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return err
			}
			if len(event) > 0 && string(event) != "message" {
				continue
			}
			if err := ex.add(data, id, token); err != nil {
				return err
			}
		}
	case "":
		if resp.StatusCode == http.StatusAccepted || resp.ContentLength == 0 {
			return nil
		}
		fallthrough
	default:
		return fmt.Errorf("unexpected Content-Type %q", resp.Header.Get("Content-Type"))
	}
}

// add records one JSON-RPC message.
func (ex *exchange) add(data []byte, id, token int64) error {
	if tok, ok := progressToken(data); ok {
		if token != 0 && tokenIs(tok, token) {
			ex.progress++
		} else {
			ex.foreign++
		}
		return nil
	}
	m, err := parseMessage(data)
	if err != nil {
		return fmt.Errorf("bad JSON-RPC message %.200q: %w", data, err)
	}
	if m.Method == nil && len(m.ID) > 0 && idIs(m.ID, id) {
		ex.responses++
		if ex.response == nil {
			ex.response, ex.respondedAt = &m, time.Now()
		}
		return nil
	}
	ex.others++
	return nil
}

var (
	progressMethod = []byte(`"notifications/progress"`)
	progressKey    = []byte(`"progressToken"`)
)

// progressToken returns the raw progressToken of a notifications/progress
// message without decoding the whole message: the load generator must not
// be the bottleneck at 10⁵ notifications a second. ok is false when data is
// not a progress notification, or not one this fast path understands.
func progressToken(data []byte) (token []byte, ok bool) {
	if !bytes.Contains(data, progressMethod) || bytes.Contains(data, []byte(`"result"`)) {
		return nil, false
	}
	i := bytes.Index(data, progressKey)
	if i < 0 {
		return nil, false
	}
	rest := bytes.TrimLeft(data[i+len(progressKey):], " \t\r\n")
	if len(rest) == 0 || rest[0] != ':' {
		return nil, false
	}
	rest = bytes.TrimLeft(rest[1:], " \t\r\n")
	if len(rest) == 0 {
		return nil, false
	}
	if rest[0] == '"' {
		j := bytes.IndexByte(rest[1:], '"')
		if j < 0 {
			return nil, false
		}
		return rest[:j+2], true
	}
	j := bytes.IndexAny(rest, ",} \t\r\n")
	if j <= 0 {
		return nil, false
	}
	return rest[:j], true
}

// tokenIs reports whether the raw JSON token is the number want.
func tokenIs(raw []byte, want int64) bool {
	var buf [24]byte
	if bytes.Equal(raw, strconv.AppendInt(buf[:0], want, 10)) {
		return true
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	return err == nil && f == float64(want)
}

// idIs reports whether the raw JSON id is the number want.
func idIs(raw []byte, want int64) bool { return tokenIs(raw, want) }
