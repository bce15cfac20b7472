package server

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"buf.build/go/protovalidate"
	"github.com/google/go-cmp/cmp"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/logging"
	protovalidatemw "github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/protovalidate"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/recovery"
	"github.com/prometheus/client_golang/prometheus"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/testing/protocmp"

	echov1 "github.com/toolwire/toolwire/gen/go/examples/echo/v1"
)

// record is one captured log call.
type record struct {
	Level slog.Level
	Msg   string
	Attrs [][2]string // key, value, in order
}

type captureHandler struct {
	mu      sync.Mutex
	min     slog.Level
	records []record
}

func (h *captureHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.min }
func (h *captureHandler) WithAttrs([]slog.Attr) slog.Handler           { return h }
func (h *captureHandler) WithGroup(string) slog.Handler                { return h }
func (h *captureHandler) Handle(_ context.Context, r slog.Record) error {
	rec := record{Level: r.Level, Msg: r.Message}
	r.Attrs(func(a slog.Attr) bool {
		rec.Attrs = append(rec.Attrs, [2]string{a.Key, a.Value.String()})
		return true
	})
	h.mu.Lock()
	h.records = append(h.records, rec)
	h.mu.Unlock()
	return nil
}

// referenceCallFields is the fields function the backends used with
// go-grpc-middleware's logging interceptor.
func referenceCallFields(ctx context.Context) logging.Fields {
	md, ok := metadata.FromIncomingContext(ctx)
	if !ok {
		return nil
	}
	var f logging.Fields
	if v := md.Get("x-request-id"); len(v) == 1 {
		f = append(f, "request_id", v[0])
	}
	if v := md.Get("traceparent"); len(v) == 1 && len(v[0]) == 55 && v[0][2] == '-' && v[0][35] == '-' {
		f = append(f, "trace_id", v[0][3:35])
	}
	return f
}

// referenceInterceptors are go-grpc-middleware's logging interceptors, set
// up as the backends had them.
func referenceInterceptors(l *slog.Logger) (grpc.UnaryServerInterceptor, grpc.StreamServerInterceptor) {
	logger := logging.LoggerFunc(func(ctx context.Context, lvl logging.Level, msg string, fields ...any) {
		l.Log(ctx, slog.Level(lvl), msg, fields...)
	})
	opts := []logging.Option{
		logging.WithLogOnEvents(logging.FinishCall),
		logging.WithLevels(codeToLevel),
		logging.WithFieldsFromContext(referenceCallFields),
	}
	return logging.UnaryServerInterceptor(logger, opts...), logging.StreamServerInterceptor(logger, opts...)
}

type fakeStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s fakeStream) Context() context.Context { return s.ctx }

// referenceUnary is the unary chain backends had: go-grpc-middleware's
// recovery, logging and protovalidate interceptors, then the in-flight
// gauge, with user interceptors after logging.
func referenceUnary(s *Server, l *slog.Logger, user ...grpc.UnaryServerInterceptor) grpc.UnaryServerInterceptor {
	logUnary, _ := referenceInterceptors(l)
	chain := []grpc.UnaryServerInterceptor{
		recovery.UnaryServerInterceptor(recovery.WithRecoveryHandlerContext(s.recovered)),
		logUnary,
	}
	chain = append(chain, user...)
	chain = append(chain, protovalidatemw.UnaryServerInterceptor(protovalidate.GlobalValidator), s.unaryInFlight)
	return chainUnary(chain)
}

// outcome is what a chain returned and logged for one call.
type outcome struct {
	Resp    any
	Status  *spb.Status
	Records []record
}

// normalize blanks the values that depend on the clock or the stack.
func normalize(rs []record) []record {
	for i := range rs {
		for j, a := range rs[i].Attrs {
			switch a[0] {
			case "grpc.start_time", "grpc.time_ms", "stack":
				rs[i].Attrs[j][1] = "*"
			}
		}
	}
	return rs
}

