package server

import (
	"context"
	"fmt"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// RegisterService registers a service implementation on [Server.GRPC], so
// that *Server is a [grpc.ServiceRegistrar], and also makes its unary methods
// callable in process through [Server.Invoker]. Services registered on
// [Server.GRPC] directly are served over the network only.
func (s *Server) RegisterService(desc *grpc.ServiceDesc, impl any) {
	s.grpc.RegisterService(desc, impl)
	s.inprocMu.Lock()
	defer s.inprocMu.Unlock()
	if s.inproc == nil {
		s.inproc = map[string]*inprocMethod{}
	}
	for i := range desc.Methods {
		m := &desc.Methods[i]
		full := "/" + desc.ServiceName + "/" + m.MethodName
		s.inproc[full] = &inprocMethod{impl: impl, handler: m.Handler, stream: inprocStream{method: full}}
	}
}

// Invoker returns a connection that calls the unary methods of the services
// registered with [Server.RegisterService] in process: through the same
// interceptor chain as a network call (recovery, logging, validation, the
// in-flight gauge), without serialization or a transport. The request is
// copied into the handler's message and the response into the reply, so
// neither side sees the other's messages.
//
// The client's outgoing metadata becomes the handler's incoming metadata, and
// the client's context, with its deadline and cancellation, is the handler's.
// Headers and trailers a handler sets are not delivered, call options are
// ignored, and streaming methods fail with codes.Unimplemented. It exists for
// benchmarks and tests of the code around a call, without gRPC's own cost.
func (s *Server) Invoker() grpc.ClientConnInterface { return invoker{s} }

type inprocMethod struct {
	impl    any
	handler grpc.MethodHandler
	stream  inprocStream
}

type invoker struct{ s *Server }

func (c invoker) lookup(method string) *inprocMethod {
	c.s.inprocMu.RLock()
	defer c.s.inprocMu.RUnlock()
	return c.s.inproc[method]
}

// Invoke runs method in process; see [Server.Invoker].
func (c invoker) Invoke(ctx context.Context, method string, args, reply any, _ ...grpc.CallOption) error {
	m := c.lookup(method)
	if m == nil {
		return status.Errorf(codes.Unimplemented, "unknown method %s for in-process calls", method)
	}
	in, ok := args.(proto.Message)
	if !ok {
		return status.Errorf(codes.Internal, "in-process call: request is %T, not a proto.Message", args)
	}
	out, ok := reply.(proto.Message)
	if !ok {
		return status.Errorf(codes.Internal, "in-process call: reply is %T, not a proto.Message", reply)
	}
	if err := ctx.Err(); err != nil {
		return status.FromContextError(err).Err()
	}
	// The handler's incoming metadata is a copy of the caller's outgoing
	// metadata, keys in lower case; the caller's outgoing metadata is not
	// the handler's.
	md, _ := metadata.FromOutgoingContext(ctx)
	hctx := metadata.NewIncomingContext(metadata.NewOutgoingContext(ctx, nil), md)
	hctx = grpc.NewContextWithServerTransportStream(hctx, &m.stream)
	dec := func(dst any) error {
		d, ok := dst.(proto.Message)
		if !ok {
			return fmt.Errorf("in-process call: handler request is %T, not a proto.Message", dst)
		}
		proto.Merge(d, in)
		return nil
	}
	resp, err := m.handler(m.impl, hctx, dec, c.s.unary)
	if err != nil {
		if st, ok := status.FromError(err); ok {
			return st.Err()
		}
		return status.FromContextError(err).Err()
	}
	r, ok := resp.(proto.Message)
	if !ok {
		return status.Errorf(codes.Internal, "in-process call: handler returned %T, not a proto.Message", resp)
	}
	proto.Reset(out)
	proto.Merge(out, r)
	return nil
}

// NewStream fails: the in-process invoker serves unary methods only.
func (invoker) NewStream(_ context.Context, _ *grpc.StreamDesc, method string, _ ...grpc.CallOption) (grpc.ClientStream, error) {
	return nil, status.Errorf(codes.Unimplemented, "in-process calls are unary only: %s", method)
}

// inprocStream is the grpc.ServerTransportStream of in-process calls: it
// names the method (for grpc.Method) and drops headers and trailers.
type inprocStream struct{ method string }

func (s *inprocStream) Method() string                     { return s.method }
func (*inprocStream) SetHeader(metadata.MD) error          { return nil }
func (*inprocStream) SendHeader(metadata.MD) error         { return nil }
func (*inprocStream) SetTrailer(metadata.MD) error         { return nil }
func (*inprocStream) SetSendCompress(string) error         { return nil }
func (*inprocStream) ClientSupportedCompressors() []string { return nil }

// chainUnary chains interceptors into one, outermost first, with the
// semantics of grpc.ChainUnaryInterceptor.
func chainUnary(interceptors []grpc.UnaryServerInterceptor) grpc.UnaryServerInterceptor {
	switch len(interceptors) {
	case 0:
		return func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
			return h(ctx, req)
		}
	case 1:
		return interceptors[0]
	}
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		return interceptors[0](ctx, req, info, chainedHandler(interceptors, 0, info, h))
	}
}

func chainedHandler(interceptors []grpc.UnaryServerInterceptor, curr int, info *grpc.UnaryServerInfo, final grpc.UnaryHandler) grpc.UnaryHandler {
	if curr == len(interceptors)-1 {
		return final
	}
	return func(ctx context.Context, req any) (any, error) {
		return interceptors[curr+1](ctx, req, info, chainedHandler(interceptors, curr+1, info, final))
	}
}

// inprocState is embedded in Server.
type inprocState struct {
	inprocMu sync.RWMutex
	inproc   map[string]*inprocMethod
	unary    grpc.UnaryServerInterceptor
}
