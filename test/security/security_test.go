package security

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/toolwire/toolwire/edge/policy/authn/authntest"
	echov1 "github.com/toolwire/toolwire/gen/go/examples/echo/v1"
	"github.com/toolwire/toolwire/internal/credential"
	"github.com/toolwire/toolwire/services/echo"
)

// TestHTTPRefusals sends requests the edge must refuse, or serve, at the
// HTTP layer, and checks the exact status, challenge and body.
func TestHTTPRefusals(t *testing.T) {
	s := startStack(t)
	iss := s.iss
	good := s.token(t, "")
	sign := func(edit func(jwt.MapClaims)) string { return iss.Sign(t, authntest.KidRSA, s.claims("", edit)) }

	// An RSA key whose kid is published, but that is not the published key.
	rogue := authntest.NewIssuer(t)
	forged := rogue.Sign(t, authntest.KidRSA, s.claims("", nil))

	// HS256 with the published RSA public key as the HMAC secret.
	pub, err := x509.MarshalPKIXPublicKey(iss.PublicKey(authntest.KidRSA))
	if err != nil {
		t.Fatal(err)
	}
	hs := authntest.Sign(t, jwt.SigningMethodHS256, pub, authntest.KidRSA, s.claims("", nil))
	none := authntest.Sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, authntest.KidRSA, s.claims("", nil))

	// A token signed by a key the JWKS does not publish.
	_, unpublished, _ := ed25519.GenerateKey(nil)
	iss.AddKey(t, "hidden-1", unpublished, jwt.SigningMethodEdDSA, false)
	unknownKid := iss.Sign(t, "hidden-1", s.claims("", nil))

	// A valid token whose payload is swapped for one with more scopes.
	parts := strings.Split(good, ".")
	other := strings.Split(s.token(t, "search:read admin"), ".")
	tampered := parts[0] + "." + other[1] + "." + parts[2]

	// The edge's internal credential, presented to the edge from outside.
	_, edgeKey, _ := ed25519.GenerateKey(nil)
	minter, err := credential.NewMinter(edgeKey, nil)
	if err != nil {
		t.Fatal(err)
	}
	internal, err := minter.Mint("examples.echo.v1.EchoService", credential.Principal{Subject: "alice", Scopes: []string{"search:read"}})
	if err != nil {
		t.Fatal(err)
	}

	noToken := `Bearer resource_metadata="` + metadataURL + `"`
	mcpURL := s.base + "/mcp"
	hdr := func(kv ...string) http.Header {
		h := mcpHeader("", "")
		for i := 0; i < len(kv); i += 2 {
			h.Add(kv[i], kv[i+1])
		}
		return h
	}
	bearer := func(tok string) http.Header { return hdr("Authorization", "Bearer "+tok) }

	tests := []struct {
		name       string
		method     string
		url        string
		header     http.Header
		body       string
		wantStatus int
		wantAuth   string
		wantBody   string // exact, unless wantPrefix
		wantPrefix bool
	}{
		{"no token", "POST", mcpURL, hdr(), initialize, 401, noToken, errBody("unauthorized", "missing bearer token"), false},
		{"basic scheme", "POST", mcpURL, hdr("Authorization", "Basic YTpi"), initialize, 401, noToken, errBody("unauthorized", "authorization scheme must be Bearer"), false},
		{"malformed header", "POST", mcpURL, hdr("Authorization", "Bearer !!!"), initialize, 400,
			`Bearer error="invalid_request", error_description="malformed Authorization header", resource_metadata="` + metadataURL + `"`,
			errBody("invalid_request", "malformed Authorization header"), false},
		{"malformed token", "POST", mcpURL, bearer("not-a-jwt"), initialize, 401, challenge("invalid_token", "malformed token"), errBody("invalid_token", "malformed token"), false},
		{"bad signature, no kid", "POST", mcpURL, bearer("eyJhbGciOiJSUzI1NiJ9.e30.c2ln"), initialize, 401, challenge("invalid_token", "invalid signature"), errBody("invalid_token", "invalid signature"), false},
		{"expired", "POST", mcpURL, bearer(sign(func(c jwt.MapClaims) {
			c["iat"], c["nbf"], c["exp"] = time.Now().Add(-time.Hour).Unix(), time.Now().Add(-time.Hour).Unix(), time.Now().Add(-10*time.Minute).Unix()
		})), initialize, 401, challenge("invalid_token", "token expired"), errBody("invalid_token", "token expired"), false},
		{"not yet valid", "POST", mcpURL, bearer(sign(func(c jwt.MapClaims) { c["nbf"] = time.Now().Add(10 * time.Minute).Unix() })), initialize, 401,
			challenge("invalid_token", "token not yet valid"), errBody("invalid_token", "token not yet valid"), false},
		{"wrong issuer", "POST", mcpURL, bearer(sign(func(c jwt.MapClaims) { c["iss"] = "https://evil.test" })), initialize, 401,
			challenge("invalid_token", "wrong issuer"), errBody("invalid_token", "wrong issuer"), false},
		{"wrong audience", "POST", mcpURL, bearer(sign(func(c jwt.MapClaims) { c["aud"] = "https://other.test/mcp" })), initialize, 401,
			challenge("invalid_token", "wrong audience"), errBody("invalid_token", "wrong audience"), false},
		{"no subject", "POST", mcpURL, bearer(sign(func(c jwt.MapClaims) { delete(c, "sub") })), initialize, 401,
			challenge("invalid_token", "token has no subject"), errBody("invalid_token", "token has no subject"), false},
		{"alg none", "POST", mcpURL, bearer(none), initialize, 401, challenge("invalid_token", "signing algorithm not allowed"), errBody("invalid_token", "signing algorithm not allowed"), false},
		{"HS256 with the public key", "POST", mcpURL, bearer(hs), initialize, 401, challenge("invalid_token", "signing algorithm not allowed"), errBody("invalid_token", "signing algorithm not allowed"), false},
		{"unknown kid", "POST", mcpURL, bearer(unknownKid), initialize, 401, challenge("invalid_token", "no matching signing key"), errBody("invalid_token", "no matching signing key"), false},
		{"forged with a published kid", "POST", mcpURL, bearer(forged), initialize, 401, challenge("invalid_token", "invalid signature"), errBody("invalid_token", "invalid signature"), false},
		{"tampered payload", "POST", mcpURL, bearer(tampered), initialize, 401, challenge("invalid_token", "invalid signature"), errBody("invalid_token", "invalid signature"), false},
		{"internal credential at the edge", "POST", mcpURL, bearer(internal), initialize, 401, challenge("invalid_token", "no matching signing key"), errBody("invalid_token", "no matching signing key"), false},
		{"internal credential header only", "POST", mcpURL, hdr(credential.MetadataKey, internal), initialize, 401, noToken, errBody("unauthorized", "missing bearer token"), false},
		{"unknown API key", "POST", mcpURL, bearer("twk_notakey"), initialize, 401, challenge("invalid_token", "unknown API key"), errBody("invalid_token", "unknown API key"), false},
		{"API key in X-API-Key", "POST", mcpURL, hdr("X-API-Key", s.apiKey), initialize, 401, noToken,
			errBody("unauthorized", "send the API key as Authorization: Bearer, not X-API-Key"), false},
		{"two Authorization headers", "POST", mcpURL, hdr("Authorization", "Bearer "+good, "Authorization", "Bearer "+good), initialize, 400,
			`Bearer error="invalid_request", error_description="more than one Authorization header", resource_metadata="` + metadataURL + `"`,
			errBody("invalid_request", "more than one Authorization header"), false},
		{"oversized header", "POST", mcpURL, bearer(strings.Repeat("a", 9<<10)), initialize, 431, "", errBody("invalid_request", "Authorization header exceeds 8192 bytes"), false},
		{"evil Origin, valid token", "POST", mcpURL, hdr("Authorization", "Bearer "+good, "Origin", "https://evil.test"), initialize, 403, "",
			"Forbidden: Origin \"https://evil.test\" is not allowed\n", false},
		{"SSE stream without token", "GET", s.base + "/sse", http.Header{"Accept": {"text/event-stream"}}, "", 401, noToken, errBody("unauthorized", "missing bearer token"), false},
		{"valid token", "POST", mcpURL, bearer(good), initialize, 200, "", "", true},
		{"valid API key", "POST", mcpURL, bearer(s.apiKey), initialize, 200, "", "", true},
		{"metadata", "GET", s.base + "/.well-known/oauth-protected-resource/mcp", nil, "", 200, "",
			`{"resource":"` + audience + `","authorization_servers":["` + iss.URL + `"],"bearer_methods_supported":["header"],"resource_name":"toolwire edge"}`, true},
		{"metadata at the root", "GET", s.base + "/.well-known/oauth-protected-resource", nil, "", 200, "",
			`{"resource":"` + audience + `"`, true},
		{"REST without token", "POST", s.base + "/api/v1/echo", http.Header{"Content-Type": {"application/json"}}, `{"text":"hi"}`, 401, noToken,
			errBody("unauthorized", "missing bearer token"), false},
		{"REST with the internal credential only", "POST", s.base + "/api/v1/echo",
			http.Header{"Content-Type": {"application/json"}, "Grpc-Metadata-" + credential.MetadataKey: {internal}}, `{"text":"hi"}`, 401, noToken,
			errBody("unauthorized", "missing bearer token"), false},
		{"REST with a token", "POST", s.base + "/api/v1/echo", http.Header{"Content-Type": {"application/json"}, "Authorization": {"Bearer " + good}}, `{"text":"hi"}`, 200, "",
			`{"text":"hi"}`, false},
		{"REST without the tool's scope", "GET", s.base + "/api/v1/documents/doc-000001", http.Header{"Authorization": {"Bearer " + good}}, "", 403, "",
			`{"code":7,"message":"missing scope: search:read"}`, false},
		{"REST without scope, stolen credential header", "GET", s.base + "/api/v1/documents/doc-000001",
			http.Header{"Authorization": {"Bearer " + good}, "Grpc-Metadata-" + credential.MetadataKey: {internal}}, "", 403, "",
			`{"code":7,"message":"missing scope: search:read"}`, false},
		{"REST with the tool's scope", "GET", s.base + "/api/v1/documents/doc-000001", http.Header{"Authorization": {"Bearer " + s.token(t, "search:read")}}, "", 200, "",
			`{"document":{"id":"doc-000001"`, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, tc.method, tc.url, tc.header, tc.body)
			if r.status != tc.wantStatus {
				t.Errorf("status = %d, want %d (body %q)", r.status, tc.wantStatus, r.body)
			}
			if got := r.header.Get("WWW-Authenticate"); got != tc.wantAuth {
				t.Errorf("WWW-Authenticate = %q, want %q", got, tc.wantAuth)
			}
			if tc.wantPrefix {
				if !strings.HasPrefix(r.body, tc.wantBody) {
					t.Errorf("body = %q, want prefix %q", r.body, tc.wantBody)
				}
			} else if compact(r.body) != compact(tc.wantBody) {
				t.Errorf("body = %q, want %q", r.body, tc.wantBody)
			}
		})
	}
}

