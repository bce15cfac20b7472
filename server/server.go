package server

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/reflection"

	"github.com/toolwire/toolwire/internal/credential"
)

// DefaultShutdownTimeout is how long [Server.Serve] waits for running calls
// to finish after its context is done, when [Options.ShutdownTimeout] is 0.
const DefaultShutdownTimeout = 5 * time.Second

// Defaults of the resource limits every backend gets (issue 6).
const (
	// DefaultMaxMessageBytes bounds a message received or sent, when
	// [Options.MaxMessageBytes] is 0. It is gRPC's own receive bound; gRPC
	// sends anything by default, which lets one bad reply tie up a
	// connection's flow-control window and the client's memory.
	DefaultMaxMessageBytes = 4 << 20
	// DefaultKeepaliveMinTime is the shortest keep-alive ping interval a
	// client may use: a client that pings more often is sent GOAWAY
	// ("too_many_pings") and its connection closed, so no client can make
	// the server spend its time answering pings.
	DefaultKeepaliveMinTime = 5 * time.Second
	// DefaultKeepaliveTime and DefaultKeepaliveTimeout: the server pings a
	// connection idle for the first, and closes it if the ping is not
	// answered within the second, so that connections of clients that
	// vanished (or of middleboxes that dropped them) do not pile up.
	DefaultKeepaliveTime    = time.Minute
	DefaultKeepaliveTimeout = 20 * time.Second
)

// Options configure a [Server]. The zero value, and a nil *Options, are
// valid: every field is optional.
type Options struct {
	// Logger receives call logs and recovered panics. Nil means
	// slog.Default().
	Logger *slog.Logger
	// StreamWorkers, when set, serves streams on that many long-lived
	// goroutines (grpc.NumStreamWorkers): a fresh goroutine per call starts
	// with a small stack and grows it on every call, which was 12% of the
	// echo backend's CPU under load (perf, issue 3). A stream finds every
	// worker busy only under load, and then gets its own goroutine. The
	// workers live until the server stops, so only a server that is served
	// and stopped should have them; the service commands set GOMAXPROCS.
	StreamWorkers int
	// Registerer is where the in-flight gauge is registered. Nil means
	// prometheus.DefaultRegisterer. Several servers may share a registerer:
	// the second one reuses the gauge the first registered.
	Registerer prometheus.Registerer
	// ShutdownTimeout bounds the graceful stop in [Server.Serve]: calls still
	// running after it are cancelled. Zero means [DefaultShutdownTimeout].
	ShutdownTimeout time.Duration
	// UnaryInterceptors run after recovery and logging, before validation,
	// in the order given.
	UnaryInterceptors []grpc.UnaryServerInterceptor
	// StreamInterceptors run after recovery and logging, before validation,
	// in the order given.
	StreamInterceptors []grpc.StreamServerInterceptor
	// Credentials, if not nil, requires every call (except to health and
	// reflection) to carry an internal credential from the edge that this
	// verifier accepts, with the scopes CredentialOptions asks for: the
	// credential interceptors ([CredentialUnaryInterceptor],
	// [CredentialStreamInterceptor]) run first among UnaryInterceptors and
	// StreamInterceptors, after recovery and logging.
	Credentials *credential.Verifier
	// CredentialOptions configure the check Credentials turns on. Nil
	// requires the scopes of each method's tool option ([ToolScopes]).
	CredentialOptions *CredentialOptions
	// MaxMessageBytes bounds each message the server receives or sends;
	// zero means [DefaultMaxMessageBytes].
	MaxMessageBytes int
	// ServerOptions are appended to the options New passes to
	// grpc.NewServer, so they override the defaults above (message sizes,
	// keep-alive enforcement).
	ServerOptions []grpc.ServerOption
}

// Server is a gRPC server with the toolwire interceptor chain, health and
// reflection. Create one with [New].
type Server struct {
	grpc            *grpc.Server
	health          *health.Server
	inFlight        *prometheus.GaugeVec
	logger          *slog.Logger
	shutdownTimeout time.Duration
	// gauges caches inFlight's series by full method.
	gauges sync.Map
	calls  callLogger
	inprocState
}

