package authn_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/toolwire/toolwire/edge/policy/authn"
)

// An edge that accepts API keys, publishes its resource metadata, and
// protects its MCP endpoint.
func Example() {
	const resource = "https://edge.example/mcp"
	key, hash := authn.GenerateAPIKey() // the key goes to the service's owner; the hash to config
	keys, err := authn.NewAPIKeys([]authn.APIKey{{Hash: hash, Subject: "svc-reports", Scopes: []string{"mcp:tools"}}})
	if err != nil {
		panic(err)
	}
	mdURL, _ := authn.MetadataURL(resource)
	a, err := authn.New(&authn.Options{
		APIKeys:             keys,
		ResourceMetadataURL: mdURL,
		Scopes:              []string{"mcp:tools"},
		Cache:               authn.NewSessionCache(nil),
	})
	if err != nil {
		panic(err)
	}
	md, _ := authn.MetadataHandler(authn.ResourceMetadata{
		Resource:             resource,
		AuthorizationServers: []string{"https://as.example"},
		ScopesSupported:      []string{"mcp:tools"},
	})

	mux := http.NewServeMux()
	mux.Handle("GET /.well-known/oauth-protected-resource/mcp", md)
	mux.Handle("/mcp", a.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := authn.FromContext(r.Context())
		fmt.Fprintf(w, "hello %s (%s)", p.Subject, p.Method)
	})))

	for _, auth := range []string{"", "Bearer " + key} {
		r := httptest.NewRequest(http.MethodPost, resource, nil)
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, r)
		fmt.Println(strings.TrimSpace(fmt.Sprint(w.Code, " ", w.Header().Get("WWW-Authenticate"))))
		fmt.Println(strings.TrimSpace(w.Body.String()))
	}
	// Output:
	// 401 Bearer resource_metadata="https://edge.example/.well-known/oauth-protected-resource/mcp", scope="mcp:tools"
	// {"error":"unauthorized","error_description":"missing bearer token"}
	// 200
	// hello svc-reports (apikey)
}

// Access tokens from an authorization server: the JWKS is fetched at start,
// in the background every hour, and when a token names a kid not in it.
// (Not run: it would fetch from as.example.)
func ExampleNewJWTVerifier() {
	ctx := context.Background() // bounds the background fetches
	v, err := authn.NewJWTVerifier(ctx, authn.JWTConfig{
		JWKSURL:  "https://as.example/.well-known/jwks.json",
		Issuer:   "https://as.example",
		Audience: "https://edge.example/mcp",
	})
	if err != nil {
		panic(err)
	}
	a, err := authn.New(&authn.Options{Tokens: v, Scopes: []string{"mcp:tools"}})
	if err != nil {
		panic(err)
	}
	_ = a.Middleware(http.NotFoundHandler())
}
