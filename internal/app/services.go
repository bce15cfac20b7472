package app

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"google.golang.org/grpc"

	"github.com/toolwire/toolwire/server"
	"github.com/toolwire/toolwire/services/conformance"
	"github.com/toolwire/toolwire/services/echo"
	"github.com/toolwire/toolwire/services/search"
)

// demoServices are the example backends `toolwire demo` can run, in the
// order it runs them; Config.Services picks among them by short name.
var demoServices = []demoService{
	{short: "echo", name: "examples.echo.v1.EchoService", register: func(_ context.Context, s *grpc.Server, _ Config) (func(), error) {
		echo.Register(s)
		return nil, nil
	}},
	{short: "search", name: "examples.search.v1.SearchService", register: func(ctx context.Context, s *grpc.Server, cfg Config) (func(), error) {
		svc, err := search.New(ctx, search.Config{DatabaseURL: cfg.DatabaseURL, ServiceConfig: server.ServiceConfig{Logger: cfg.logger()}})
		if err != nil {
			return nil, err
		}
		svc.Register(s)
		return svc.Close, nil
	}},
	{short: "conformance", name: conformance.ServiceName, register: func(_ context.Context, s *grpc.Server, _ Config) (func(), error) {
		conformance.Register(s)
		return nil, nil
	}},
}

// DefaultDemoServices are the example backends the demo runs when
// Config.Services names none.
var DefaultDemoServices = []string{"echo", "search"}

// demoServiceNames are the short names of every example backend.
func demoServiceNames() []string {
	names := make([]string, len(demoServices))
	for i, svc := range demoServices {
		names[i] = svc.short
	}
	return names
}

// demoServiceByName returns the example backend called short.
func demoServiceByName(short string) (demoService, bool) {
	for _, svc := range demoServices {
		if svc.short == short {
			return svc, true
		}
	}
	return demoService{}, false
}

// unknownService is the error for a service name the demo does not know.
func unknownService(name string) error {
	return fmt.Errorf("unknown service %q; the services are: %s", name, strings.Join(demoServiceNames(), ", "))
}

// selectedServices returns the example backends cfg.Services names (by
// default [DefaultDemoServices]), in demoServices order.
func (c *Config) selectedServices() ([]demoService, error) {
	names := c.Services
	if len(names) == 0 {
		names = DefaultDemoServices
	}
	for _, n := range names {
		if _, ok := demoServiceByName(n); !ok {
			return nil, unknownService(n)
		}
	}
	var out []demoService
	for _, svc := range demoServices {
		if slices.Contains(names, svc.short) {
			out = append(out, svc)
		}
	}
	return out, nil
}

// servedPhrase names the backends for the banner: "the echo and search
// backends", "the conformance backend".
func servedPhrase(svcs []demoService) string {
	names := make([]string, len(svcs))
	for i, svc := range svcs {
		names[i] = svc.short
	}
	switch len(names) {
	case 0:
		return "no backends"
	case 1:
		return "the " + names[0] + " backend"
	default:
		return "the " + strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1] + " backends"
	}
}
