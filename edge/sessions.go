package edge

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// sessionTable holds the live Streamable HTTP sessions (2025-03-26 to
// 2025-11-25), so that the fast path (fastpath.go) can answer calls on them
// without the SDK, and it owns their idle expiry.
//
// The SDK keeps its own table but exposes neither lookups nor closing
// events, and its idle timer only counts the requests it serves itself: calls
// answered by the fast path would let it expire a busy session. So the SDK's
// SessionTimeout is off, and the edge expires sessions here, counting every
// request that names the session, whoever answers it.
//
// A session enters the table when its initialize succeeds (see
// trackSessions) and leaves it on DELETE or expiry, when the edge closes it.
type sessionTable struct {
	timeout time.Duration
	mu      sync.RWMutex
	m       map[string]*liveSession
}

// liveSession is one session in the table.
type liveSession struct {
	id    string
	ss    *mcp.ServerSession
	table *sessionTable

	mu sync.Mutex
	// refs counts the requests that name the session and are running; the
	// idle timer runs only while it is zero.
	refs  int
	timer *time.Timer // nil once the session is closed
	// calls are the fast path's calls in flight, by request id (raw JSON),
	// so that notifications/cancelled can reach them.
	calls map[string]context.CancelFunc
	// logLevel is the level logging/setLevel set (see logLevels), or
	// noLogs: the SDK sends no log messages until the client sets one.
	logLevel atomic.Int32
}

func newSessionTable(timeout time.Duration) *sessionTable {
	return &sessionTable{timeout: timeout, m: map[string]*liveSession{}}
}

// add enters ss, whose initialize has just succeeded.
func (t *sessionTable) add(ss *mcp.ServerSession) {
	id := ss.ID()
	if id == "" {
		return
	}
	s := &liveSession{id: id, ss: ss, table: t}
	s.logLevel.Store(noLogs)
	s.timer = time.AfterFunc(t.timeout, s.expire)
	t.mu.Lock()
	t.m[id] = s
	t.mu.Unlock()
}

// acquire returns the live session id names, counting a request on it until
// release; nil when there is none.
func (t *sessionTable) acquire(id string) *liveSession {
	t.mu.RLock()
	s := t.m[id]
	t.mu.RUnlock()
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.timer == nil {
		return nil // closed
	}
	if s.refs == 0 {
		s.timer.Stop()
	}
	s.refs++
	return s
}

// release ends a request that acquire counted.
func (s *liveSession) release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refs--
	if s.refs == 0 && s.timer != nil {
		s.timer.Reset(s.table.timeout)
	}
}

// expire closes the session when it has been idle for the timeout.
func (s *liveSession) expire() {
	s.mu.Lock()
	if s.refs > 0 || s.timer == nil {
		// A request began as the timer fired; it restarts the timer when it ends.
		s.mu.Unlock()
		return
	}
	s.mu.Unlock()
	s.close()
	// The SDK's session ends too: later requests that name it get 404.
	_ = s.ss.Close()
}

// close takes the session out of the table and cancels the fast path's
// calls on it. It is what DELETE and expiry share; the SDK closes its side.
func (s *liveSession) close() {
	s.mu.Lock()
	if s.timer == nil {
		s.mu.Unlock()
		return
	}
	s.timer.Stop()
	s.timer = nil
	calls := s.calls
	s.calls = nil
	s.mu.Unlock()
	for _, cancel := range calls {
		cancel()
	}
	s.table.mu.Lock()
	if s.table.m[s.id] == s {
		delete(s.table.m, s.id)
	}
	s.table.mu.Unlock()
}

// closeAll closes every session, for shutdown.
func (t *sessionTable) closeAll() {
	t.mu.RLock()
	all := make([]*liveSession, 0, len(t.m))
	for _, s := range t.m {
		all = append(all, s)
	}
	t.mu.RUnlock()
	for _, s := range all {
		s.close()
		_ = s.ss.Close()
	}
}

// startCall registers a fast-path call by its request id; it reports false
// when a call with that id is already in flight on the session (or the
// session has closed).
func (s *liveSession) startCall(id string, cancel context.CancelFunc) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.timer == nil {
		return false
	}
	if _, dup := s.calls[id]; dup {
		return false
	}
	if s.calls == nil {
		s.calls = make(map[string]context.CancelFunc)
	}
	s.calls[id] = cancel
	return true
}

func (s *liveSession) endCall(id string) {
	s.mu.Lock()
	delete(s.calls, id)
	s.mu.Unlock()
}

// cancelCall cancels the fast-path call with request id, reporting whether
// there was one.
func (s *liveSession) cancelCall(id string) bool {
	s.mu.Lock()
	cancel, ok := s.calls[id]
	delete(s.calls, id)
	s.mu.Unlock()
	if ok {
		cancel()
	}
	return ok
}

// trackSessions is receiving middleware that enters each Streamable HTTP
// session into the table once its initialize has succeeded. HTTP+SSE and
// stdio sessions (no RequestExtra) are the edge's own and are not served on
// /mcp.
func (e *Edge) trackSessions(next mcp.MethodHandler) mcp.MethodHandler {
	return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
		res, err := next(ctx, method, req)
		if method == "initialize" && err == nil && req.GetExtra() != nil {
			if ss, ok := req.GetSession().(*mcp.ServerSession); ok {
				e.sessions.add(ss)
			}
		}
		return res, err
	}
}
