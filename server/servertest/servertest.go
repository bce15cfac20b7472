// Package servertest serves a [server.Server] in memory for tests.
package servertest

import (
	"context"
	"testing"
	"time"

	"google.golang.org/grpc"

	"github.com/toolwire/toolwire/server"
)

// Dial serves s in memory until the test ends and returns a connection to
// it. At cleanup it closes the connection, stops s, and fails the test if
// Serve returns an error or does not return within 10 s.
func Dial(t testing.TB, s *server.Server, opts ...grpc.DialOption) *grpc.ClientConn {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	conn, served, err := s.ServeInMemory(ctx, opts...)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = conn.Close()
		cancel()
		select {
		case err := <-served:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("Serve did not return within 10s of its context ending")
		}
	})
	return conn
}
