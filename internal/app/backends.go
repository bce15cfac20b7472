package app

import (
	"context"
	"errors"
	"fmt"

	"log/slog"
	"maps"
	"sort"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/toolwire/toolwire/edge/bridge"
	"github.com/toolwire/toolwire/edge/catalog"
)

// backends maps each service the edge fronts to the connection serving it.
type backends struct {
	conns map[string]*grpc.ClientConn // by service full name
	all   []*grpc.ClientConn
	// reflected holds the services whose contracts were read from their
	// backend through gRPC reflection (reflect.go), by full name; the
	// others are compiled in.
	reflected map[string]protoreflect.ServiceDescriptor
	// dialed are the backends dialBackends connected to, whose services
	// the refresher (refresh.go) reads again.
	dialed []dialed
}

// dialed is one backend dialBackends connected to.
type dialed struct {
	addr string
	conn *grpc.ClientConn
}

func newBackends() *backends {
	return &backends{conns: map[string]*grpc.ClientConn{}, reflected: map[string]protoreflect.ServiceDescriptor{}}
}

func (b *backends) add(conn *grpc.ClientConn, services ...string) error {
	b.all = append(b.all, conn)
	for _, s := range services {
		if _, dup := b.conns[s]; dup {
			return fmt.Errorf("service %s is served by two backends", s)
		}
		b.conns[s] = conn
	}
	return nil
}

func (b *backends) resolver() bridge.Resolver {
	return func(svc protoreflect.FullName) (grpc.ClientConnInterface, bool) {
		c, ok := b.conns[string(svc)]
		return c, ok
	}
}

// catalog builds the tool catalog of every fronted service, from its
// compiled-in descriptor or the one read through gRPC reflection.
func (b *backends) catalog() (*catalog.Catalog, error) {
	names := make([]string, 0, len(b.conns))
	for n := range b.conns {
		names = append(names, n)
	}
	sort.Strings(names)
	var svcs []protoreflect.ServiceDescriptor
	for _, n := range names {
		if sd, ok := b.reflected[n]; ok {
			svcs = append(svcs, sd)
			continue
		}
		d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(n))
		if err != nil {
			return nil, fmt.Errorf("service %s: no compiled-in descriptor", n)
		}
		svcs = append(svcs, d.(protoreflect.ServiceDescriptor))
	}
	return catalog.New(svcs, nil)
}

func (b *backends) close() {
	for _, c := range b.all {
		_ = c.Close()
	}
}

// dialBackends connects to each address and asks it, through gRPC
// reflection, which services it serves. The contracts of services not
// compiled into this binary are read through reflection too (reflect.go),
// and their calls use dynamic messages; a service whose contract cannot be
// read is skipped with a warning. A backend that does not answer is retried
// with backoff until wait runs out. creds secure the connections
// (Config.backendCredentials: TLS, mutual TLS or plaintext). opts go after
// the transport credentials (limits.go's message sizes and keep-alives).
func dialBackends(ctx context.Context, addrs []string, creds credentials.TransportCredentials, wait time.Duration, log *slog.Logger, opts ...grpc.DialOption) (*backends, error) {
	b := newBackends()
	for _, addr := range addrs {
		conn, err := grpc.NewClient(addr, append([]grpc.DialOption{grpc.WithTransportCredentials(creds)}, opts...)...)
		if err != nil {
			b.close()
			return nil, fmt.Errorf("backend %s: %w", addr, err)
		}
		names, err := listServices(ctx, conn, wait)
		if err != nil {
			_ = conn.Close()
			b.close()
			return nil, fmt.Errorf("backend %s: listing its services by gRPC reflection: %w", addr, err)
		}
		known, found := contracts(ctx, conn, names, addr, log, true)
		maps.Copy(b.reflected, found)
		if len(known) == 0 {
			_ = conn.Close()
			b.close()
			return nil, fmt.Errorf("backend %s serves no known tool service (it serves %v)", addr, names)
		}
		if err := b.add(conn, known...); err != nil {
			b.close()
			return nil, err
		}
		b.dialed = append(b.dialed, dialed{addr, conn})
		log.Info("backend connected", "addr", addr, "services", known)
	}
	return b, nil
}

// contracts picks, among the services names a backend at addr serves, those
// whose contracts the edge has: compiled in, or read through gRPC
// reflection (reflected, by name). A service whose contract cannot be read
// is skipped with a warning. announce logs the reflected ones.
func contracts(ctx context.Context, conn grpc.ClientConnInterface, names []string, addr string, log *slog.Logger, announce bool) (known []string, reflected map[string]protoreflect.ServiceDescriptor) {
	var unknown []string
	for _, n := range names {
		if _, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(n)); err != nil {
			unknown = append(unknown, n)
			continue
		}
		known = append(known, n)
	}
	reflected = map[string]protoreflect.ServiceDescriptor{}
	if len(unknown) == 0 {
		return known, reflected
	}
	found, err := reflectServices(ctx, conn, unknown)
	if err != nil {
		log.Warn("skipping services whose contract gRPC reflection could not give", "backend", addr, "error", err)
	}
	var names2 []string
	for _, n := range unknown {
		if sd, ok := found[n]; ok {
			reflected[n] = sd
			known = append(known, n)
			names2 = append(names2, n)
		}
	}
	if len(names2) > 0 && announce {
		log.Info("serving services whose contracts came from gRPC reflection", "backend", addr, "services", names2)
	}
	return known, reflected
}

// listServices returns the services a backend serves, minus gRPC's own.
func listServices(ctx context.Context, conn *grpc.ClientConn, wait time.Duration) ([]string, error) {
	deadline := time.Now().Add(wait)
	delay := 100 * time.Millisecond
	for {
		names, err := listOnce(ctx, conn)
		if err == nil {
			return names, nil
		}
		if time.Now().Add(delay).After(deadline) || ctx.Err() != nil {
			return nil, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(delay):
		}
		delay = min(2*delay, 2*time.Second)
	}
}

func listOnce(ctx context.Context, conn *grpc.ClientConn) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	stream, err := reflectionpb.NewServerReflectionClient(conn).ServerReflectionInfo(ctx, grpc.WaitForReady(true))
	if err != nil {
		return nil, err
	}
	if err := stream.Send(&reflectionpb.ServerReflectionRequest{
		MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{},
	}); err != nil {
		return nil, err
	}
	resp, err := stream.Recv()
	if err != nil {
		return nil, err
	}
	_ = stream.CloseSend()
	if e := resp.GetErrorResponse(); e != nil {
		return nil, errors.New(e.GetErrorMessage())
	}
	var names []string
	for _, s := range resp.GetListServicesResponse().GetService() {
		switch s.GetName() {
		case "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection":
			continue
		}
		names = append(names, s.GetName())
	}
	return names, nil
}
