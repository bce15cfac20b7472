package server

import (
	"context"
	"log/slog"
	"runtime/debug"

	"buf.build/go/protovalidate"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/logging"
	protovalidatemw "github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/protovalidate"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/recovery"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// internalMessage is the only text a client sees for a recovered panic.
const internalMessage = "internal error"

// chain returns the unary and stream interceptors, outermost first. See the
// package documentation for the order and why.
func (s *Server) chain(opts *Options) ([]grpc.UnaryServerInterceptor, []grpc.StreamServerInterceptor) {
	rec := recovery.WithRecoveryHandlerContext(s.recovered)
	logger := slogLogger(s.logger)
	logOpts := []logging.Option{
		logging.WithLogOnEvents(logging.FinishCall),
		logging.WithLevels(codeToLevel),
		logging.WithFieldsFromContext(callFields),
	}
	validator := protovalidate.GlobalValidator

	unary := []grpc.UnaryServerInterceptor{
		recovery.UnaryServerInterceptor(rec),
		logging.UnaryServerInterceptor(logger, logOpts...),
	}
	unary = append(unary, opts.UnaryInterceptors...)
	unary = append(unary,
		protovalidatemw.UnaryServerInterceptor(validator),
		s.unaryInFlight,
	)

	stream := []grpc.StreamServerInterceptor{
		recovery.StreamServerInterceptor(rec),
		logging.StreamServerInterceptor(logger, logOpts...),
	}
	stream = append(stream, opts.StreamInterceptors...)
	stream = append(stream,
		protovalidatemw.StreamServerInterceptor(validator),
		s.streamInFlight,
	)
	return unary, stream
}

// recovered logs a panic with its stack and returns the status the client
// sees, which carries nothing of the panic.
func (s *Server) recovered(ctx context.Context, p any) error {
	method, _ := grpc.Method(ctx)
	s.logger.ErrorContext(ctx, "panic in gRPC handler",
		slog.String("grpc.method", method),
		slog.Any("panic", p),
		slog.String("stack", string(debug.Stack())),
	)
	return status.Error(codes.Internal, internalMessage)
}

// callFields puts the caller's request id and W3C trace id on every call's
// log line, so that a backend's logs can be joined with the edge's. The edge
// sends them as x-request-id and traceparent metadata.
func callFields(ctx context.Context) logging.Fields {
	md, ok := metadata.FromIncomingContext(ctx)
	if !ok {
		return nil
	}
	var f logging.Fields
	if v := md.Get("x-request-id"); len(v) == 1 {
		f = append(f, "request_id", v[0])
	}
	// traceparent: version-traceid-parentid-flags.
	if v := md.Get("traceparent"); len(v) == 1 && len(v[0]) == 55 && v[0][2] == '-' && v[0][35] == '-' {
		f = append(f, "trace_id", v[0][3:35])
	}
	return f
}

// slogLogger adapts l to the go-grpc-middleware logging interface.
func slogLogger(l *slog.Logger) logging.Logger {
	return logging.LoggerFunc(func(ctx context.Context, lvl logging.Level, msg string, fields ...any) {
		l.Log(ctx, slog.Level(lvl), msg, fields...)
	})
}

// codeToLevel logs successful and cancelled calls at debug level, so that a
// busy backend does not log a line per call by default, and everything else
// as go-grpc-middleware does.
func codeToLevel(code codes.Code) logging.Level {
	switch code {
	case codes.OK, codes.Canceled:
		return logging.LevelDebug
	default:
		return logging.DefaultServerCodeToLevel(code)
	}
}