// TestUnaryChainMatchesMiddleware checks that the server's own unary chain
// answers and logs as the go-grpc-middleware chain did: the result, the
// status with its details, and every log line with its level, message and
// fields in order. It covers handler errors, panics, invalid requests,
// metadata, peers and deadlines, at several log levels, with and without
// user interceptors.
func TestUnaryChainMatchesMiddleware(t *testing.T) {
	deadline := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	full := metadata.Pairs("x-request-id", "req-42", "traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
	ctxs := map[string]func() (context.Context, context.CancelFunc){
		"bare": func() (context.Context, context.CancelFunc) { return context.WithCancel(context.Background()) },
		"metadata, peer, deadline": func() (context.Context, context.CancelFunc) {
			ctx := metadata.NewIncomingContext(context.Background(), full)
			ctx = peer.NewContext(ctx, &peer.Peer{Addr: &net.TCPAddr{IP: net.IPv4(10, 0, 0, 7), Port: 5123}})
			return context.WithDeadline(ctx, deadline)
		},
		"bad traceparent, two ids": func() (context.Context, context.CancelFunc) {
			md := metadata.Pairs("x-request-id", "a", "x-request-id", "b", "traceparent", "nope")
			return context.WithCancel(metadata.NewIncomingContext(context.Background(), md))
		},
	}
	type handlerCase struct {
		req     any
		handler grpc.UnaryHandler
	}
	valid := &echov1.EchoRequest{Text: "x"}
	returning := func(resp any, err error) handlerCase {
		return handlerCase{valid, func(context.Context, any) (any, error) { return resp, err }}
	}
	handlers := map[string]handlerCase{
		"ok":        returning(&echov1.EchoResponse{Text: "x"}, nil),
		"not found": returning(nil, status.Error(codes.NotFound, "no such thing")),
		"internal":  returning(nil, status.Error(codes.Internal, "boom")),
		"plain":     returning(nil, errors.New("plain error")),
		"canceled":  returning(nil, status.Error(codes.Canceled, "gone")),
		"eof":       returning(nil, io.EOF),
		"panic":     {valid, func(context.Context, any) (any, error) { panic("boom: secret") }},
		"invalid":   {&echov1.EchoRequest{Text: strings.Repeat("x", 65537)}, func(context.Context, any) (any, error) { panic("ran") }},
		"not proto": {"not a message", func(context.Context, any) (any, error) { panic("ran") }},
	}
	user := func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		return h(ctx, req)
	}
	info := &grpc.UnaryServerInfo{FullMethod: "/examples.echo.v1.EchoService/Echo"}
	for _, min := range []slog.Level{slog.LevelDebug, slog.LevelInfo, slog.LevelError} {
		for _, withUser := range []bool{false, true} {
			for cname, mk := range ctxs {
				for hname, hc := range handlers {
					run := func(build func(*Server, *slog.Logger) grpc.UnaryServerInterceptor) outcome {
						h := &captureHandler{min: min}
						l := slog.New(h)
						opts := &Options{Registerer: prometheus.NewRegistry(), Logger: l}
						if withUser {
							opts.UnaryInterceptors = []grpc.UnaryServerInterceptor{user}
						}
						s := New(opts)
						ctx, cancel := mk()
						defer cancel()
						resp, err := build(s, l)(ctx, hc.req, info, hc.handler)
						if g := s.InFlight(info.FullMethod); g != 0 {
							t.Errorf("in-flight gauge after the call = %v", g)
						}
						return outcome{resp, status.Convert(err).Proto(), normalize(h.records)}
					}
					want := run(func(s *Server, l *slog.Logger) grpc.UnaryServerInterceptor {
						if withUser {
							return referenceUnary(s, l, user)
						}
						return referenceUnary(s, l)
					})
					got := run(func(s *Server, _ *slog.Logger) grpc.UnaryServerInterceptor { return s.unary })
					if diff := cmp.Diff(want, got, protocmp.Transform()); diff != "" {
						t.Errorf("min %v, user interceptor %v, %s, %s (-middleware +server):\n%s", min, withUser, cname, hname, diff)
					}
					if min == slog.LevelDebug && len(want.Records) == 0 {
						t.Fatalf("%s, %s: the middleware logged nothing at debug level", cname, hname)
					}
				}
			}
		}
	}
}

// TestStreamLoggerMatchesMiddleware checks the call logger of streams
// against go-grpc-middleware's logging interceptor.
func TestStreamLoggerMatchesMiddleware(t *testing.T) {
	ctx := metadata.NewIncomingContext(context.Background(), metadata.Pairs("x-request-id", "req-42"))
	ctx = peer.NewContext(ctx, &peer.Peer{Addr: &net.TCPAddr{IP: net.IPv4(10, 0, 0, 7), Port: 5123}})
	info := &grpc.StreamServerInfo{FullMethod: "/examples.echo.v1.EchoService/Stream", IsServerStream: true}
	for _, callErr := range []error{nil, io.EOF, status.Error(codes.Unavailable, "x"), errors.New("plain")} {
		for _, min := range []slog.Level{slog.LevelDebug, slog.LevelWarn} {
			want, got := &captureHandler{min: min}, &captureHandler{min: min}
			_, rs := referenceInterceptors(slog.New(want))
			h := func(any, grpc.ServerStream) error { return callErr }
			_ = rs(nil, fakeStream{ctx: ctx}, info, h)
			_ = callLogger{slog.New(got)}.stream(nil, fakeStream{ctx: ctx}, info, h)
			if diff := cmp.Diff(normalize(want.records), normalize(got.records)); diff != "" {
				t.Errorf("%v at %v (-middleware +callLogger):\n%s", callErr, min, diff)
			}
		}
	}
}

// TestUnaryChainNoAllocs checks that a successful call whose line is
// dropped allocates nothing in the chain.
func TestUnaryChainNoAllocs(t *testing.T) {
	s := New(&Options{Registerer: prometheus.NewRegistry(), Logger: slog.New(&captureHandler{min: slog.LevelInfo})})
	ctx := metadata.NewIncomingContext(context.Background(), metadata.Pairs("x-request-id", "r"))
	info := &grpc.UnaryServerInfo{FullMethod: "/examples.echo.v1.EchoService/Echo"}
	req := &echov1.EchoRequest{Text: "x"}
	h := func(context.Context, any) (any, error) { return nil, nil }
	_, _ = s.unary(ctx, req, info, h)
	if n := testing.AllocsPerRun(100, func() { _, _ = s.unary(ctx, req, info, h) }); n != 0 {
		t.Errorf("the chain allocates %v times per call, want 0", n)
	}
}
