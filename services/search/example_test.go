package search_test

import (
	"context"
	"log"
	"net"
	"os"

	"github.com/toolwire/toolwire/server"
	"github.com/toolwire/toolwire/services/search"
)

// To serve search beside other services in one process, open a Service and
// register it on a shared server.
func ExampleNew() {
	ctx := context.Background()
	svc, err := search.New(ctx, search.Config{DatabaseURL: os.Getenv("DATABASE_URL")})
	if err != nil {
		log.Fatal(err)
	}
	defer svc.Close()

	s := server.New(nil)
	svc.Register(s.GRPC())
	lis, err := net.Listen("tcp", search.DefaultAddr)
	if err != nil {
		log.Fatal(err)
	}
	if err := s.Serve(ctx, lis); err != nil {
		log.Fatal(err)
	}
}
