package edge

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/toolwire/toolwire/edge/bridge"
	"github.com/toolwire/toolwire/edge/catalog"
	"github.com/toolwire/toolwire/edge/observe"
	"github.com/toolwire/toolwire/edge/policy/authn"
	"github.com/toolwire/toolwire/edge/policy/limits"
	"github.com/toolwire/toolwire/internal/credential"
)

// Options configure an [Edge]. Nil or zero fields take the defaults.
type Options struct {
	// Name and Version identify the server to clients.
	Name, Version string
	// Logger logs the edge's own events; nil means slog.Default().
	Logger *slog.Logger
	// Metrics records tool calls; nil means metrics on the default registry.
	Metrics *observe.Metrics
	// DefaultTimeout and MaxTimeout bound tool calls; see [bridge.Options].
	DefaultTimeout, MaxTimeout time.Duration
	// SessionTimeout closes Streamable HTTP sessions idle this long; zero
	// means 30 minutes.
	SessionTimeout time.Duration
	// AllowedHosts are the Host header values (without port) accepted besides
	// the loopback names; see [Guard].
	AllowedHosts []string
	// AllowedOrigins are the browser origins (scheme://host[:port]) accepted
	// besides loopback ones; see [Guard].
	AllowedOrigins []string
	// KeepAlive is the period of keep-alive comments on idle Streamable
	// HTTP GET streams and HTTP+SSE streams, which keep proxies from cutting
	// them and find clients that went away; zero means DefaultKeepAlive,
	// negative none.
	KeepAlive time.Duration
	// SDKOnly turns the fast path off (fastpath.go): every request is
	// served by the SDK. It is for comparisons, and a switch should the
	// fast path ever be at fault.
	SDKOnly bool
	// PageSize is the most items one tools/list, prompts/list,
	// resources/list or resources/templates/list page holds; the client
	// follows nextCursor for the rest. Lists are in name (URI) order, the
	// same on every page walk. Zero means the SDK's default (1000).
	PageSize int
	// Auth, if not nil, authenticates every HTTP request (see auth.go): a
	// request without a credential it accepts gets its 401, and every tool
	// call is authorized against the tool's scopes. Nil serves everyone, as
	// for trusted local use.
	Auth *authn.Authenticator
	// ResourceMetadata, if not nil, is served as the protected resource
	// metadata (RFC 9728) at authn.WellKnownPath and at the path derived
	// from its Resource.
	ResourceMetadata *authn.ResourceMetadata
	// Credentials, if not nil, mints the internal credential each backend
	// call carries for its principal; see [bridge.Options].
	Credentials *credential.Minter
	// Limits, if not nil, govern what callers may take: rate budgets,
	// calls in flight and streams (limits.go, streams.go).
	Limits *Limits
	// StateKey seals the requestState of 2026-07-28 calls that ask their
	// client for input (bridge/mrtr.go); every replica a client's retry may
	// reach must share it. Nil means a random key for this process.
	StateKey []byte
	// Tasks configure the tasks extension (tasks.go); nil means defaults.
	Tasks *TaskOptions
}

// Edge serves a catalog of tools over MCP.
type Edge struct {
	server    *mcp.Server
	features  *features
	tasks     *taskServer // the tasks extension (tasks.go)
	stateful  http.Handler
	stateless http.Handler
	sse       http.Handler
	posts     *postRegistry
	sessions  *sessionTable
	fast      *fastPath
	// params are the tools' Mcp-Param-* headers, checked before either
	// path (params.go); a catalog change sets them anew.
	params paramHeaders
	// inits are the SDK's initialize results, for the sessions the edge
	// opens itself (lazysession.go); a catalog change starts new ones.
	inits atomic.Pointer[initResults]
	// catalog is what the edge serves now, and what changing it at run
	// time needs (catalogswap.go).
	catalog catalogState
	// parents maps sessions the edge opened itself (SSE, stdio) to the
	// context whose end cancels their calls.
	parents   sync.Map
	guard     *Guard
	logger    *slog.Logger
	keepAlive time.Duration
	// auth, metadata and scopes serve authentication: the authenticator,
	// the metadata routes, and each tool's required scopes.
	auth     *authn.Authenticator
	metadata *http.ServeMux
	scopes   atomic.Pointer[map[string][]string]
	// gov enforces Options.Limits (nil: none); streamOpts and maxStream are
	// its stream bounds.
	gov        *governor
	streamOpts *limits.StreamOptions
	maxStream  time.Duration
}

