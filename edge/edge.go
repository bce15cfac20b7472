package edge

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/toolwire/toolwire/edge/bridge"
	"github.com/toolwire/toolwire/edge/catalog"
	"github.com/toolwire/toolwire/edge/observe"
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
	// SDKOnly turns the fast path off (fastpath.go): every request is
	// served by the SDK. It is for comparisons, and a switch should the
	// fast path ever be at fault.
	SDKOnly bool
}

// Edge serves a catalog of tools over MCP.
type Edge struct {
	server    *mcp.Server
	stateful  http.Handler
	stateless http.Handler
	sse       http.Handler
	posts     *postRegistry
	sessions  *sessionTable
	fast      *fastPath
	// parents maps sessions the edge opened itself (SSE, stdio) to the
	// context whose end cancels their calls.
	parents sync.Map
	guard   *Guard
	logger  *slog.Logger
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
		posts:    newPostRegistry(),
		sessions: newSessionTable(o.SessionTimeout),
		guard:    NewGuard(o.AllowedHosts, o.AllowedOrigins),
		logger:   o.Logger,
	}
	b, err := bridge.New(cat, resolve, &bridge.Options{
		DefaultTimeout: o.DefaultTimeout,
		MaxTimeout:     o.MaxTimeout,
		Metrics:        o.Metrics,
		Logger:         o.Logger,
		Barrier:        e.barrier,
	})
	if err != nil {
		return nil, err
	}
	sdkLogger := slog.New(quietHandler{o.Logger.Handler(), slog.LevelWarn})
	e.server = mcp.NewServer(&mcp.Implementation{Name: o.Name, Title: "toolwire edge", Version: o.Version}, &mcp.ServerOptions{
		Logger:   sdkLogger,
		HasTools: true,
	})
	e.server.AddReceivingMiddleware(e.linkCancellation, e.trackSessions)
	b.Add(e.server)
	names := make([]string, 0, len(cat.Tools()))
	for _, t := range cat.Tools() {
		names = append(names, t.Name)
	}
	if !o.SDKOnly {
		e.fast = newFastPath(b, names, o.Name, "toolwire edge", o.Version)
	}

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
	e.sse = newSSEHandler(e.server, &e.parents)
	return e, nil
}

// Handler serves Streamable HTTP on /mcp and legacy HTTP+SSE on /sse (the
// GET stream and its POST endpoint), behind the Host and Origin guard.
func (e *Edge) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/mcp", e.serveStreamable)
	mux.HandleFunc("/sse", e.serveSSE)
	return e.guard.Wrap(mux)
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
