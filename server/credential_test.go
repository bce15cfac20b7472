package server_test

import (
	"context"
	"crypto/ed25519"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"

	echov1 "github.com/toolwire/toolwire/gen/go/examples/echo/v1"
	"github.com/toolwire/toolwire/internal/credential"
	"github.com/toolwire/toolwire/server"
	"github.com/toolwire/toolwire/server/servertest"
)

// credEcho is an EchoService that records the claims each call's context
// carries, so that tests see what a handler would.
type credEcho struct {
	echov1.UnimplementedEchoServiceServer
	mu     sync.Mutex
	claims []*credential.Claims
}

func (e *credEcho) record(ctx context.Context) {
	c, _ := credential.FromContext(ctx)
	e.mu.Lock()
	defer e.mu.Unlock()
	e.claims = append(e.claims, c)
}

func (e *credEcho) seen() []*credential.Claims {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]*credential.Claims(nil), e.claims...)
}

func (e *credEcho) Echo(ctx context.Context, req *echov1.EchoRequest) (*echov1.EchoResponse, error) {
	e.record(ctx)
	return &echov1.EchoResponse{Text: req.GetText()}, nil
}

func (e *credEcho) Stream(_ *echov1.StreamRequest, stream grpc.ServerStreamingServer[echov1.StreamResponse]) error {
	e.record(stream.Context())
	return stream.Send(&echov1.StreamResponse{Kind: &echov1.StreamResponse_Result{Result: "done"}})
}

// credFixture is a backend "search" whose server requires credentials, and
// whose Echo method requires the scope "echo:call".
type credFixture struct {
	srv    *server.Server
	impl   *credEcho
	conn   *grpc.ClientConn
	client echov1.EchoServiceClient
	priv   ed25519.PrivateKey
	minter *credential.Minter
}

