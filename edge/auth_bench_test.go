package edge

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/toolwire/toolwire/edge/catalog"
	"github.com/toolwire/toolwire/edge/observe"
	"github.com/toolwire/toolwire/edge/policy/authn"
	"github.com/toolwire/toolwire/edge/policy/authn/authntest"
	echov1 "github.com/toolwire/toolwire/gen/go/examples/echo/v1"
	"github.com/toolwire/toolwire/internal/credential"
	"github.com/toolwire/toolwire/server"
)

// BenchmarkAuth is BenchmarkFastPath's session call with authentication on,
// to measure what auth adds per call through the edge handler: the
// middleware, the scope check in the bridge, and the credential minted for
// the backend (which the in-process backend verifies).
//
//   - off: no authentication, the baseline;
//   - jwt: an RS256 access token, verified on every call;
//   - jwt-cache: the same, with the per-session cache of verified tokens;
//   - apikey: a service account's API key.
func BenchmarkAuth(b *testing.B) {
	iss := authntest.NewIssuer(b)
	const aud = "https://edge.test/mcp"
	jwtv, err := authn.NewJWTVerifier(context.Background(), authn.JWTConfig{JWKSURL: iss.JWKSURL, Issuer: iss.URL, Audience: aud})
	if err != nil {
		b.Fatal(err)
	}
	key, hash := authn.GenerateAPIKey()
	keys, err := authn.NewAPIKeys([]authn.APIKey{{Hash: hash, Subject: "svc"}})
	if err != nil {
		b.Fatal(err)
	}
	token := iss.Sign(b, authntest.KidRSA, iss.Claims(aud, "search:read"))
	for _, tc := range []struct {
		name   string
		bearer string
		cache  bool
		off    bool
	}{
		{"off", "", false, true},
		{"jwt", token, false, false},
		{"jwt-cache", token, true, false},
		{"apikey", key, false, false},
	} {
		b.Run(tc.name, func(b *testing.B) {
			discard := slog.New(slog.NewTextHandler(io.Discard, nil))
			opts := &Options{Logger: discard, Metrics: observe.NewMetrics(prometheus.NewRegistry())}
			sopts := &server.Options{Registerer: prometheus.NewRegistry(), Logger: discard}
			if !tc.off {
				ao := &authn.Options{Tokens: jwtv, APIKeys: keys}
				if tc.cache {
					ao.Cache = authn.NewSessionCache(nil)
				}
				if opts.Auth, err = authn.New(ao); err != nil {
					b.Fatal(err)
				}
				pub, priv, _ := credential.GenerateKey()
				if opts.Credentials, err = credential.NewMinter(priv, nil); err != nil {
					b.Fatal(err)
				}
				if sopts.Credentials, err = credential.NewVerifier([]ed25519.PublicKey{pub}, []string{"examples.echo.v1.EchoService"}, nil); err != nil {
					b.Fatal(err)
				}
			}
			s := server.New(sopts)
			echov1.RegisterEchoServiceServer(s, benchEcho{})
			conn := s.Invoker()
			svc := echov1.File_examples_echo_v1_echo_proto.Services().Get(0)
			cat, err := catalog.New([]protoreflect.ServiceDescriptor{svc}, nil)
			if err != nil {
				b.Fatal(err)
			}
			e, err := New(cat, func(protoreflect.FullName) (grpc.ClientConnInterface, bool) { return conn, true }, opts)
			if err != nil {
				b.Fatal(err)
			}
			defer e.Close()
			h := e.Handler()
			init := httptest.NewRequest("POST", "http://127.0.0.1/mcp", bytes.NewReader([]byte(
				`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"bench","version":"1"}}}`)))
			init.Header.Set("Content-Type", "application/json")
			init.Header.Set("Accept", "application/json, text/event-stream")
			if tc.bearer != "" {
				init.Header.Set("Authorization", "Bearer "+tc.bearer)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, init)
			sid := rec.Header().Get(headerSessionID)
			if rec.Code != http.StatusOK || sid == "" {
				b.Fatalf("initialize: %d %q", rec.Code, rec.Body)
			}
			body := []byte(`{"jsonrpc":"2.0","id":42,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hello, world"}}}`)
			req := httptest.NewRequest("POST", "http://127.0.0.1/mcp", nil)
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Accept", "application/json, text/event-stream")
			req.Header.Set(headerSessionID, sid)
			req.Header.Set(headerProtocolVersion, "2025-11-25")
			if tc.bearer != "" {
				req.Header.Set("Authorization", "Bearer "+tc.bearer)
			}
			r := bytes.NewReader(body)
			w := &benchWriter{h: http.Header{}}
			want := []byte(`"structuredContent":{"text":"hello, world"}`)
			b.ReportAllocs()
			for b.Loop() {
				r.Reset(body)
				req.Body = io.NopCloser(r)
				w.reset()
				h.ServeHTTP(w, req)
				if w.code != 0 && w.code != http.StatusOK || !bytes.Contains(w.body, want) {
					b.Fatalf("call: %d %s", w.code, w.body)
				}
			}
		})
	}
}