// TestToolAuthorization checks the per-tool rules through the edge: what
// tools/list shows each principal, and what tools/call refuses.
func TestToolAuthorization(t *testing.T) {
	s := startStack(t)
	reader := s.token(t, "search:read")
	plain := s.token(t, "")
	all := []string{"echo", "get_document", "search_documents", "sleep", "stream"}
	basic := []string{"echo", "sleep", "stream"}

	list := func(t *testing.T, token string) []string {
		sid := s.session(t, token)
		r, m := s.rpc(t, token, sid, `{"jsonrpc":"2.0","id":2,"method":"tools/list"}`)
		if r.status != 200 || m.Error != nil {
			t.Fatalf("tools/list: %d %s", r.status, r.body)
		}
		var res struct{ Tools []struct{ Name string } }
		if err := json.Unmarshal(m.Result, &res); err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, tl := range res.Tools {
			names = append(names, tl.Name)
		}
		slices.Sort(names)
		return names
	}
	for _, tc := range []struct {
		name  string
		token string
		want  []string
	}{
		{"tools/list without scopes", plain, basic},
		{"tools/list with search:read", reader, all},
		{"tools/list with an API key", s.apiKey, all},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := list(t, tc.token); !slices.Equal(got, tc.want) {
				t.Errorf("tools = %v, want %v", got, tc.want)
			}
		})
	}

	call := `{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"get_document","arguments":{"id":"doc-000001"}}}`
	search := `{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"search_documents","arguments":{"query":"river","limit":1}}}`
	echoCall := `{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"}}}`
	// A missing scope is refused over HTTP before any backend work, with 403
	// insufficient_scope and the scope to step up to (the bridge's JSON-RPC
	// -32003 is the last line, and stdio's answer).
	stepUp := `Bearer error="insufficient_scope", error_description="token lacks a required scope", resource_metadata="` + metadataURL + `", scope="search:read"`
	for _, tc := range []struct {
		name, token, body string
		wantStatus        int // 200: a successful result
		wantAuth          string
	}{
		{"get_document without scope", plain, call, 403, stepUp},
		{"search_documents without scope", plain, search, 403, stepUp},
		{"get_document without scope, in a shape only the SDK serves", plain,
			`{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"get_document","arguments":{"id":"doc-000001"},"_meta":{"progressToken":{"x":1}}}}`, 403, stepUp},
		{"get_document with scope", reader, call, 200, ""},
		{"echo, authenticated only", plain, echoCall, 200, ""},
		{"get_document with an API key", s.apiKey, call, 200, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sid := s.session(t, tc.token)
			r, m := s.rpc(t, tc.token, sid, tc.body)
			if r.status != tc.wantStatus {
				t.Fatalf("status = %d, want %d (%s)", r.status, tc.wantStatus, r.body)
			}
			if tc.wantStatus == 200 {
				var res struct{ IsError bool }
				if m.Error != nil || json.Unmarshal(m.Result, &res) != nil || res.IsError {
					t.Fatalf("want a successful result, got %s", r.body)
				}
				return
			}
			if got := r.header.Get("WWW-Authenticate"); got != tc.wantAuth {
				t.Errorf("WWW-Authenticate = %q, want %q", got, tc.wantAuth)
			}
			if want := errBody("insufficient_scope", "token lacks a required scope"); r.body != want {
				t.Errorf("body = %q, want %q", r.body, want)
			}
		})
	}
}

