package app

import (
	"context"

	"google.golang.org/grpc"

	"github.com/toolwire/toolwire/server"
	"github.com/toolwire/toolwire/services/echo"
	"github.com/toolwire/toolwire/services/search"
)

// demoServices are the example backends `toolwire demo` runs.
var demoServices = []demoService{
	{name: "examples.echo.v1.EchoService", register: func(_ context.Context, s *grpc.Server, _ Config) (func(), error) {
		echo.Register(s)
		return nil, nil
	}},
	{name: "examples.search.v1.SearchService", register: func(ctx context.Context, s *grpc.Server, cfg Config) (func(), error) {
		svc, err := search.New(ctx, search.Config{DatabaseURL: cfg.DatabaseURL, ServiceConfig: server.ServiceConfig{Logger: cfg.logger()}})
		if err != nil {
			return nil, err
		}
		svc.Register(s)
		return svc.Close, nil
	}},
}
