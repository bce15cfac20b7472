package edge

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/toolwire/toolwire/edge/bridge"
)

// The MCP log levels (RFC 5424 names), least severe first; noLogs is no
// level set.
var logLevels = map[string]int{
	"debug": 0, "info": 1, "notice": 2, "warning": 3, "error": 4, "critical": 5, "alert": 6, "emergency": 7,
}

const noLogs = -1

// flushEvery bounds how long an event may wait in the response buffer. The
// first event after a quiet spell is flushed at once; events that follow
// within flushEvery share a flush (a write system call), which is what lets
// a stream carry well over 100k events a second. The SDK flushes every
// event. Streamable HTTP clients read events one by one however they
// arrive (see barrier.go), so sharing a read is harmless here.
const flushEvery = time.Millisecond

// streamSink sends a fast-path call's events as an SSE stream on its POST,
// as the SDK does: each message is an "event: message" with one data line.
// The stream starts with the first event; a call that sends none is
// answered in plain JSON.
type streamSink struct {
	w     http.ResponseWriter
	token string // progressToken, raw JSON; empty: no progress wanted
	level int    // the least log level sent, or noLogs

	mu        sync.Mutex
	open      bool // the stream's header is written
	done      bool
	dirty     bool // events written since the last flush
	lastFlush time.Time
	timer     *time.Timer
	buf       []byte
}

var _ bridge.Sink = (*streamSink)(nil)

var eventPool = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

func newStreamSink(w http.ResponseWriter, token string, level int) *streamSink {
	return &streamSink{w: w, token: token, level: level}
}

func (s *streamSink) started() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.open
}

// Progress implements bridge.Sink.
func (s *streamSink) Progress(ctx context.Context, progress, total float64, message string) error {
	if s.token == "" {
		return nil
	}
	bp := eventPool.Get().(*[]byte)
	b := append((*bp)[:0], `{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":`...)
	b = append(b, s.token...)
	b = append(b, `,"progress":`...)
	b = appendFloat(b, progress)
	if total != 0 {
		b = append(b, `,"total":`...)
		b = appendFloat(b, total)
	}
	if message != "" {
		b = append(b, `,"message":`...)
		b = appendString(b, message)
	}
	b = append(b, "}}"...)
	err := s.event(b)
	*bp = b
	eventPool.Put(bp)
	return err
}

// Log implements bridge.Sink.
func (s *streamSink) Log(ctx context.Context, level mcp.LoggingLevel, logger, data string) error {
	if lv, ok := logLevels[string(level)]; s.level == noLogs || !ok || lv < s.level {
		return nil
	}
	bp := eventPool.Get().(*[]byte)
	b := append((*bp)[:0], `{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"`...)
	b = append(b, level...)
	b = append(b, '"')
	if logger != "" {
		b = append(b, `,"logger":`...)
		b = appendString(b, logger)
	}
	b = append(b, `,"data":`...)
	b = appendString(b, data)
	b = append(b, "}}"...)
	err := s.event(b)
	*bp = b
	eventPool.Put(bp)
	return err
}

// Settle implements bridge.Sink: the events go out before the answer, in a
// flush of their own.
func (s *streamSink) Settle(context.Context) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dirty && !s.done {
		s.flushLocked()
	}
}

// event writes one message as an SSE event.
func (s *streamSink) event(msg []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done {
		return http.ErrHandlerTimeout
	}
	if !s.open {
		h := s.w.Header()
		h["Content-Type"] = eventContentType
		h["Cache-Control"] = noCache
		s.w.WriteHeader(http.StatusOK)
		s.open = true
	}
	s.buf = append(append(append(s.buf[:0], "event: message\ndata: "...), msg...), "\n\n"...)
	if _, err := s.w.Write(s.buf); err != nil {
		return err
	}
	if s.dirty {
		return nil // a flush is due already
	}
	s.dirty = true
	if wait := flushEvery - time.Since(s.lastFlush); wait <= 0 {
		s.flushLocked()
	} else if s.timer == nil {
		s.timer = time.AfterFunc(wait, s.timed)
	} else {
		s.timer.Reset(wait)
	}
	return nil
}

func (s *streamSink) timed() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dirty && !s.done {
		s.flushLocked()
	}
}

func (s *streamSink) flushLocked() {
	_ = http.NewResponseController(s.w).Flush()
	s.dirty = false
	s.lastFlush = time.Now()
}

// finish ends the stream, with msg (the call's answer) as its last event,
// or without one when msg is nil.
func (s *streamSink) finish(msg []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.timer != nil {
		s.timer.Stop()
	}
	if msg != nil && !s.done {
		if s.dirty {
			s.flushLocked()
		}
		s.buf = append(append(append(s.buf[:0], "event: message\ndata: "...), msg...), "\n\n"...)
		_, _ = s.w.Write(s.buf)
	}
	s.done = true
}

// appendFloat writes f as encoding/json does.
func appendFloat(b []byte, f float64) []byte {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return append(b, '0') // not representable in JSON; encoding/json would fail
	}
	abs := math.Abs(f)
	fmtc := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		fmtc = 'e'
	}
	b = strconv.AppendFloat(b, f, fmtc, -1, 64)
	if fmtc == 'e' {
		// clean up e-09 to e-9, as encoding/json does
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// appendString quotes s as JSON.
func appendString(b []byte, s string) []byte {
	out, ok := bridge.AppendJSONString(b, unsafeBytes(s))
	if !ok {
		// Not UTF-8: let encoding/json replace the bad bytes.
		q, _ := json.Marshal(s)
		return append(b, q...)
	}
	return out
}