// TestStreamableSessionBinding: a Streamable HTTP session belongs to the
// principal that opened it. Another principal naming it learns nothing (the
// answer of an unknown session), before and after the session has needed
// the SDK, on every method.
func TestStreamableSessionBinding(t *testing.T) {
	s := startStack(t)
	alice := s.token(t, "")
	sid := s.session(t, alice)
	svc := s.iss.Sign(t, authntest.KidEC, s.claims("", func(c jwt.MapClaims) { c["sub"] = "svc" }))
	call := `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"}}}`
	list := `{"jsonrpc":"2.0","id":3,"method":"tools/list"}`
	intruders := []struct{ name, token string }{
		{"another principal's token", s.apiKey},
		{"same subject by another method", svc},
	}
	check := func(t *testing.T, stage string) {
		for _, in := range intruders {
			for _, tc := range []struct{ method, body string }{{"POST", call}, {"POST", list}, {"GET", ""}, {"DELETE", ""}} {
				h := mcpHeader(in.token, sid)
				var r response
				if tc.method == "GET" {
					// A stream that opened would never end: look at the status only.
					h.Set("Accept", "text/event-stream")
					r = getStatus(t, s, h)
				} else {
					r = s.do(t, tc.method, s.base+"/mcp", h, tc.body)
				}
				if r.status != 404 || r.body != "session not found\n" {
					t.Errorf("%s, %s: %s %.40s: %d %q, want 404 %q", stage, in.name, tc.method, tc.body, r.status, r.body, "session not found\n")
				}
			}
		}
		if r, m := s.rpc(t, alice, sid, call); r.status != 200 || m.Error != nil {
			t.Errorf("%s: the owner's call: %d %s", stage, r.status, r.body)
		}
	}
	check(t, "session answered by the edge alone")
	if r, m := s.rpc(t, alice, sid, list); r.status != 200 || m.Error != nil {
		t.Fatalf("the owner's tools/list: %d %s", r.status, r.body)
	}
	check(t, "session with its SDK session")
	if r := s.do(t, "DELETE", s.base+"/mcp", mcpHeader(alice, sid), ""); r.status != 204 {
		t.Errorf("the owner's DELETE: %d %q, want 204", r.status, r.body)
	}
}

