package server

import (
	"context"
	"errors"
	"log/slog"
	"runtime/debug"
	"time"

	"buf.build/go/protovalidate"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/logging"
	protovalidatemw "github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/protovalidate"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/recovery"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// internalMessage is the only text a client sees for a recovered panic.
const internalMessage = "internal error"

// chain returns the unary and stream interceptors, outermost first. See the
// package documentation for the order and why.
//
// The unary chain is toolwire's own code, in two interceptors: unaryOuter
// (recovery, then logging) and unaryInner (validation, then the in-flight
// gauge), with the options' interceptors between them; without any, one
// interceptor does all four, so that gRPC builds no chain of closures per
// call. It behaves as the go-grpc-middleware recovery, logging and
// protovalidate interceptors did. The stream chain uses those middlewares.
func (s *Server) chain(opts *Options) ([]grpc.UnaryServerInterceptor, []grpc.StreamServerInterceptor) {
	rec := recovery.WithRecoveryHandlerContext(s.recovered)
	s.calls = callLogger{s.logger}
	validator := protovalidate.GlobalValidator

	var unary []grpc.UnaryServerInterceptor
	if len(opts.UnaryInterceptors) == 0 {
		unary = []grpc.UnaryServerInterceptor{s.unaryAll}
	} else {
		unary = append(unary, s.unaryOuter)
		unary = append(unary, opts.UnaryInterceptors...)
		unary = append(unary, s.unaryInner)
	}

	stream := []grpc.StreamServerInterceptor{
		recovery.StreamServerInterceptor(rec),
		s.calls.stream,
	}
	stream = append(stream, opts.StreamInterceptors...)
	stream = append(stream,
		protovalidatemw.StreamServerInterceptor(validator),
		s.streamInFlight,
	)
	return unary, stream
}

// unaryAll is unaryOuter around unaryInner, in one interceptor.
func (s *Server) unaryAll(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
	defer func() {
		if p := recover(); p != nil {
			resp, err = nil, s.recovered(ctx, p)
		}
	}()
	start := time.Now()
	resp, err = s.unaryInner(ctx, req, info, handler)
	s.calls.finished(ctx, info.FullMethod, "unary", start, err)
	return resp, err
}

// unaryOuter recovers a panic (which then is not logged as a finished call,
// as with the go-grpc-middleware interceptors) and logs the finished call.
func (s *Server) unaryOuter(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
	defer func() {
		if p := recover(); p != nil {
			resp, err = nil, s.recovered(ctx, p)
		}
	}()
	start := time.Now()
	resp, err = handler(ctx, req)
	s.calls.finished(ctx, info.FullMethod, "unary", start, err)
	return resp, err
}

// unaryInner validates the request, then counts the handler in flight.
func (s *Server) unaryInner(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	if err := validateMsg(req); err != nil {
		return nil, err
	}
	return s.unaryInFlight(ctx, req, info, handler)
}

// validateMsg checks a request with protovalidate as go-grpc-middleware's
// protovalidate interceptor does: a violation is codes.InvalidArgument with
// the violations as a buf.validate.Violations detail; a rule that cannot
// run is codes.Internal.
func validateMsg(m any) error {
	msg, ok := m.(proto.Message)
	if !ok {
		return status.Errorf(codes.Internal, "unsupported message type: %T", m)
	}
	err := protovalidate.GlobalValidator.Validate(msg)
	if err == nil {
		return nil
	}
	var valErr *protovalidate.ValidationError
	if errors.As(err, &valErr) {
		st := status.New(codes.InvalidArgument, err.Error())
		ds, detErr := st.WithDetails(valErr.ToProto())
		if detErr != nil {
			return st.Err()
		}
		return ds.Err()
	}
	return status.Error(codes.Internal, err.Error())
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