// New builds an edge serving every tool of cat, each on the backend resolve
// finds for its service.
func New(cat *catalog.Catalog, resolve bridge.Resolver, opts *Options) (*Edge, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Name == "" {
		o.Name = "toolwire"
	}
	if o.Version == "" {
		o.Version = "dev"
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.SessionTimeout == 0 {
		o.SessionTimeout = 30 * time.Minute
	}
	e := &Edge{
		catalog:   catalogState{cat: catalog.Empty()},
		posts:     newPostRegistry(),
		sessions:  newSessionTable(o.SessionTimeout),
		guard:     NewGuard(o.AllowedHosts, o.AllowedOrigins),
		logger:    o.Logger,
		keepAlive: o.KeepAlive,
	}
	if e.keepAlive == 0 {
		e.keepAlive = DefaultKeepAlive
	}
	e.inits.Store(&initResults{})
	e.catalog.resolve.Store(&resolve)
	if o.Metrics == nil {
		// One set for the edge's life: a catalog change binds new tools
		// with the same (bridge.Bridge.With).
		o.Metrics = observe.NewMetrics(nil)
	}
	var admit func(context.Context, *catalog.Tool) (func(), error)
	if o.Limits != nil {
		g, err := newGovernor(*o.Limits, cat)
		if err != nil {
			return nil, err
		}
		e.gov, e.streamOpts, e.maxStream = g, g.Stream, g.MaxStreamDuration
		admit = e.admit
	}
	b, err := bridge.New(cat, resolve, &bridge.Options{
		DefaultTimeout: o.DefaultTimeout,
		MaxTimeout:     o.MaxTimeout,
		Metrics:        o.Metrics,
		Logger:         o.Logger,
		Barrier:        e.barrier,
		// With authentication on, a call must carry a principal on every
		// path; stdio, which has none, is then refused.
		RequirePrincipal: o.Auth != nil,
		Credentials:      o.Credentials,
		Admit:            admit,
		StateKey:         o.StateKey,
	})
	if err != nil {
		return nil, err
	}
	// Resources, prompts and completions (features.go) are called under the
	// same policy as tools.
	e.catalog.featureOpts = bridge.Options{
		DefaultTimeout:   o.DefaultTimeout,
		MaxTimeout:       o.MaxTimeout,
		Logger:           o.Logger,
		RequirePrincipal: o.Auth != nil,
		Credentials:      o.Credentials,
	}
	if err := bridge.NewFeatures(resolve, &e.catalog.featureOpts).Check(cat); err != nil {
		return nil, err
	}
	// Feature calls find their backend through the current resolver, which
	// a catalog change replaces.
	rpc := bridge.NewFeatures(e.resolveCurrent, &e.catalog.featureOpts)
	e.features = newFeatures(cat, rpc, o.Logger)
	e.features.sealer = b.Sealer()
	sdkLogger := slog.New(quietHandler{o.Logger.Handler(), slog.LevelWarn})
	serverOpts := &mcp.ServerOptions{
		Logger:   sdkLogger,
		HasTools: true,
		PageSize: o.PageSize,
	}
	e.features.serverOptions(serverOpts)
	e.server = mcp.NewServer(&mcp.Implementation{Name: o.Name, Title: "toolwire edge", Version: o.Version}, serverOpts)
	e.server.AddReceivingMiddleware(e.linkCancellation, e.trackSessions, markRequests)
	// The tasks extension (tasks.go), inside withPrincipal.
	e.tasks = newTaskServer(e.server, b, cat, o.Tasks, o.Logger)
	e.server.AddSendingMiddleware(e.standaloneNotifications)
	if o.Auth != nil {
		e.auth = o.Auth
		e.server.AddReceivingMiddleware(e.withPrincipal)
	}
	if o.ResourceMetadata != nil {
		e.metadata = http.NewServeMux()
		if err := serveMetadata(e.metadata, *o.ResourceMetadata); err != nil {
			return nil, err
		}
	}
	if !o.SDKOnly {
		e.fast = newFastPath(b, nil, o.Name, "toolwire edge", o.Version)
	}
	// The tools, as a change of the empty catalog to cat (catalogswap.go).
	e.catalog.bridge = b
	if err := e.applyTools(cat, b); err != nil {
		return nil, err
	}
	e.catalog.cat = cat
	e.features.add(e.server)

	e.params.set(cat.Tools())

	getServer := func(*http.Request) *mcp.Server { return e.server }
	// Guard is the one Host and Origin check, for both paths (the fast path
	// never reaches the SDK's), so the SDK's localhost check is off: it would
	// refuse the allowed hosts of a deployment behind a proxy on loopback.
	// Sessions expire in the edge's table (sessions.go), not in the SDK.
	e.stateful = mcp.NewStreamableHTTPHandler(getServer, &mcp.StreamableHTTPOptions{
		Logger:                     sdkLogger,
		DisableLocalhostProtection: true,
	})
	e.stateless = mcp.NewStreamableHTTPHandler(getServer, &mcp.StreamableHTTPOptions{
		Logger:                       sdkLogger,
		Stateless:                    true,
		PropagateRequestCancellation: true,
		DisableLocalhostProtection:   true,
	})
	sse := newSSEHandler(e.server, &e.parents)
	sse.guard, sse.keepAlive, sse.maxDuration = e.streamOpts, e.keepAlive, e.maxStream
	e.sse = sse
	return e, nil
}

// Close ends every Streamable HTTP session, and with them the GET streams
// the edge serves outside net/http, which http.Server.Shutdown does not see.
func (e *Edge) Close() {
	e.sessions.closeAll()
	e.tasks.close()
	e.features.close()
}

// Handler serves Streamable HTTP on /mcp and legacy HTTP+SSE on /sse (the
// GET stream and its POST endpoint), behind the Host and Origin guard and,
// with [Options.Auth], authentication. With [Options.ResourceMetadata] it
// also serves the protected resource metadata, to any origin.
func (e *Edge) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/mcp", e.serveStreamable)
	mux.HandleFunc("/sse", e.serveSSE)
	var h http.Handler = mux
	// Inside authentication, so that limits know the principal.
	if e.gov != nil && (e.gov.principalOn || e.auth == nil) {
		h = e.admitHTTP(h)
	}
	if e.auth != nil {
		h = e.authenticate(h)
	}
	h = e.guard.Wrap(h)
	if e.metadata == nil {
		return h
	}
	top := http.NewServeMux()
	top.Handle("/", h)
	top.Handle(authn.WellKnownPath, e.metadata)
	top.Handle(authn.WellKnownPath+"/", e.metadata)
	return top
}

// ServeStdio serves one MCP session over r and w until r ends, ctx is done,
// or the session fails. Calls still running when r ends are cancelled.
func (e *Edge) ServeStdio(ctx context.Context, r io.ReadCloser, w io.WriteCloser) error {
	stdin, eof := context.WithCancel(ctx)
	defer eof()
	t := &mcp.IOTransport{Reader: eofReader{r, eof}, Writer: dropWriteCloser{w}}
	ss, err := e.server.Connect(ctx, t, nil)
	if err != nil {
		return err
	}
	e.parents.Store(ss, stdin)
	defer e.parents.Delete(ss)
	ended := make(chan error, 1)
	go func() { ended <- ss.Wait() }()
	select {
	case err := <-ended:
		return err
	case <-ctx.Done():
		_ = ss.Close()
		<-ended
		return nil
	}
}