// getStatus opens a GET /mcp stream with h and returns its status, with
// the body read only when it is not an event stream.
func getStatus(t *testing.T, s *stack, h http.Header) response {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.base+"/mcp", nil)
	req.Header = h
	c := s.client
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	r := response{status: resp.StatusCode, header: resp.Header}
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		b, _ := io.ReadAll(resp.Body)
		r.body = string(b)
	}
	return r
}

// TestSSESessionBinding: a legacy SSE session belongs to the principal
// whose GET opened it.
func TestSSESessionBinding(t *testing.T) {
	s := startStack(t)
	alice := s.token(t, "")
	req, err := http.NewRequest("GET", s.base+"/sse", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Authorization", "Bearer "+alice)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	resp, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var endpoint string
	buf := make([]byte, 4096)
	var got string
	for endpoint == "" {
		n, err := resp.Body.Read(buf)
		if err != nil {
			t.Fatalf("reading the endpoint event: %v (%q)", err, got)
		}
		got += string(buf[:n])
		for _, l := range strings.Split(got, "\n") {
			if d, ok := strings.CutPrefix(l, "data: "); ok && strings.Contains(d, "sessionid=") {
				endpoint = d
			}
		}
	}
	post := s.base + endpoint
	h := func(token string) http.Header {
		return http.Header{"Content-Type": {"application/json"}, "Authorization": {"Bearer " + token}}
	}
	for _, tc := range []struct {
		name       string
		header     http.Header
		wantStatus int
		wantBody   string
	}{
		{"another principal's token", h(s.apiKey), 404, "session not found\n"},
		{"same subject by another method", h(s.iss.Sign(t, authntest.KidEC, s.claims("", func(c jwt.MapClaims) { c["sub"] = "svc" }))), 404, "session not found\n"},
		{"no token", http.Header{"Content-Type": {"application/json"}}, 401, errBody("unauthorized", "missing bearer token")},
		{"the owner", h(alice), 202, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, "POST", post, tc.header, initialize)
			if r.status != tc.wantStatus || r.body != tc.wantBody {
				t.Errorf("got %d %q, want %d %q", r.status, r.body, tc.wantStatus, tc.wantBody)
			}
		})
	}
}

