package authn_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/toolwire/toolwire/edge/policy/authn"
	"github.com/toolwire/toolwire/edge/policy/authn/authntest"
)

const (
	resource    = "https://edge.example/mcp"
	metadataURL = "https://edge.example/.well-known/oauth-protected-resource/mcp"
	baseScope   = "mcp:tools"
)

// The challenges and bodies the middleware answers with.
var (
	chNone  = `Bearer resource_metadata="` + metadataURL + `", scope="` + baseScope + `"`
	chScope = `Bearer error="insufficient_scope", error_description="token lacks a required scope", resource_metadata="` + metadataURL + `", scope="` + baseScope + `"`
)

func chInvalid(desc string) string {
	return `Bearer error="invalid_token", error_description="` + desc + `", resource_metadata="` + metadataURL + `", scope="` + baseScope + `"`
}

func chRequest(desc string) string {
	return `Bearer error="invalid_request", error_description="` + desc + `", resource_metadata="` + metadataURL + `", scope="` + baseScope + `"`
}

func body(code, desc string) string {
	return `{"error":"` + code + `","error_description":"` + desc + `"}` + "\n"
}

// okHandler is the protected handler: it answers with the principal.
var okHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	p, ok := authn.FromContext(r.Context())
	if !ok {
		http.Error(w, "no principal", http.StatusInternalServerError)
		return
	}
	fmt.Fprintf(w, "%s %s %s", p.Subject, p.Method, strings.Join(p.Scopes, ","))
})

// env is an edge's authentication against a fake authorization server.
type env struct {
	iss      *authntest.Issuer
	verifier *authn.JWTVerifier
	auth     *authn.Authenticator
	handler  http.Handler
	// apiKey grants baseScope and "reports"; weakKey grants nothing.
	apiKey, weakKey string
}

