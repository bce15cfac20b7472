package server

import (
	"context"
	"net"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/test/bufconn"
)

// ServeInMemory serves s as [Server.Serve] does, on an in-memory listener,
// until ctx is done. It returns a client connection to it, and a channel that
// receives Serve's result. The caller closes the connection.
//
// It is the same gRPC path as a remote backend's (HTTP/2 framing, the
// interceptor chain, deadlines, cancellation) without a port: the demo runs
// its backends this way, and tests use it through package servertest.
func (s *Server) ServeInMemory(ctx context.Context, opts ...grpc.DialOption) (*grpc.ClientConn, <-chan error, error) {
	lis := bufconn.Listen(1 << 20)
	conn, err := grpc.NewClient("passthrough:///inmemory", append([]grpc.DialOption{
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
	}, opts...)...)
	if err != nil {
		_ = lis.Close()
		return nil, nil, err
	}
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, lis) }()
	return conn, served, nil
}
