package edge

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/tidwall/gjson"

	"github.com/toolwire/toolwire/edge/catalog"
	"github.com/toolwire/toolwire/edge/policy/limits"
	"github.com/toolwire/toolwire/edge/policy/ratelimit"
)

// Where each limit of [Limits] is enforced, and how a refusal looks:
//
//   - The principal's rate budget is counted per HTTP request, before the
//     MCP layer (admitHTTP, inside authentication so that the principal is
//     known): a request past it is answered 429 with Retry-After and the
//     RateLimit fields, and nothing of it is read or run. stdio has no HTTP,
//     so there each tools/call takes a unit in the bridge instead, and a call
//     past the budget gets the JSON-RPC error ratelimit.CodeRateLimited.
//   - A tool's rate class, its cost and its concurrency bound are known only
//     once the tools/call is parsed, so they are enforced in the bridge
//     (admit, bridge.Options.Admit), which both the SDK's path and the fast
//     path go through, on every transport: a call past them gets a JSON-RPC
//     error, ratelimit.CodeRateLimited (scope "tool") or
//     limits.CodeOverloaded, in an HTTP 200 response as MCP wants.
//   - Load shedding (503), connection, header and body limits belong to the
//     HTTP server around the edge (internal/app, with package limits).
//
// A principal is named as sessions name their owner (ownerOf): how it
// authenticated and who it is. Without authentication it is the client's
// address, so every caller from one address is one principal; over stdio it
// is [LocalPrincipal].

// LocalPrincipal is the principal limits count stdio calls against: the one
// local client, which has no authentication and no address.
const LocalPrincipal = "local"

// DefaultLimitRetryAfter is [Limits.RetryAfter] when it is zero.
const DefaultLimitRetryAfter = time.Second

// Limits govern what callers may take from an [Edge]: rate budgets per
// principal and per tool class, calls in flight, and streams. The zero value
// governs nothing.
type Limits struct {
	// Rate decides rate limits: a ratelimit.Local for one replica, or a
	// ratelimit.Fallback over a ratelimit.Redis for replicas that share one
	// budget. Nil means no rate limits.
	Rate ratelimit.Limiter
	// Principal is each principal's own budget: every HTTP request but a
	// DELETE or a notifications/cancelled takes one unit (see the top of
	// limits.go), and over stdio every tools/call. A zero Rate means none.
	Principal ratelimit.Class
	// Classes are the budgets of tool rate classes (catalog.Tool.RateClass),
	// by class name, each kept per principal: a call takes its tool's
	// RateCost units of its caller's budget for the tool's class. A class
	// that is not here has no budget of its own; a class's Name is its key.
	Classes map[string]ratelimit.Class
	// Concurrency bounds the tool calls in flight, by principal, by tool
	// name (see [ToolLimits]) and in all. Nil means no bound.
	Concurrency *limits.Limiter
	// RetryAfter is the hint a call refused for concurrency gets; zero means
	// [DefaultLimitRetryAfter].
	RetryAfter time.Duration
	// Stream, if not nil, guards every event stream the edge writes through
	// net/http with a limits.StreamGuard: a client that stops reading has
	// its stream, and the calls feeding it, cancelled, with memory bounded
	// by Stream.MaxPending. Nil leaves streams unguarded.
	Stream *limits.StreamOptions
	// MaxStreamDuration ends a GET event stream (HTTP+SSE, and the
	// Streamable HTTP streams the SDK serves) this long after it opened;
	// clients open a new one. Zero means no maximum.
	MaxStreamDuration time.Duration
}

// ToolLimits returns the concurrency bounds of cat's tools that declare one
// (max_concurrency, catalog.Tool.MaxConcurrency), each with a wait queue of
// queue calls: the Tools of a limits.Options.
func ToolLimits(cat *catalog.Catalog, queue int) map[string]limits.Limit {
	m := map[string]limits.Limit{}
	for _, t := range cat.Tools() {
		if t.MaxConcurrency > 0 {
			m[t.Name] = limits.Limit{MaxInFlight: t.MaxConcurrency, MaxQueue: max(queue, 0)}
		}
	}
	return m
}

