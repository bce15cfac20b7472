package limits

import (
	"context"
	"errors"
	"maps"
	"sync"
	"sync/atomic"
	"time"

	"github.com/toolwire/toolwire/edge/observe"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/semaphore"
)

// Errors of [Limiter.Acquire], wrapped in a [*LimitError] that names the
// scope.
var (
	// ErrQueueFull: every slot is taken and the wait queue is full; the call
	// was refused without waiting.
	ErrQueueFull = errors.New("wait queue full")
	// ErrWaitTimeout: the call waited [Options.WaitTimeout] without getting
	// a slot.
	ErrWaitTimeout = errors.New("timed out waiting for a slot")
)

// Scopes of a [Limiter], the values of the "scope" label of its metrics.
const (
	ScopeGlobal    = "global"
	ScopePrincipal = "principal"
	ScopeTool      = "tool"
)

// LimitError says which scope refused a call and why.
type LimitError struct {
	Scope string // ScopeGlobal, ScopePrincipal or ScopeTool
	Err   error  // ErrQueueFull or ErrWaitTimeout
}

func (e *LimitError) Error() string { return "limits: " + e.Scope + " concurrency: " + e.Err.Error() }

// Unwrap returns e.Err, for errors.Is.
func (e *LimitError) Unwrap() error { return e.Err }

// Limit bounds one key of one scope.
type Limit struct {
	// MaxInFlight is the number of calls that may hold a slot at once; 0
	// means no bound (and no queue).
	MaxInFlight int
	// MaxQueue is the number of calls that may wait for a slot; past it a
	// call fails at once with ErrQueueFull. 0 means no call waits.
	MaxQueue int
}

// DefaultWaitTimeout is [Options.WaitTimeout] when it is 0.
const DefaultWaitTimeout = 5 * time.Second

// Options configures a [Limiter]. nil means no bound at all.
type Options struct {
	Global       Limit            // all calls of the replica
	PerPrincipal Limit            // the calls of each principal
	PerTool      Limit            // the calls of each tool, unless in Tools
	Tools        map[string]Limit // per-tool overrides, such as a tool's concurrency option
	// WaitTimeout bounds the time one Acquire spends waiting, over all
	// scopes; 0 means DefaultWaitTimeout.
	WaitTimeout time.Duration
	// Registerer receives the gauges; nil means prometheus.DefaultRegisterer.
	Registerer prometheus.Registerer
}

// Limiter bounds the calls in flight per principal, per tool and in all,
// each with a bounded FIFO wait queue.
//
// A call takes its slots in a fixed order, principal, then tool, then
// global, so that a principal that floods waits in its own queue and never
// holds shared slots or shared queue places while it does: another
// principal still finds them free. The fixed order also rules out deadlock.
//
// Each key's slots are a golang.org/x/sync/semaphore.Weighted, which is FIFO
// and drops a waiter whose context ends; the Limiter adds the queue bound,
// the wait timeout, per-key bookkeeping (a key's state is freed when it has
// no call in flight or waiting) and metrics:
//
//	toolwire_concurrency_in_flight{scope}  calls holding a slot
//	toolwire_concurrency_queued{scope}     calls waiting for one
//	toolwire_concurrency_rejected_total{scope,reason}  reason: queue_full, wait_timeout
type Limiter struct {
	principal, tool, global *pool
	timeout                 time.Duration
}

// NewLimiter returns a limiter; opts nil means no bounds.
func NewLimiter(opts *Options) *Limiter {
	var o Options
	if opts != nil {
		o = *opts
	}
	reg := o.Registerer
	if reg == nil {
		reg = prometheus.DefaultRegisterer
	}
	m := newConcurrencyMetrics(reg)
	l := &Limiter{timeout: o.WaitTimeout}
	if l.timeout <= 0 {
		l.timeout = DefaultWaitTimeout
	}
	l.principal = newPool(ScopePrincipal, o.PerPrincipal, nil, m)
	l.tool = newPool(ScopeTool, o.PerTool, o.Tools, m)
	l.global = newPool(ScopeGlobal, o.Global, nil, m)
	return l
}

