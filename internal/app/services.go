package app

import (
	"context"

	"google.golang.org/grpc"

	"github.com/toolwire/toolwire/services/echo"
)

// demoServices are the example backends `toolwire demo` runs.
var demoServices = []demoService{
	{name: "examples.echo.v1.EchoService", register: func(_ context.Context, s *grpc.Server, _ Config) (func(), error) {
		echo.Register(s)
		return nil, nil
	}},
}