// TestDirectGRPC calls the echo backend as `echo-service --credential-keys`
// runs it, past the edge.
func TestDirectGRPC(t *testing.T) {
	pub, priv, err := credential.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	pemBytes, err := credential.MarshalPublicKeyPEM(pub)
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(t.TempDir(), "edge.pub.pem")
	if err := os.WriteFile(keyFile, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- echo.Run(ctx, echo.Config{Addr: addr, CredentialKeys: keyFile, Logger: quiet}) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("echo.Run: %v", err)
		}
	})
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client := echov1.NewEchoServiceClient(conn)

	minter, err := credential.NewMinter(priv, nil)
	if err != nil {
		t.Fatal(err)
	}
	mint := func(aud string) string {
		tok, err := minter.Mint(aud, credential.Principal{Subject: "jwt:alice"})
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	now := time.Now()
	expired := jwt.NewWithClaims(jwt.SigningMethodEdDSA, jwt.MapClaims{
		"iss": credential.Issuer, "sub": "jwt:alice", "aud": []string{"examples.echo.v1.EchoService"},
		"iat": now.Add(-3 * time.Minute).Unix(), "exp": now.Add(-2 * time.Minute).Unix(), "jti": "replayed",
	})
	expired.Header["kid"] = credential.KeyID(pub)
	replayed, err := expired.SignedString(priv)
	if err != nil {
		t.Fatal(err)
	}
	_, otherPriv, _ := ed25519.GenerateKey(nil)
	otherMinter, _ := credential.NewMinter(otherPriv, nil)
	foreign, _ := otherMinter.Mint("examples.echo.v1.EchoService", credential.Principal{Subject: "jwt:alice"})
	iss := authntest.NewIssuer(t)
	clientToken := iss.Sign(t, authntest.KidEd, iss.Claims(audience, ""))

	for _, tc := range []struct {
		name     string
		cred     string
		wantCode codes.Code
		wantMsg  string
	}{
		{"no credential", "", codes.Unauthenticated, "credential missing"},
		{"replayed after expiry", replayed, codes.Unauthenticated, "credential invalid: expired"},
		{"minted for another backend", mint("examples.search.v1.SearchService"), codes.Unauthenticated, "credential invalid: wrong audience"},
		{"signed by another key", foreign, codes.Unauthenticated, "credential invalid: bad signature or unknown key"},
		{"the client's own token", clientToken, codes.Unauthenticated, "credential invalid: bad signature or unknown key"},
		{"garbage", "x.y.z", codes.Unauthenticated, "credential invalid: malformed"},
		{"valid credential", mint("examples.echo.v1.EchoService"), codes.OK, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cctx := ctx
			if tc.cred != "" {
				cctx = metadata.AppendToOutgoingContext(ctx, credential.MetadataKey, tc.cred)
			}
			_, err := client.Echo(cctx, &echov1.EchoRequest{Text: "hi"})
			st := status.Convert(err)
			if st.Code() != tc.wantCode || st.Message() != tc.wantMsg {
				t.Errorf("got %v %q, want %v %q", st.Code(), st.Message(), tc.wantCode, tc.wantMsg)
			}
		})
	}
}

// compact removes the insignificant whitespace of a JSON body (protojson
// varies it on purpose), and returns any other body as it is.
func compact(body string) string {
	var b bytes.Buffer
	if json.Compact(&b, []byte(body)) != nil {
		return body
	}
	return b.String()
}
