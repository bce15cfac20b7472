// Package server is what every toolwire backend uses to serve its gRPC
// services: one [grpc.Server] with the standard interceptor chain, gRPC health
// and reflection, and a graceful stop bound to a context.
//
// The chain, for unary and streaming calls alike, runs in this order:
//
//  1. recovery: a panic becomes codes.Internal with a fixed message; the
//     panic value and stack go to the log, never to the client;
//  2. logging: one slog line per finished call, the line go-grpc-middleware's
//     logging interceptor writes, built only when the logger takes its level;
//  3. the interceptors of [Options.UnaryInterceptors] and
//     [Options.StreamInterceptors], if any;
//  4. protovalidate: an invalid request fails with codes.InvalidArgument and
//     the violations as a buf.validate.Violations detail, before the service
//     method runs;
//  5. the in-flight gauge toolwire_server_handlers_in_flight{method}, raised
//     while the handler runs and lowered when it returns.
//
// A backend builds a [Server], registers its services on [Server.GRPC], and
// calls [Server.Serve]:
//
//	s := server.New(nil)
//	echov1.RegisterEchoServiceServer(s.GRPC(), impl)
//	err := s.Serve(ctx, lis) // returns nil once ctx is done and the server stopped
//
// A service registered on the Server itself (it is a grpc.ServiceRegistrar)
// is served the same way, and its unary methods can also be called in
// process, through the same chain, with [Server.Invoker]: benchmarks use it
// to measure the chain and a handler without gRPC's transport.
package server
