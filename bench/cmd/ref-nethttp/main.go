// Command ref-nethttp is the floor: a plain net/http handler that speaks
// just enough MCP over Streamable HTTP for the benchmark's modes, with no
// MCP library. initialize answers with a session id; tools/call echo
// answers with a canned-shape JSON result; stream writes its progress
// notifications and result as SSE; sleep waits on the request's context or
// on notifications/cancelled, and then sends nothing; GET holds an SSE
// stream open until the client goes.
//
//	ref-nethttp --addr 127.0.0.1:PORT   # MCP at /mcp, Prometheus at /metrics
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/toolwire/toolwire/bench/internal/ref"
)

type request struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Method  string          `json:"method"`
	Params  struct {
		Name      string          `json:"name"`
		Arguments json.RawMessage `json:"arguments"`
		Meta      struct {
			ProgressToken json.RawMessage `json:"progressToken"`
		} `json:"_meta"`
		RequestID       json.RawMessage `json:"requestId"`
		ProtocolVersion string          `json:"protocolVersion"`
	} `json:"params"`
}

type handler struct {
	mu       sync.Mutex
	sessions map[string]bool
	inflight map[string]context.CancelFunc // session + " " + request id
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	sid := r.Header.Get("Mcp-Session-Id")
	switch r.Method {
	case http.MethodGet:
		h.mu.Lock()
		ok := h.sessions[sid]
		h.mu.Unlock()
		if !ok {
			http.Error(w, "unknown session", http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		<-r.Context().Done()
		return
	case http.MethodDelete:
		h.mu.Lock()
		delete(h.sessions, sid)
		h.mu.Unlock()
		return
	case http.MethodPost:
	default:
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return
	}
	var req request
	if err := json.Unmarshal(body, &req); err != nil {
		http.Error(w, "bad JSON", http.StatusBadRequest)
		return
	}
	if req.Method != "initialize" {
		h.mu.Lock()
		ok := h.sessions[sid]
		h.mu.Unlock()
		if !ok {
			http.Error(w, "unknown session", http.StatusNotFound)
			return
		}
	}
	if len(req.ID) == 0 { // a notification
		if req.Method == "notifications/cancelled" {
			h.mu.Lock()
			cancel := h.inflight[sid+" "+string(req.Params.RequestID)]
			h.mu.Unlock()
			if cancel != nil {
				cancel()
			}
		}
		w.WriteHeader(http.StatusAccepted)
		return
	}
	switch req.Method {
	case "initialize":
		var b [16]byte
		_, _ = rand.Read(b[:])
		sid = hex.EncodeToString(b[:])
		h.mu.Lock()
		h.sessions[sid] = true
		h.mu.Unlock()
		w.Header().Set("Mcp-Session-Id", sid)
		v := req.Params.ProtocolVersion
		if v == "" {
			v = "2025-11-25"
		}
		writeJSON(w, req.ID, `{"protocolVersion":`+strconv.Quote(v)+`,"capabilities":{"tools":{}},"serverInfo":{"name":"ref-nethttp","version":"1"}}`)
	case "tools/call":
		h.call(w, r, sid, &req)
	default:
		writeJSON(w, req.ID, `{}`)
	}
}

func (h *handler) call(w http.ResponseWriter, r *http.Request, sid string, req *request) {
	switch req.Params.Name {
	case "echo":
		var in struct {
			Text string `json:"text"`
		}
		_ = json.Unmarshal(req.Params.Arguments, &in)
		q := strconv.Quote(in.Text)
		writeJSON(w, req.ID, `{"content":[{"type":"text","text":`+q+`}],"structuredContent":{"text":`+q+`}}`)
	case "stream":
		var in struct {
			N          int `json:"n"`
			IntervalMs int `json:"interval_ms"`
		}
		_ = json.Unmarshal(req.Params.Arguments, &in)
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		f := w.(http.Flusher)
		tok := req.Params.Meta.ProgressToken
		for i := 1; i <= in.N; i++ {
			if in.IntervalMs > 0 && ref.Wait(r.Context(), time.Duration(in.IntervalMs)*time.Millisecond) != nil {
				return
			}
			if len(tok) > 0 {
				io.WriteString(w, `event: message`+"\n"+`data: {"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":`+string(tok)+`,"progress":`+strconv.Itoa(i)+`,"total":`+strconv.Itoa(in.N)+"}}\n\n")
				f.Flush()
			}
		}
		io.WriteString(w, "event: message\ndata: "+response(req.ID, `{"content":[{"type":"text","text":"done"}],"structuredContent":{"result":"done"}}`)+"\n\n")
	case "sleep":
		var in struct {
			Ms int `json:"ms"`
		}
		_ = json.Unmarshal(req.Params.Arguments, &in)
		ctx, cancel := context.WithCancel(r.Context())
		key := sid + " " + string(req.ID)
		h.mu.Lock()
		h.inflight[key] = cancel
		h.mu.Unlock()
		defer func() {
			h.mu.Lock()
			delete(h.inflight, key)
			h.mu.Unlock()
			cancel()
		}()
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		if ref.Sleep(ctx, time.Duration(in.Ms)*time.Millisecond) != nil {
			return // cancelled: no response
		}
		io.WriteString(w, "event: message\ndata: "+response(req.ID, `{"content":[{"type":"text","text":"slept"}]}`)+"\n\n")
	default:
		writeJSON(w, req.ID, `{"content":[{"type":"text","text":"unknown tool"}],"isError":true}`)
	}
}

func response(id json.RawMessage, result string) string {
	var b bytes.Buffer
	b.WriteString(`{"jsonrpc":"2.0","id":`)
	b.Write(id)
	b.WriteString(`,"result":`)
	b.WriteString(result)
	b.WriteByte('}')
	return b.String()
}

func writeJSON(w http.ResponseWriter, id json.RawMessage, result string) {
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, response(id, result))
}

func main() {
	ref.Main("ref-nethttp", func() http.Handler {
		return &handler{sessions: map[string]bool{}, inflight: map[string]context.CancelFunc{}}
	})
}