// governor is an edge's [Limits], checked and ready.
type governor struct {
	Limits
	principalOn bool
	// classes are the budgets by class name, with Name set.
	classes map[string]ratelimit.Class
	// retryAfter is Limits.RetryAfter or its default.
	retryAfter time.Duration
	// errorLog logs a failing rate store, at most once per errorLogEvery.
	errorLog rateLog
}

// newGovernor checks l against the tools of cat: every class must be valid,
// and no tool may cost more than its class's burst, which would refuse every
// call of it.
func newGovernor(l Limits, cat *catalog.Catalog) (*governor, error) {
	g := &governor{Limits: l, classes: map[string]ratelimit.Class{}, retryAfter: l.RetryAfter}
	if g.retryAfter <= 0 {
		g.retryAfter = DefaultLimitRetryAfter
	}
	if l.Principal.Rate != 0 {
		if l.Rate == nil {
			return nil, errors.New("edge: Limits.Principal needs Limits.Rate")
		}
		if l.Principal.Name == "" {
			g.Principal.Name = "principal"
		}
		if err := g.Principal.Validate(); err != nil {
			return nil, fmt.Errorf("edge: principal rate limit: %w", err)
		}
		g.principalOn = true
	}
	for name, c := range l.Classes {
		if l.Rate == nil {
			return nil, errors.New("edge: Limits.Classes needs Limits.Rate")
		}
		if c.Name == "" {
			c.Name = name
		}
		if c.Name != name {
			return nil, fmt.Errorf("edge: rate class %q is named %q", name, c.Name)
		}
		if err := c.Validate(); err != nil {
			return nil, fmt.Errorf("edge: %w", err)
		}
		g.classes[name] = c
	}
	if err := g.check(cat); err != nil {
		return nil, err
	}
	return g, nil
}

// check refuses a catalog with a tool that costs more than its class's
// burst, which would refuse every call of it.
func (g *governor) check(cat *catalog.Catalog) error {
	for _, t := range cat.Tools() {
		if c, ok := g.classes[t.RateClass]; ok && t.RateCost > c.Burst {
			return fmt.Errorf("edge: tool %s costs %d units of rate class %q, whose burst is %d: no call could ever run",
				t.Name, t.RateCost, c.Name, c.Burst)
		}
	}
	return nil
}

// callerKey is the context key of the principal admitHTTP counted a
// request against.
type callerKey struct{}

// callerCtx carries the principal of a request under callerKey. It is
// context.WithValue in one allocation instead of two (the value context and
// the boxed string): every request pays for it.
type callerCtx struct {
	context.Context
	key string
}

func (c *callerCtx) Value(k any) any {
	if k == (callerKey{}) {
		return c.key
	}
	return c.Context.Value(k)
}

// callerOf names the principal of an HTTP request, once authentication has
// run: its owner name, or its address without authentication.
func callerOf(r *http.Request) string {
	if o := ownerOf(r.Context()); o != "" {
		return o
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// admitHTTP counts every request against its principal's rate budget and
// answers 429 past it; the requests it lets through carry the principal in
// their context, for admit.
func (e *Edge) admitHTTP(next http.Handler) http.Handler {
	g := e.gov
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := callerOf(r)
		if g.principalOn && r.Method != http.MethodDelete {
			d, err := g.Rate.Allow(r.Context(), key, g.Principal)
			switch {
			case err != nil:
				if r.Context().Err() != nil {
					return // the client is gone
				}
				// A store that fails without a Fallback around it: serving
				// beats refusing everyone.
				g.errorLog.log(e, err)
			case !d.Allowed && !cancellation(r):
				ratelimit.WriteTooManyRequests(w, d, ratelimit.ScopePrincipal)
				return
			case d.Allowed:
				ratelimit.SetHeaders(w.Header(), d)
			}
		}
		next.ServeHTTP(w, r.WithContext(&callerCtx{r.Context(), key}))
	})
}