func newVerifier(t testing.TB, iss *authntest.Issuer, cfg authn.JWTConfig) *authn.JWTVerifier {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	cfg.JWKSURL, cfg.Issuer, cfg.Audience = iss.JWKSURL, iss.URL, resource
	v, err := authn.NewJWTVerifier(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func newEnv(t testing.TB, opts *authn.Options) *env {
	t.Helper()
	e := &env{iss: authntest.NewIssuer(t)}
	e.verifier = newVerifier(t, e.iss, authn.JWTConfig{})
	var strongHash, weakHash string
	e.apiKey, strongHash = authn.GenerateAPIKey()
	e.weakKey, weakHash = authn.GenerateAPIKey()
	keys, err := authn.NewAPIKeys([]authn.APIKey{
		{Hash: strongHash, Subject: "svc-reports", Scopes: []string{baseScope, "reports"}},
		{Hash: strings.ToUpper(weakHash), Subject: "svc-weak"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if opts == nil {
		opts = &authn.Options{}
	}
	opts.Tokens, opts.APIKeys = e.verifier, keys
	opts.ResourceMetadataURL, opts.Scopes = metadataURL, []string{baseScope}
	e.auth, err = authn.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	e.handler = e.auth.Middleware(okHandler)
	return e
}

// claims returns valid claims for the edge with the base scope, changed by
// kv: a nil value deletes the claim.
func (e *env) claims(kv ...any) jwt.MapClaims {
	c := e.iss.Claims(resource, baseScope)
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(c, kv[i].(string))
		} else {
			c[kv[i].(string)] = kv[i+1]
		}
	}
	return c
}

func bearer(tok string) http.Header { return http.Header{"Authorization": {"Bearer " + tok}} }

func (e *env) do(h http.Header) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, "/mcp", strings.NewReader(`{}`))
	for k, v := range h {
		r.Header[k] = v
	}
	w := httptest.NewRecorder()
	e.handler.ServeHTTP(w, r)
	return w
}

func TestMiddleware(t *testing.T) {
	e := newEnv(t, nil)
	rsaKey := e.iss.PrivateKey(authntest.KidRSA)
	now := time.Now()
	valid := e.iss.Sign(t, authntest.KidRSA, e.claims())
	parts := strings.Split(valid, ".")
	forged, _ := json.Marshal(e.claims("scope", baseScope+" admin", "sub", "root"))
	der, err := x509.MarshalPKIXPublicKey(rsaKey.Public())
	if err != nil {
		t.Fatal(err)
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	otherRSA, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	unpublished, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	e.iss.AddKey(t, "rsa-unpublished", unpublished, jwt.SigningMethodRS256, false)

	tests := []struct {
		name      string
		header    http.Header
		status    int
		challenge string
		body      string
	}{
		// Requests without a usable credential.
		{"no credential", nil, 401, chNone, body("unauthorized", "missing bearer token")},
		{"X-API-Key header", http.Header{"X-Api-Key": {e.apiKey}}, 401, chNone,
			body("unauthorized", "send the API key as Authorization: Bearer, not X-API-Key")},
		{"Basic scheme", http.Header{"Authorization": {"Basic YWxpY2U6cHc="}}, 401, chNone,
			body("unauthorized", "authorization scheme must be Bearer")},
		{"Bearer without token", http.Header{"Authorization": {"Bearer"}}, 400,
			chRequest("malformed Authorization header"), body("invalid_request", "malformed Authorization header")},
		{"token with a space", bearer("abc def"), 400,
			chRequest("malformed Authorization header"), body("invalid_request", "malformed Authorization header")},
		{"two Authorization headers", http.Header{"Authorization": {"Bearer " + valid, "Bearer " + e.apiKey}}, 400,
			chRequest("more than one Authorization header"), body("invalid_request", "more than one Authorization header")},
		{"oversized header", bearer(strings.Repeat("a", 8<<10)), 431, "",
			body("invalid_request", "Authorization header exceeds 8192 bytes")},
		{"header at the size limit", bearer(strings.Repeat("a", 8<<10-len("Bearer "))), 401,
			chInvalid("malformed token"), body("invalid_token", "malformed token")},

		// Malformed and badly signed JWTs.
		{"malformed token", bearer("not.a.jwt"), 401, chInvalid("malformed token"), body("invalid_token", "malformed token")},
		{"one segment", bearer("abc"), 401, chInvalid("malformed token"), body("invalid_token", "malformed token")},
		{"scope claim of the wrong type", bearer(e.iss.Sign(t, authntest.KidRSA, e.claims("scope", 42))), 401,
			chInvalid("malformed token"), body("invalid_token", "malformed token")},
		{"alg none", bearer(authntest.Sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, authntest.KidRSA, e.claims())), 401,
			chInvalid("signing algorithm not allowed"), body("invalid_token", "signing algorithm not allowed")},
		{"HS256, RSA public key PEM as secret", bearer(authntest.Sign(t, jwt.SigningMethodHS256, pubPEM, authntest.KidRSA, e.claims())), 401,
			chInvalid("signing algorithm not allowed"), body("invalid_token", "signing algorithm not allowed")},
		{"HS256, RSA public key DER as secret", bearer(authntest.Sign(t, jwt.SigningMethodHS256, der, authntest.KidRSA, e.claims())), 401,
			chInvalid("signing algorithm not allowed"), body("invalid_token", "signing algorithm not allowed")},
		{"RS384, not allowed", bearer(authntest.Sign(t, jwt.SigningMethodRS384, rsaKey, authntest.KidRSA, e.claims())), 401,
			chInvalid("signing algorithm not allowed"), body("invalid_token", "signing algorithm not allowed")},
		{"PS256, not allowed", bearer(authntest.Sign(t, jwt.SigningMethodPS256, rsaKey, authntest.KidRSA, e.claims())), 401,
			chInvalid("signing algorithm not allowed"), body("invalid_token", "signing algorithm not allowed")},
		{"ES256 token naming the RS256 key", bearer(authntest.Sign(t, jwt.SigningMethodES256, e.iss.PrivateKey(authntest.KidEC), authntest.KidRSA, e.claims())), 401,
			chInvalid("no matching signing key"), body("invalid_token", "no matching signing key")},
		{"unknown kid", bearer(e.iss.Sign(t, "rsa-unpublished", e.claims())), 401,
			chInvalid("no matching signing key"), body("invalid_token", "no matching signing key")},
		{"tampered payload", bearer(parts[0] + "." + base64.RawURLEncoding.EncodeToString(forged) + "." + parts[2]), 401,
			chInvalid("invalid signature"), body("invalid_token", "invalid signature")},
		{"signed by another key under a published kid", bearer(authntest.Sign(t, jwt.SigningMethodRS256, otherRSA, authntest.KidRSA, e.claims())), 401,
			chInvalid("invalid signature"), body("invalid_token", "invalid signature")},

		// Claims.
		{"expired", bearer(e.iss.Sign(t, authntest.KidRSA, e.claims("iat", now.Add(-time.Hour).Unix(), "nbf", nil, "exp", now.Add(-time.Minute).Unix()))), 401,
			chInvalid("token expired"), body("invalid_token", "token expired")},
		{"expired within the clock skew", bearer(e.iss.Sign(t, authntest.KidRSA, e.claims("exp", now.Add(-10*time.Second).Unix()))), 200, "",
			"alice jwt mcp:tools"},
		{"not yet valid", bearer(e.iss.Sign(t, authntest.KidRSA, e.claims("nbf", now.Add(5*time.Minute).Unix()))), 401,
			chInvalid("token not yet valid"), body("invalid_token", "token not yet valid")},
		{"nbf within the clock skew", bearer(e.iss.Sign(t, authntest.KidRSA, e.claims("nbf", now.Add(10*time.Second).Unix()))), 200, "",
			"alice jwt mcp:tools"},
		{"issued in the future", bearer(e.iss.Sign(t, authntest.KidRSA, e.claims("nbf", nil, "iat", now.Add(5*time.Minute).Unix()))), 401,
			chInvalid("token not yet valid"), body("invalid_token", "token not yet valid")},
		{"wrong issuer", bearer(e.iss.Sign(t, authntest.KidRSA, e.claims("iss", "https://evil.example"))), 401,
			chInvalid("wrong issuer"), body("invalid_token", "wrong issuer")},
		{"no issuer", bearer(e.iss.Sign(t, authntest.KidRSA, e.claims("iss", nil))), 401,
			chInvalid("token is missing a required claim"), body("invalid_token", "token is missing a required claim")},
		{"wrong audience", bearer(e.iss.Sign(t, authntest.KidRSA, e.claims("aud", "https://other.example/mcp"))), 401,
			chInvalid("wrong audience"), body("invalid_token", "wrong audience")},
		{"audience list with the edge", bearer(e.iss.Sign(t, authntest.KidRSA, e.claims("aud", []string{"https://other.example", resource}))), 200, "",
			"alice jwt mcp:tools"},
		{"no exp", bearer(e.iss.Sign(t, authntest.KidRSA, e.claims("exp", nil))), 401,
			chInvalid("token is missing a required claim"), body("invalid_token", "token is missing a required claim")},
		{"no subject", bearer(e.iss.Sign(t, authntest.KidRSA, e.claims("sub", nil))), 401,
			chInvalid("token has no subject"), body("invalid_token", "token has no subject")},

		// Accepted JWTs.
		{"valid RS256", bearer(valid), 200, "", "alice jwt mcp:tools"},
		{"valid ES256", bearer(e.iss.Sign(t, authntest.KidEC, e.claims())), 200, "", "alice jwt mcp:tools"},
		{"valid EdDSA", bearer(e.iss.Sign(t, authntest.KidEd, e.claims())), 200, "", "alice jwt mcp:tools"},
		{"lower-case scheme, two spaces", http.Header{"Authorization": {"bearer  " + valid}}, 200, "", "alice jwt mcp:tools"},
		{"scope and scp merged", bearer(e.iss.Sign(t, authntest.KidRSA, e.claims("scope", baseScope+" read", "scp", []string{"read", "write"}))), 200, "",
			"alice jwt mcp:tools,read,write"},
		{"no kid, signed by a published key", bearer(authntest.Sign(t, jwt.SigningMethodRS256, rsaKey, "", e.claims())), 200, "", "alice jwt mcp:tools"},

		// API keys.
		{"valid API key", bearer(e.apiKey), 200, "", "svc-reports apikey mcp:tools,reports"},
		{"wrong API key", bearer(authn.APIKeyPrefix + "0123456789abcdef0123456789"), 401,
			chInvalid("unknown API key"), body("invalid_token", "unknown API key")},
		{"API key with a character changed", bearer(e.apiKey[:len(e.apiKey)-1] + flip(e.apiKey[len(e.apiKey)-1])), 401,
			chInvalid("unknown API key"), body("invalid_token", "unknown API key")},

		// Scopes.
		{"JWT without the base scope", bearer(e.iss.Sign(t, authntest.KidRSA, e.claims("scope", "other"))), 403, chScope,
			body("insufficient_scope", "token lacks a required scope")},
		{"API key without the base scope", bearer(e.weakKey), 403, chScope,
			body("insufficient_scope", "token lacks a required scope")},
	}
	if len(tests) < 30 {
		t.Fatalf("only %d cases", len(tests))
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := e.do(tt.header)
			if w.Code != tt.status {
				t.Errorf("status = %d, want %d", w.Code, tt.status)
			}
			if got := w.Header().Get("WWW-Authenticate"); got != tt.challenge {
				t.Errorf("WWW-Authenticate:\n got %s\nwant %s", got, tt.challenge)
			}
			if got := w.Body.String(); got != tt.body {
				t.Errorf("body:\n got %q\nwant %q", got, tt.body)
			}
			if tt.status != 200 && w.Header().Get("Content-Type") != "application/json" {
				t.Errorf("Content-Type = %q, want application/json", w.Header().Get("Content-Type"))
			}
		})
	}
}

