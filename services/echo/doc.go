// Package echo implements examples.echo.v1.EchoService: trivial tools in the
// shape common MCP benchmarks use (echo, a progress stream, and a
// cancellable sleep).
//
// In a process of its own, [Run] serves it; to serve it beside other
// services, call [Register] on a [server.Server]'s gRPC server:
//
//	s := server.New(nil)
//	echo.Register(s.GRPC())
//	err := s.Serve(ctx, lis)
package echo
