package tlsfiles

import (
	"context"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	"github.com/toolwire/toolwire/internal/tlsfiles/tlsfilestest"
)

// TestGRPC: the gRPC credentials make mutual TLS between a client and a
// server, and a new connection picks up a rotated server certificate.
func TestGRPC(t *testing.T) {
	serverCA, clientCA := tlsfilestest.NewCA(t, "server-ca"), tlsfilestest.NewCA(t, "client-ca")
	srv := newFixture(t, serverCA.Issue(t, "backend-1"), clientCA)
	s := grpc.NewServer(grpc.Creds(srv.files.ServerCredentials()))
	healthpb.RegisterHealthServer(s, health.NewServer())
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.Serve(lis) }()
	t.Cleanup(s.Stop)

	dir := t.TempDir()
	cert, key, ca := filepath.Join(dir, "c.crt"), filepath.Join(dir, "c.key"), filepath.Join(dir, "ca.crt")
	clientCA.Issue(t, "edge").Write(t, cert, key)
	serverCA.WriteCA(t, ca)
	cli, err := Load(Options{CertFile: cert, KeyFile: key, CAFile: ca, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}

	// check makes a new connection with creds, calls Check and returns
	// the server certificate's name and the call's status.
	check := func(t *testing.T, creds credentials.TransportCredentials) (string, *status.Status) {
		t.Helper()
		conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(creds))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		var p peer.Peer
		_, err = healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{}, grpc.Peer(&p))
		if info, ok := p.AuthInfo.(credentials.TLSInfo); ok && len(info.State.PeerCertificates) > 0 {
			return info.State.PeerCertificates[0].Subject.CommonName, status.Convert(err)
		}
		return "", status.Convert(err)
	}

	if name, st := check(t, cli.ClientCredentials("")); st.Code() != codes.OK || name != "backend-1" {
		t.Fatalf("mutual TLS: %v from %q, want OK from backend-1", st, name)
	}
	if _, st := check(t, insecure.NewCredentials()); st.Code() != codes.Unavailable {
		t.Errorf("plaintext client: %v, want Unavailable", st)
	}
	if _, st := check(t, cli.ClientCredentials("backend.test")); st.Code() != codes.Unavailable ||
		!strings.Contains(st.Message(), "x509: certificate is valid for localhost, not backend.test") {
		t.Errorf("wrong server name: %v, want Unavailable, certificate not valid for backend.test", st)
	}

	serverCA.Issue(t, "backend-2").Write(t, srv.cert, srv.key)
	srv.advance(DefaultInterval)
	if name, st := check(t, cli.ClientCredentials("")); st.Code() != codes.OK || name != "backend-2" {
		t.Errorf("after rotation: %v from %q, want OK from backend-2", st, name)
	}
}