func flip(c byte) string {
	if c == 'a' {
		return "b"
	}
	return "a"
}

// TestKeyRotation publishes a new key after the verifier fetched the JWKS:
// the first token naming it makes the verifier fetch again, and passes.
func TestKeyRotation(t *testing.T) {
	e := newEnv(t, nil)
	if got := e.iss.Hits(); got != 1 {
		t.Fatalf("JWKS fetched %d times at start, want 1", got)
	}
	next, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	e.iss.AddKey(t, "rsa-2", next, jwt.SigningMethodRS256, true)
	tok := e.iss.Sign(t, "rsa-2", e.claims())
	for i := range 3 {
		if w := e.do(bearer(tok)); w.Code != 200 {
			t.Fatalf("request %d with the rotated-in key: %d %s", i, w.Code, w.Body)
		}
	}
	if got := e.iss.Hits(); got != 2 {
		t.Errorf("JWKS fetched %d times, want 2: once at start, once for the new kid", got)
	}
}

// TestUnknownKIDFlood sends many tokens with made-up kids, concurrently:
// the JWKS is fetched once for them all, and good tokens still pass.
func TestUnknownKIDFlood(t *testing.T) {
	e := newEnv(t, nil)
	key := e.iss.PrivateKey(authntest.KidRSA)
	const workers, each = 10, 20
	codes := make(chan int, workers*each)
	toks := make([][]string, workers)
	for w := range workers {
		for i := range each {
			toks[w] = append(toks[w], authntest.Sign(t, jwt.SigningMethodRS256, key, fmt.Sprintf("kid-%d-%d", w, i), e.claims()))
		}
	}
	start := time.Now()
	done := make(chan struct{})
	for w := range workers {
		go func() {
			defer func() { done <- struct{}{} }()
			for _, tok := range toks[w] {
				codes <- e.do(bearer(tok)).Code
			}
		}()
	}
	for range workers {
		<-done
	}
	close(codes)
	for c := range codes {
		if c != 401 {
			t.Fatalf("a token with an unknown kid got %d", c)
		}
	}
	if got := e.iss.Hits(); got != 2 {
		t.Errorf("JWKS fetched %d times for %d unknown kids, want 2 (start + one rate-limited refetch)", got, workers*each)
	}
	// Refused at once, not after waiting for the limiter.
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the flood took %v: requests waited for the refetch limiter", d)
	}
	if w := e.do(bearer(e.iss.Sign(t, authntest.KidRSA, e.claims()))); w.Code != 200 {
		t.Errorf("a good token after the flood: %d %s", w.Code, w.Body)
	}
}