// New builds a Server. It never fails. Register services on [Server.GRPC]
// before calling [Server.Serve].
func New(opts *Options) *Server {
	if opts == nil {
		opts = &Options{}
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.Default()
	}
	reg := opts.Registerer
	if reg == nil {
		reg = prometheus.DefaultRegisterer
	}
	timeout := opts.ShutdownTimeout
	if timeout <= 0 {
		timeout = DefaultShutdownTimeout
	}
	if opts.Credentials != nil {
		o := *opts
		if o.CredentialOptions == nil {
			o.CredentialOptions = &CredentialOptions{RequiredScopes: ToolScopes}
		}
		o.UnaryInterceptors = append([]grpc.UnaryServerInterceptor{CredentialUnaryInterceptor(o.Credentials, o.CredentialOptions)}, o.UnaryInterceptors...)
		o.StreamInterceptors = append([]grpc.StreamServerInterceptor{CredentialStreamInterceptor(o.Credentials, o.CredentialOptions)}, o.StreamInterceptors...)
		opts = &o
	}
	s := &Server{
		health:          health.NewServer(),
		inFlight:        registerInFlight(reg, logger),
		logger:          logger,
		shutdownTimeout: timeout,
	}
	maxMsg := opts.MaxMessageBytes
	if maxMsg <= 0 {
		maxMsg = DefaultMaxMessageBytes
	}
	unary, stream := s.chain(opts)
	s.unary = chainUnary(unary)
	grpcOpts := []grpc.ServerOption{
		grpc.ChainUnaryInterceptor(unary...),
		grpc.ChainStreamInterceptor(stream...),
		grpc.MaxRecvMsgSize(maxMsg),
		grpc.MaxSendMsgSize(maxMsg),
		// Clients may keep idle connections alive (the edge does), but not
		// ping more often than MinTime.
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{
			MinTime:             DefaultKeepaliveMinTime,
			PermitWithoutStream: true,
		}),
		grpc.KeepaliveParams(keepalive.ServerParameters{
			Time:    DefaultKeepaliveTime,
			Timeout: DefaultKeepaliveTimeout,
		}),
	}
	if opts.StreamWorkers > 0 {
		grpcOpts = append(grpcOpts, grpc.NumStreamWorkers(uint32(opts.StreamWorkers)))
	}
	s.grpc = grpc.NewServer(append(grpcOpts, opts.ServerOptions...)...)
	healthpb.RegisterHealthServer(s.grpc, s.health)
	reflection.Register(s.grpc)
	return s
}

// GRPC returns the underlying server, for Register*Server calls.
func (s *Server) GRPC() *grpc.Server { return s.grpc }

// Serve accepts connections on lis until ctx is done or serving fails. It
// first marks every registered service, and the whole server (""), SERVING
// in the health service.
//
// When ctx is done, Serve marks everything NOT_SERVING, stops gracefully,
// waiting at most [Options.ShutdownTimeout] for running calls before
// cancelling them and closing the connections, and returns nil. If serving fails first, Serve stops the
// server and returns the error. Serve closes lis, and may be called once.
func (s *Server) Serve(ctx context.Context, lis net.Listener) error {
	for name := range s.grpc.GetServiceInfo() {
		s.health.SetServingStatus(name, healthpb.HealthCheckResponse_SERVING)
	}
	s.health.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)

	served := make(chan error, 1)
	go func() { served <- s.grpc.Serve(lis) }()

	select {
	case err := <-served:
		s.health.Shutdown()
		s.grpc.Stop()
		if err == nil || errors.Is(err, grpc.ErrServerStopped) {
			return nil
		}
		return err
	case <-ctx.Done():
	}

	s.health.Shutdown()
	stopped := make(chan struct{})
	go func() {
		s.grpc.GracefulStop()
		close(stopped)
	}()
	timer := time.NewTimer(s.shutdownTimeout)
	defer timer.Stop()
	select {
	case <-stopped:
	case <-timer.C:
		// Stop cancels the calls' contexts and closes the connections. It
		// does not wait for the handlers, and neither does Serve: one that
		// ignores its context keeps running, and so does the GracefulStop
		// goroutine, which waits for it.
		s.logger.WarnContext(ctx, "graceful stop timed out; cancelling running calls",
			slog.Duration("timeout", s.shutdownTimeout))
		s.grpc.Stop()
	}
	if err := <-served; err != nil && !errors.Is(err, grpc.ErrServerStopped) {
		return err
	}
	return nil
}
