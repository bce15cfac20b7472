package server_test

import (
	"context"
	"log"
	"net"
	"os/signal"
	"syscall"

	"github.com/toolwire/toolwire/server"
	"github.com/toolwire/toolwire/services/echo"
)

// A backend registers its services and serves until it is told to stop.
func ExampleServer_Serve() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	s := server.New(nil) // slog.Default(), prometheus.DefaultRegisterer
	echo.Register(s.GRPC())

	lis, err := net.Listen("tcp", "127.0.0.1:7071")
	if err != nil {
		log.Fatal(err)
	}
	// Serve returns nil once ctx is done and running calls have finished
	// or been cancelled.
	if err := s.Serve(ctx, lis); err != nil {
		log.Fatal(err)
	}
}