// TestJWKSUnavailable starts a verifier whose JWKS cannot be fetched: the
// edge starts, and refuses tokens.
func TestJWKSUnavailable(t *testing.T) {
	iss := authntest.NewIssuer(t)
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close()
	oversized := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		// A JWKS of a few MiB: refused by the size limit, not decoded.
		fmt.Fprint(w, `{"keys":[`+strings.Repeat(`{"kty":"oct","k":"AAAA"},`, 200000)+`{"kty":"oct","k":"AAAA"}]}`)
	}))
	t.Cleanup(oversized.Close)
	for _, u := range []string{deadURL + "/jwks.json", oversized.URL} {
		ctx, cancel := context.WithCancel(context.Background())
		v, err := authn.NewJWTVerifier(ctx, authn.JWTConfig{JWKSURL: u, Issuer: iss.URL, Audience: resource,
			Logger: discardLogger(), Timeout: 2 * time.Second})
		if err != nil {
			cancel()
			t.Fatalf("%s: %v", u, err)
		}
		_, err = v.Verify(context.Background(), iss.Sign(t, authntest.KidRSA, iss.Claims(resource, baseScope)))
		if err == nil || !strings.Contains(err.Error(), "no matching signing key") {
			t.Errorf("%s: Verify = %v, want no matching signing key", u, err)
		}
		cancel()
	}
}