// Acquire takes a slot for principal, for tool and in the global scope,
// waiting in each full scope's queue, and returns the func that gives them
// back. release may be called any number of times; only the first call
// counts. On error nothing is held: err is a [*LimitError] wrapping
// [ErrQueueFull] or [ErrWaitTimeout], or ctx's error if ctx ended first.
func (l *Limiter) Acquire(ctx context.Context, principal, tool string) (release func(), err error) {
	var deadline time.Time // set on the first wait
	var t *ticket          // made on the first slot taken: an unbounded call costs nothing
	for _, sc := range [...]struct {
		p   *pool
		key string
	}{{l.principal, principal}, {l.tool, tool}, {l.global, ""}} {
		s, err := sc.p.acquire(ctx, sc.key, l.timeout, &deadline)
		if err != nil {
			if t != nil {
				t.undo()
			}
			return nil, err
		}
		if s != nil {
			if t == nil {
				t = &ticket{}
			}
			t.held[t.n] = heldSlot{sc.p, sc.key, s}
			t.n++
		}
	}
	if t == nil {
		return noRelease, nil
	}
	return t.release, nil
}

// ticket is what one Acquire holds: a slot in each bounded scope. It is one
// allocation, where a closure per scope would be one each; every call
// makes one.
type ticket struct {
	held [3]heldSlot
	n    int
	done atomic.Bool
}

type heldSlot struct {
	p   *pool
	key string
	s   *slot
}

// release gives the slots back, in the reverse order of taking them; only
// its first call counts.
func (t *ticket) release() {
	if t.done.CompareAndSwap(false, true) {
		t.undo()
	}
}

func (t *ticket) undo() {
	for i := t.n - 1; i >= 0; i-- {
		h := t.held[i]
		h.p.release(h.key, h.s)
	}
}

// noRelease is the release of a call that took no slot.
func noRelease() {}

// PerTool returns the limit of a tool without one of its own
// ([Options].PerTool).
func (l *Limiter) PerTool() Limit { return l.tool.def }

// Tools returns the per-tool overrides ([Options].Tools) in force. The map
// is the caller's.
func (l *Limiter) Tools() map[string]Limit { return maps.Clone(*l.tool.overrides.Load()) }

// SetTools replaces the per-tool overrides, as when the tools served change
// at run time. A call holding or waiting for a slot keeps the limit it
// found; later calls get the new one once the tool's calls have all ended.
func (l *Limiter) SetTools(tools map[string]Limit) {
	tools = maps.Clone(tools)
	l.tool.overrides.Store(&tools)
}

// Saturated reports whether the global scope has every slot taken and a
// full queue: the next call would fail at once. It is false without a
// global bound. [ShedOptions.Overloaded] may use it.
func (l *Limiter) Saturated() bool {
	lim := l.global.def
	if lim.MaxInFlight <= 0 {
		return false
	}
	inFlight, queued := l.global.stats("")
	return inFlight >= lim.MaxInFlight && queued >= lim.MaxQueue
}

// InFlight returns the calls holding a global slot and the calls waiting for
// one. Without a global bound both are 0.
func (l *Limiter) InFlight() (inFlight, queued int) { return l.global.stats("") }

// pool is one scope: a semaphore per key, made on demand.
type pool struct {
	scope string
	def   Limit
	// overrides are the keys' own limits, swapped whole (SetTools).
	overrides atomic.Pointer[map[string]Limit]

	mu   sync.Mutex
	keys map[string]*slot

	inFlight, queued    prometheus.Gauge
	queueFull, timedOut prometheus.Counter

	// spare holds forgotten slots of the default limit, idle (no holder,
	// no waiter), for reuse.
	spare sync.Pool
}

// slot is one key's semaphore and bookkeeping; p.mu guards the counts.
// Slots of the pool's default limit are reused through p.spare once their
// key is forgotten: a principal or tool with one call at a time would
// otherwise make a slot and a semaphore per call.
type slot struct {
	sem              *semaphore.Weighted
	limit            Limit
	refs             int // calls holding, waiting or about to: the slot lives while > 0
	inFlight, queued int
}

