package authn_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/toolwire/toolwire/edge/policy/authn"
)

func TestAPIKeys(t *testing.T) {
	// SHA-256("abc"), FIPS 180-2 Appendix B.1.
	if got, want := authn.HashAPIKey("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"; got != want {
		t.Fatalf("HashAPIKey(abc) = %s, want %s", got, want)
	}
	key, hash := authn.GenerateAPIKey()
	if !strings.HasPrefix(key, authn.APIKeyPrefix) || len(key) != len(authn.APIKeyPrefix)+26 || authn.HashAPIKey(key) != hash {
		t.Fatalf("GenerateAPIKey = %q, %q", key, hash)
	}
	if key2, _ := authn.GenerateAPIKey(); key2 == key {
		t.Fatal("GenerateAPIKey repeated a key")
	}
	keys, err := authn.NewAPIKeys([]authn.APIKey{{Hash: hash, Subject: "svc", Scopes: []string{"a"}}})
	if err != nil {
		t.Fatal(err)
	}
	p, err := keys.Verify(context.Background(), key)
	want := &authn.Principal{Subject: "svc", Scopes: []string{"a"}, Method: authn.MethodAPIKey}
	if err != nil || !cmp.Equal(p, want) {
		t.Errorf("Verify(key) = %+v, %v; want %+v", p, err, want)
	}
	for _, bad := range []string{"", key[len(authn.APIKeyPrefix):], key + "x", strings.ToUpper(key)} {
		p, err := keys.Verify(context.Background(), bad)
		if p != nil || !errors.Is(err, authn.ErrInvalidToken) {
			t.Errorf("Verify(%q) = %v, %v; want ErrInvalidToken", bad, p, err)
		}
	}

	for name, cfg := range map[string][]authn.APIKey{
		"short hash":     {{Hash: hash[:62], Subject: "svc"}},
		"not hex":        {{Hash: strings.Repeat("z", 64), Subject: "svc"}},
		"no subject":     {{Hash: hash}},
		"duplicate hash": {{Hash: hash, Subject: "a"}, {Hash: strings.ToUpper(hash), Subject: "b"}},
	} {
		if _, err := authn.NewAPIKeys(cfg); err == nil {
			t.Errorf("%s: NewAPIKeys succeeded", name)
		}
	}
}

func TestPrincipal(t *testing.T) {
	exp := time.Now().Add(time.Hour)
	p := &authn.Principal{Subject: "alice", Scopes: []string{"a", "b"}, Method: authn.MethodJWT, Expiry: exp}
	if !p.HasScopes() || !p.HasScopes("b", "a") || p.HasScopes("a", "c") {
		t.Error("HasScopes wrong")
	}
	if got := p.MissingScopes([]string{"c", "a", "d"}); !cmp.Equal(got, []string{"c", "d"}) {
		t.Errorf("MissingScopes = %v", got)
	}
	if got := p.MissingScopes([]string{"a"}); got != nil {
		t.Errorf("MissingScopes = %v, want nil", got)
	}
	if _, ok := authn.FromContext(context.Background()); ok {
		t.Error("FromContext found a principal in an empty context")
	}
	if got, ok := authn.FromContext(authn.WithPrincipal(context.Background(), p)); !ok || got != p {
		t.Errorf("FromContext = %v, %v", got, ok)
	}
	ti := p.TokenInfo()
	if ti.UserID != "jwt:alice" || !ti.Expiration.Equal(exp) || !cmp.Equal(ti.Scopes, p.Scopes) {
		t.Errorf("TokenInfo = %+v", ti)
	}
	if k := (&authn.Principal{Subject: "alice", Method: authn.MethodAPIKey}).TokenInfo(); k.UserID == ti.UserID {
		t.Error("an API key named alice has the JWT subject alice's UserID")
	}
}

func TestMetadataURL(t *testing.T) {
	const wk = "/.well-known/oauth-protected-resource"
	for in, want := range map[string]string{
		"https://edge.example/mcp":               "https://edge.example" + wk + "/mcp",
		"https://edge.example":                   "https://edge.example" + wk,
		"https://edge.example/":                  "https://edge.example" + wk,
		"https://edge.example:8443/a/b?tenant=1": "https://edge.example:8443" + wk + "/a/b?tenant=1",
		"http://127.0.0.1:8080/mcp":              "http://127.0.0.1:8080" + wk + "/mcp",
	} {
		got, err := authn.MetadataURL(in)
		if err != nil || got != want {
			t.Errorf("MetadataURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "edge.example/mcp", "/mcp", "ftp://edge.example/mcp", "https://edge.example/mcp#x", "https://u:p@edge.example/"} {
		if got, err := authn.MetadataURL(bad); err == nil {
			t.Errorf("MetadataURL(%q) = %q, want an error", bad, got)
		}
	}
}

func TestMetadataHandler(t *testing.T) {
	h, err := authn.MetadataHandler(authn.ResourceMetadata{
		Resource:               resource,
		AuthorizationServers:   []string{"https://as.example"},
		ScopesSupported:        []string{baseScope, "tools:write"},
		BearerMethodsSupported: []string{"body"}, // overridden
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		method string
		status int
		body   string
		header map[string]string
	}{
		{http.MethodGet, 200,
			`{"resource":"https://edge.example/mcp","authorization_servers":["https://as.example"],"scopes_supported":["mcp:tools","tools:write"],"bearer_methods_supported":["header"]}`,
			map[string]string{"Content-Type": "application/json", "Access-Control-Allow-Origin": "*"}},
		{http.MethodHead, 200, "", map[string]string{"Content-Type": "application/json"}},
		{http.MethodOptions, 204, "", map[string]string{"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": "GET, HEAD, OPTIONS"}},
		{http.MethodPost, 405, "method not allowed\n", map[string]string{"Allow": "GET, HEAD, OPTIONS"}},
	}
	for _, tt := range tests {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(tt.method, "/.well-known/oauth-protected-resource/mcp", nil))
		if w.Code != tt.status || w.Body.String() != tt.body {
			t.Errorf("%s: %d %q, want %d %q", tt.method, w.Code, w.Body, tt.status, tt.body)
		}
		for k, v := range tt.header {
			if got := w.Header().Get(k); got != v {
				t.Errorf("%s: %s = %q, want %q", tt.method, k, got, v)
			}
		}
	}
	if _, err := authn.MetadataHandler(authn.ResourceMetadata{Resource: "mcp"}); err == nil {
		t.Error("MetadataHandler accepted a relative resource")
	}
}