func TestNewJWTVerifierConfig(t *testing.T) {
	ok := authn.JWTConfig{JWKSURL: "http://127.0.0.1:1/jwks", Issuer: "https://as.example", Audience: resource}
	tests := []struct {
		name string
		mod  func(*authn.JWTConfig)
	}{
		{"no JWKS URL", func(c *authn.JWTConfig) { c.JWKSURL = "" }},
		{"relative JWKS URL", func(c *authn.JWTConfig) { c.JWKSURL = "/jwks" }},
		{"no issuer", func(c *authn.JWTConfig) { c.Issuer = "" }},
		{"no audience", func(c *authn.JWTConfig) { c.Audience = "" }},
		{"HS256 allowed", func(c *authn.JWTConfig) { c.Algorithms = []string{"RS256", "HS256"} }},
		{"none allowed", func(c *authn.JWTConfig) { c.Algorithms = []string{"none"} }},
		{"empty algorithm list", func(c *authn.JWTConfig) { c.Algorithms = []string{} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			tt.mod(&c)
			if _, err := authn.NewJWTVerifier(context.Background(), c); err == nil {
				t.Error("NewJWTVerifier succeeded")
			}
		})
	}
}

func TestNewAuthenticatorConfig(t *testing.T) {
	keys, _ := authn.NewAPIKeys(nil)
	for name, opts := range map[string]*authn.Options{
		"nil":                  nil,
		"no verifier":          {Scopes: []string{"a"}},
		"quote in scope":       {APIKeys: keys, Scopes: []string{`a"b`}},
		"space in scope":       {APIKeys: keys, Scopes: []string{"a b"}},
		"quote in metadataURL": {APIKeys: keys, ResourceMetadataURL: `https://x/"`},
	} {
		if _, err := authn.New(opts); err == nil {
			t.Errorf("%s: New succeeded", name)
		}
	}
}

// TestOnlyAPIKeys configures no token verifier: JWTs are refused, keys pass.
func TestOnlyAPIKeys(t *testing.T) {
	key, hash := authn.GenerateAPIKey()
	keys, err := authn.NewAPIKeys([]authn.APIKey{{Hash: hash, Subject: "svc"}})
	if err != nil {
		t.Fatal(err)
	}
	a, err := authn.New(&authn.Options{APIKeys: keys})
	if err != nil {
		t.Fatal(err)
	}
	h := a.Middleware(okHandler)
	for tok, want := range map[string]int{key: 200, "eyJhbGciOi.eyJ.sig": 401} {
		r := httptest.NewRequest(http.MethodGet, "/mcp", nil)
		r.Header.Set("Authorization", "Bearer "+tok)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != want {
			t.Errorf("%.12s…: %d, want %d", tok, w.Code, want)
		}
		// No metadata URL and no scopes configured: a bare challenge.
		if want == 401 {
			if got, wantCh := w.Header().Get("WWW-Authenticate"), `Bearer error="invalid_token", error_description="only API keys are accepted"`; got != wantCh {
				t.Errorf("challenge %q, want %q", got, wantCh)
			}
		}
	}
}

func TestWriteInsufficientScope(t *testing.T) {
	e := newEnv(t, nil)
	w := httptest.NewRecorder()
	e.auth.WriteInsufficientScope(w, []string{"tools:write", baseScope, "bad scope"})
	want := `Bearer error="insufficient_scope", error_description="token lacks a required scope", resource_metadata="` +
		metadataURL + `", scope="mcp:tools tools:write"`
	if w.Code != 403 || w.Header().Get("WWW-Authenticate") != want {
		t.Errorf("got %d %q\nwant 403 %q", w.Code, w.Header().Get("WWW-Authenticate"), want)
	}
	if got := w.Body.String(); got != body("insufficient_scope", "token lacks a required scope") {
		t.Errorf("body %q", got)
	}
}
