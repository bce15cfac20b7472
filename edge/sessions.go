package edge

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/toolwire/toolwire/edge/policy/authn"
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
// A session enters the table when the edge answers its initialize
// (lazysession.go) or the SDK's initialize succeeds (trackSessions), and
// leaves it on DELETE or expiry, when the edge closes it.
type sessionTable struct {
	timeout time.Duration
	mu      sync.RWMutex
	m       map[string]*liveSession
	// sdk indexes the sessions that have an SDK session by the SDK's id,
	// which differs from the client's for a session the edge opened.
	sdk map[string]*liveSession
}

// liveSession is one session in the table.
type liveSession struct {
	// id is the Mcp-Session-Id the client knows.
	id    string
	table *sessionTable
	// owner is the principal that opened the session (see ownerOf); only
	// it may use the session. Empty when authentication is off.
	owner string

	mu sync.Mutex
	// ss is the SDK's session, nil until one is needed (lazysession.go);
	// sdkID is its id.
	ss    *mcp.ServerSession
	sdkID string
	// lazy is what an SDK session needs to be opened: the client's
	// initialize body, and whether it has sent notifications/initialized.
	lazy *lazyInit
	// refs counts the requests that name the session and are running; the
	// idle timer runs only while it is zero.
	refs  int
	timer *time.Timer // nil once the session is closed
	// calls are the fast path's calls in flight, by request id (raw JSON),
	// so that notifications/cancelled can reach them.
	calls map[string]context.CancelFunc
	// get is the standalone GET stream the edge serves (getstream.go), if
	// one is open.
	get *hijackedWriter
	// events number and keep the messages of the standalone stream, for a
	// client that resumes it (resume.go).
	events eventLog
	// notified are the list changes (catalogState.gens) the edge wrote to
	// the GET stream itself while the session had no SDK session, by
	// listKind (catalogswap.go).
	notified [numLists]atomic.Uint64
	// logLevel is the level logging/setLevel set (see logLevels), or
	// noLogs: the SDK sends no log messages until the client sets one.
	logLevel atomic.Int32
}

func newSessionTable(timeout time.Duration) *sessionTable {
	return &sessionTable{timeout: timeout, m: map[string]*liveSession{}, sdk: map[string]*liveSession{}}
}

// add enters ss, whose initialize by owner the SDK has just answered.
func (t *sessionTable) add(ss *mcp.ServerSession, owner string) {
	id := ss.ID()
	if id == "" {
		return
	}
	s := &liveSession{id: id, ss: ss, sdkID: id, table: t, owner: owner}
	s.logLevel.Store(noLogs)
	s.timer = time.AfterFunc(t.timeout, s.expire)
	t.mu.Lock()
	t.m[id] = s
	t.sdk[id] = s
	t.mu.Unlock()
}

// addLazy enters a session whose initialize by owner the edge answered,
// with no SDK session yet.
func (t *sessionTable) addLazy(id, owner string, lazy *lazyInit) {
	s := &liveSession{id: id, table: t, owner: owner, lazy: lazy}
	s.logLevel.Store(noLogs)
	s.timer = time.AfterFunc(t.timeout, s.expire)
	t.mu.Lock()
	t.m[id] = s
	t.mu.Unlock()
}

// sdkSession returns the SDK's session, nil if there is none yet.
func (s *liveSession) sdkSession() *mcp.ServerSession {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ss
}

// acquire returns the live session id names, counting a request by owner
// on it until release; nil when there is none. Another principal's session
// is none: it learns nothing of it.
func (t *sessionTable) acquire(id, owner string) *liveSession {
	t.mu.RLock()
	s := t.m[id]
	t.mu.RUnlock()
	if s == nil || s.owner != owner {
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

// bySDKID returns the live session whose SDK session is id, whoever owns
// it.
func (t *sessionTable) bySDKID(id string) *liveSession {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.sdk[id]
}

// attach makes hw the session's GET stream, which holds the session alive
// until it ends; false if the session has closed, or has a stream and
// replace is false. With replace, a stream already open is ended: hw, a
// resumed stream, takes its place (resume.go).
func (s *liveSession) attach(hw *hijackedWriter, replace bool) bool {
	s.mu.Lock()
	if s.timer == nil || (s.get != nil && !replace) {
		s.mu.Unlock()
		return false
	}
	old := s.get
	s.get = hw
	if s.refs == 0 {
		s.timer.Stop()
	}
	s.refs++
	hw.onClose = func() {
		s.mu.Lock()
		if s.get == hw {
			s.get = nil
		}
		s.mu.Unlock()
		s.release()
	}
	s.mu.Unlock()
	if old != nil {
		old.close() // its onClose releases its count
	}
	return true
}

// stream returns the session's GET stream, if one is open.
func (s *liveSession) stream() *hijackedWriter {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.get
}

func (s *liveSession) streaming() bool { return s.stream() != nil }

// exists reports whether id is a live session, whoever owns it.
func (t *sessionTable) exists(id string) bool {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.m[id] != nil
}

// release ends a request that acquire or attach counted.
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
	if ss := s.sdkSession(); ss != nil {
		_ = ss.Close()
	}
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
	get := s.get
	s.mu.Unlock()
	for _, cancel := range calls {
		cancel()
	}
	if get != nil {
		get.close()
	}
	s.table.mu.Lock()
	if s.table.m[s.id] == s {
		delete(s.table.m, s.id)
	}
	if s.sdkID != "" && s.table.sdk[s.sdkID] == s {
		delete(s.table.sdk, s.sdkID)
	}
	s.table.mu.Unlock()
}

// all returns the live sessions, taken under the table's lock, for work
// that must not hold it.
func (t *sessionTable) all() []*liveSession {
	t.mu.RLock()
	defer t.mu.RUnlock()
	all := make([]*liveSession, 0, len(t.m))
	for _, s := range t.m {
		all = append(all, s)
	}
	return all
}

// closeAll closes every session, for shutdown.
func (t *sessionTable) closeAll() {
	for _, s := range t.all() {
		s.close()
		if ss := s.sdkSession(); ss != nil {
			_ = ss.Close()
		}
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
				switch o := ctx.Value(openingKey{}).(type) {
				case *liveSession:
					o.opened(ss) // the edge's session gets its SDK session
				case probe:
					// the edge learning the SDK's initialize result
				default:
					e.sessions.add(ss, ownerOf(ctx))
				}
			}
		}
		return res, err
	}
}

// ownerOf names the principal of a request, as sessions are bound to it:
// how it authenticated and who it is. Empty when authentication is off.
func ownerOf(ctx context.Context) string {
	p, ok := authn.FromContext(ctx)
	if !ok {
		return ""
	}
	return string(p.Method) + ":" + p.Subject
}