func startCredential(t *testing.T) *credFixture {
	t.Helper()
	pub, priv, err := credential.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	minter, err := credential.NewMinter(priv, nil)
	if err != nil {
		t.Fatal(err)
	}
	v, err := credential.NewVerifier([]ed25519.PublicKey{pub}, []string{"search"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	opts := &server.CredentialOptions{RequiredScopes: func(method string) []string {
		if method == echov1.EchoService_Echo_FullMethodName {
			return []string{"echo:call"}
		}
		return nil
	}}
	srv := server.New(&server.Options{
		Logger:             slog.New(slog.NewTextHandler(io.Discard, nil)),
		Registerer:         prometheus.NewRegistry(),
		UnaryInterceptors:  []grpc.UnaryServerInterceptor{server.CredentialUnaryInterceptor(v, opts)},
		StreamInterceptors: []grpc.StreamServerInterceptor{server.CredentialStreamInterceptor(v, opts)},
	})
	impl := &credEcho{}
	echov1.RegisterEchoServiceServer(srv, impl)
	conn := servertest.Dial(t, srv)
	return &credFixture{srv: srv, impl: impl, conn: conn, client: echov1.NewEchoServiceClient(conn), priv: priv, minter: minter}
}

// mint returns a valid credential for subject "alice" with scopes.
func (f *credFixture) mint(t *testing.T, audience string, scopes ...string) string {
	t.Helper()
	tok, err := f.minter.Mint(audience, credential.Principal{Subject: "alice", Scopes: scopes})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// expired returns a credential signed with the edge's key that expired a
// minute ago, well past the verifier's clock skew.
func (f *credFixture) expired(t *testing.T) string {
	t.Helper()
	now := time.Now()
	tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, jwt.MapClaims{
		"iss": credential.Issuer, "sub": "alice", "aud": []string{"search"}, "scope": "echo:call",
		"iat": now.Add(-2 * time.Minute).Unix(), "exp": now.Add(-time.Minute).Unix(), "jti": "old",
	})
	tok.Header["kid"] = credential.KeyID(f.priv.Public().(ed25519.PublicKey))
	s, err := tok.SignedString(f.priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func withCredential(tok string) context.Context {
	if tok == "" {
		return context.Background()
	}
	return metadata.AppendToOutgoingContext(context.Background(), credential.MetadataKey, tok)
}

func checkStatus(t *testing.T, err error, code codes.Code, msg string) {
	t.Helper()
	st := status.Convert(err)
	if st.Code() != code || st.Message() != msg {
		t.Errorf("status = %v %q, want %v %q", st.Code(), st.Message(), code, msg)
	}
}

func TestCredentialUnary(t *testing.T) {
	f := startCredential(t)
	tests := []struct {
		name     string
		token    string
		code     codes.Code
		msg      string
		nHandled int // handler calls so far, after this case
	}{
		{"no credential", "", codes.Unauthenticated, "credential missing", 0},
		{"garbage", "not-a-token", codes.Unauthenticated, "credential invalid: malformed", 0},
		{"expired", f.expired(t), codes.Unauthenticated, "credential invalid: expired", 0},
		{"other backend's credential", f.mint(t, "notify", "echo:call"), codes.Unauthenticated, "credential invalid: wrong audience", 0},
		{"missing scope", f.mint(t, "search", "other"), codes.PermissionDenied, "missing scope: echo:call", 0},
		{"valid", f.mint(t, "search", "echo:call"), codes.OK, "", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := f.client.Echo(withCredential(tt.token), &echov1.EchoRequest{Text: "hi"})
			if tt.code == codes.OK {
				if err != nil || resp.GetText() != "hi" {
					t.Fatalf("Echo = %v, %v; want hi", resp, err)
				}
			} else {
				checkStatus(t, err, tt.code, tt.msg)
			}
			if got := len(f.impl.seen()); got != tt.nHandled {
				t.Errorf("handler ran %d times, want %d: a refused call must not reach it", got, tt.nHandled)
			}
		})
	}
	// The handler saw the verified principal.
	seen := f.impl.seen()
	if len(seen) != 1 || seen[0] == nil || seen[0].Subject != "alice" || seen[0].Audience != "search" || !seen[0].HasScopes("echo:call") {
		t.Errorf("handler's claims = %+v, want alice's for search with echo:call", seen)
	}
}

func TestCredentialStream(t *testing.T) {
	f := startCredential(t)
	recv := func(tok string) error {
		stream, err := f.client.Stream(withCredential(tok), &echov1.StreamRequest{N: 1})
		if err != nil {
			return err
		}
		for {
			if _, err := stream.Recv(); err != nil {
				if err == io.EOF {
					return nil
				}
				return err
			}
		}
	}
	checkStatus(t, recv(""), codes.Unauthenticated, "credential missing")
	checkStatus(t, recv(f.expired(t)), codes.Unauthenticated, "credential invalid: expired")
	if n := len(f.impl.seen()); n != 0 {
		t.Fatalf("handler ran %d times for refused streams", n)
	}
	// Stream needs no scope; any valid credential for this backend will do.
	if err := recv(f.mint(t, "search")); err != nil {
		t.Fatalf("stream with a valid credential: %v", err)
	}
	if seen := f.impl.seen(); len(seen) != 1 || seen[0] == nil || seen[0].Subject != "alice" {
		t.Errorf("stream handler's claims = %+v", seen)
	}
}

// TestCredentialExempt calls health and reflection without a credential.
func TestCredentialExempt(t *testing.T) {
	f := startCredential(t)
	ctx := context.Background()
	resp, err := healthpb.NewHealthClient(f.conn).Check(ctx, &healthpb.HealthCheckRequest{})
	if err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Errorf("health Check without credential = %v, %v; want SERVING", resp, err)
	}
	rs, err := reflectionpb.NewServerReflectionClient(f.conn).ServerReflectionInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := rs.Send(&reflectionpb.ServerReflectionRequest{
		MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{},
	}); err != nil {
		t.Fatal(err)
	}
	r, err := rs.Recv()
	if err != nil || len(r.GetListServicesResponse().GetService()) == 0 {
		t.Errorf("reflection without credential = %v, %v; want the service list", r, err)
	}
	_ = rs.CloseSend()
}

// TestCredentialInProcess checks the same rules on Server.Invoker's path,
// which the demo's in-process calls take.
func TestCredentialInProcess(t *testing.T) {
	f := startCredential(t)
	c := echov1.NewEchoServiceClient(f.srv.Invoker())
	_, err := c.Echo(context.Background(), &echov1.EchoRequest{Text: "hi"})
	checkStatus(t, err, codes.Unauthenticated, "credential missing")
	_, err = c.Echo(withCredential(f.mint(t, "search")), &echov1.EchoRequest{Text: "hi"})
	checkStatus(t, err, codes.PermissionDenied, "missing scope: echo:call")
	if resp, err := c.Echo(withCredential(f.mint(t, "search", "echo:call")), &echov1.EchoRequest{Text: "hi"}); err != nil || resp.GetText() != "hi" {
		t.Errorf("in-process Echo with a valid credential = %v, %v", resp, err)
	}
}