func newPool(scope string, def Limit, overrides map[string]Limit, m *concurrencyMetrics) *pool {
	p := &pool{
		scope:     scope,
		def:       def,
		keys:      map[string]*slot{},
		inFlight:  m.inFlight.WithLabelValues(scope),
		queued:    m.queued.WithLabelValues(scope),
		queueFull: m.rejected.WithLabelValues(scope, ReasonQueueFull),
		timedOut:  m.rejected.WithLabelValues(scope, ReasonWaitTimeout),
	}
	p.overrides.Store(&overrides)
	return p
}

func (p *pool) limit(key string) Limit {
	if l, ok := (*p.overrides.Load())[key]; ok {
		return l
	}
	return p.def
}

// acquire takes a slot for key, or returns nil, nil if key is unbounded;
// release gives it back. *deadline is the end of the caller's wait over all
// scopes, set here on the first wait.
func (p *pool) acquire(ctx context.Context, key string, timeout time.Duration, deadline *time.Time) (*slot, error) {
	lim := p.limit(key)
	if lim.MaxInFlight <= 0 {
		return nil, nil
	}

	p.mu.Lock()
	s := p.keys[key]
	if s == nil {
		if lim == p.def {
			s, _ = p.spare.Get().(*slot)
		}
		if s == nil {
			s = &slot{sem: semaphore.NewWeighted(int64(lim.MaxInFlight)), limit: lim}
		}
		p.keys[key] = s
	}
	s.refs++
	if s.sem.TryAcquire(1) { // fails while others wait, which keeps the queue FIFO
		s.inFlight++
		p.mu.Unlock()
		p.inFlight.Inc()
		return s, nil
	}
	if s.queued >= s.limit.MaxQueue {
		p.unrefLocked(key, s)
		p.mu.Unlock()
		p.queueFull.Inc()
		return nil, &LimitError{Scope: p.scope, Err: ErrQueueFull}
	}
	s.queued++
	p.mu.Unlock()
	p.queued.Inc()

	if deadline.IsZero() {
		*deadline = time.Now().Add(timeout)
	}
	wctx, cancel := context.WithDeadline(ctx, *deadline)
	err := s.sem.Acquire(wctx, 1) // on failure the waiter is gone from the queue
	cancel()

	p.mu.Lock()
	s.queued--
	if err == nil {
		s.inFlight++
	} else {
		p.unrefLocked(key, s)
	}
	p.mu.Unlock()
	p.queued.Dec()

	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		p.timedOut.Inc()
		return nil, &LimitError{Scope: p.scope, Err: ErrWaitTimeout}
	}
	p.inFlight.Inc()
	return s, nil
}

// release gives back key's slot s, which acquire returned; a ticket calls
// it once.
func (p *pool) release(key string, s *slot) {
	s.sem.Release(1)
	p.mu.Lock()
	s.inFlight--
	p.unrefLocked(key, s)
	p.mu.Unlock()
	p.inFlight.Dec()
}

// unrefLocked drops one reference to s and forgets key when none is left.
// With no reference left the semaphore is idle, so a slot of the default
// limit can serve another key.
func (p *pool) unrefLocked(key string, s *slot) {
	s.refs--
	if s.refs == 0 {
		delete(p.keys, key)
		if s.limit == p.def {
			p.spare.Put(s)
		}
	}
}

func (p *pool) stats(key string) (inFlight, queued int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if s := p.keys[key]; s != nil {
		return s.inFlight, s.queued
	}
	return 0, 0
}

// concurrencyMetrics are shared by the scopes of every Limiter on one
// registerer.
type concurrencyMetrics struct {
	inFlight, queued *prometheus.GaugeVec
	rejected         *prometheus.CounterVec
}

func newConcurrencyMetrics(reg prometheus.Registerer) *concurrencyMetrics {
	return &concurrencyMetrics{
		inFlight: observe.Register(reg, prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: "toolwire", Subsystem: "concurrency", Name: "in_flight",
			Help: "Calls holding a concurrency slot, by scope.",
		}, []string{"scope"})),
		queued: observe.Register(reg, prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: "toolwire", Subsystem: "concurrency", Name: "queued",
			Help: "Calls waiting for a concurrency slot, by scope.",
		}, []string{"scope"})),
		rejected: observe.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "toolwire", Subsystem: "concurrency", Name: "rejected_total",
			Help: "Calls refused a concurrency slot, by scope and reason (queue_full, wait_timeout).",
		}, []string{"scope", "reason"})),
	}
}