// AdmitHTTP wraps a handler of another surface of the same process, such as
// a REST gateway, so that its requests draw on the same per-principal rate
// budget as MCP's: a request past it gets 429. Authentication must run
// before it, as it does before the edge's own handler. Without rate limits
// it returns next.
func (e *Edge) AdmitHTTP(next http.Handler) http.Handler {
	if e.gov == nil || !e.gov.principalOn {
		return next
	}
	return e.admitHTTP(next)
}

// maxCancellationBody bounds the body read to tell a cancellation.
const maxCancellationBody = 4 << 10

// cancellation reports whether r is a POST of one notifications/cancelled,
// which is let through a spent budget: refusing it would keep the call it
// cancels running. The body is put back for the handler. Only refused
// requests are looked at, so the cost is theirs.
func cancellation(r *http.Request) bool {
	if r.Method != http.MethodPost || r.ContentLength <= 0 || r.ContentLength > maxCancellationBody {
		return false
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxCancellationBody))
	r.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(body), r.Body), r.Body}
	if err != nil {
		return false
	}
	return gjson.GetBytes(body, "method").String() == "notifications/cancelled"
}

// admit is the bridge's Admit: it applies the rate and concurrency limits
// that need the tool. Its refusals are JSON-RPC errors.
func (e *Edge) admit(ctx context.Context, t *catalog.Tool) (func(), error) {
	g := e.gov
	key, viaHTTP := ctx.Value(callerKey{}).(string)
	if !viaHTTP {
		// stdio: no HTTP request was counted, and no principal exists.
		key = LocalPrincipal
		if o := ownerOf(ctx); o != "" {
			key = o
		}
		if g.principalOn {
			if err := e.allow(ctx, key, g.Principal, ratelimit.ScopePrincipal); err != nil {
				return nil, err
			}
		}
	}
	if c, ok := g.classes[t.RateClass]; ok {
		c.Cost = t.RateCost
		if err := e.allow(ctx, key, c, ratelimit.ScopeTool); err != nil {
			return nil, err
		}
	}
	if g.Concurrency == nil {
		return nil, nil
	}
	release, err := g.Concurrency.Acquire(ctx, key, t.Name)
	if le, ok := errors.AsType[*limits.LimitError](err); ok {
		re := limits.NewRPCError(le, g.retryAfter)
		return nil, &jsonrpc.Error{Code: re.Code, Message: re.Message, Data: mustJSON(re.Data)}
	}
	return release, err
}

// allow takes class's units from key's budget, or returns the JSON-RPC
// error of a refusal.
func (e *Edge) allow(ctx context.Context, key string, class ratelimit.Class, scope ratelimit.Scope) error {
	d, err := e.gov.Rate.Allow(ctx, key, class)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		e.gov.errorLog.log(e, err)
		return nil
	}
	if d.Allowed {
		return nil
	}
	re := ratelimit.NewRPCError(d, scope)
	return &jsonrpc.Error{Code: re.Code, Message: re.Message, Data: mustJSON(re.Data)}
}

// mustJSON marshals v, a struct of strings and numbers, which cannot fail.
func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// rateLog spaces the records of a failing rate store: about one per
// errorLogEvery, however many calls see the failure.
type rateLog struct{ next atomic.Int64 } // unix nanoseconds

const errorLogEvery = 30 * time.Second

func (l *rateLog) log(e *Edge, err error) {
	now := time.Now().UnixNano()
	if next := l.next.Load(); now < next || !l.next.CompareAndSwap(next, now+int64(errorLogEvery)) {
		return
	}
	e.logger.Warn("rate limit store failed; calls are let through (wrap the store in a ratelimit.Fallback to choose otherwise)", "error", err)
}
