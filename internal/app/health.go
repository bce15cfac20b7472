package app

import (
	"context"
	"fmt"
	"time"

	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// Health asks the gRPC backend at addr whether service ("" for the whole
// server) is SERVING, through the standard grpc.health.v1 service. It is the
// healthcheck of docker-compose.yml's backends. It dials as serve does,
// with cfg's backend TLS settings (--backend-ca, --backend-cert, ...).
func Health(ctx context.Context, cfg Config, addr, service string) error {
	creds, err := cfg.backendCredentials()
	if err != nil {
		return err
	}
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(creds))
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: service})
	if err != nil {
		return fmt.Errorf("health of %s: %w", addr, err)
	}
	if s := resp.GetStatus(); s != healthpb.HealthCheckResponse_SERVING {
		return fmt.Errorf("health of %s: %s", addr, s)
	}
	return nil
}
