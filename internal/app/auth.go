package app

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"fmt"
	"net/http"
	"net/textproto"
	"os"
	"strings"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"go.yaml.in/yaml/v3"
	"google.golang.org/grpc/metadata"

	"github.com/toolwire/toolwire/edge/policy/authn"
	"github.com/toolwire/toolwire/internal/credential"
)

// security is what authentication turns on in the edge process: the
// authenticator for MCP and REST requests, the resource metadata, and the
// minter of backend credentials. Its zero value is authentication off.
type security struct {
	auth     *authn.Authenticator
	metadata *authn.ResourceMetadata
	minter   *credential.Minter
}

// on reports whether authentication is configured.
func (c *Config) authOn() bool {
	return c.AuthJWKSURL != "" || c.AuthAPIKeys != ""
}

// newSecurity builds the edge's security from cfg. key, if not nil, is the
// private key credentials are minted with (the demo's ephemeral one); else
// cfg.CredentialKey is read, if set.
func newSecurity(ctx context.Context, cfg Config, key ed25519.PrivateKey) (security, error) {
	var s security
	if !cfg.authOn() {
		return s, nil
	}
	opts := &authn.Options{Cache: authn.NewSessionCache(nil)}
	if cfg.AuthJWKSURL != "" {
		if cfg.AuthIssuer == "" || cfg.AuthAudience == "" {
			return s, fmt.Errorf("--auth-jwks-url needs --auth-issuer and --auth-audience")
		}
		v, err := authn.NewJWTVerifier(ctx, authn.JWTConfig{
			JWKSURL:  cfg.AuthJWKSURL,
			Issuer:   cfg.AuthIssuer,
			Audience: cfg.AuthAudience,
			Logger:   cfg.logger(),
		})
		if err != nil {
			return s, err
		}
		opts.Tokens = v
	}
	if cfg.AuthAPIKeys != "" {
		keys, err := loadAPIKeys(cfg.AuthAPIKeys)
		if err != nil {
			return s, err
		}
		opts.APIKeys = keys
	}
	if cfg.AuthAudience != "" {
		s.metadata = &authn.ResourceMetadata{Resource: cfg.AuthAudience, ResourceName: "toolwire edge"}
		if cfg.AuthIssuer != "" {
			s.metadata.AuthorizationServers = []string{cfg.AuthIssuer}
		}
		u, err := authn.MetadataURL(cfg.AuthAudience)
		if err != nil {
			return s, fmt.Errorf("--auth-audience: %w", err)
		}
		opts.ResourceMetadataURL = u
	}
	var err error
	if s.auth, err = authn.New(opts); err != nil {
		return s, err
	}
	if key == nil && cfg.CredentialKey != "" {
		if key, err = credential.LoadPrivateKey(cfg.CredentialKey); err != nil {
			return s, fmt.Errorf("--credential-key: %w", err)
		}
	}
	if key != nil {
		if s.minter, err = credential.NewMinter(key, nil); err != nil {
			return s, err
		}
	}
	return s, nil
}

// apiKeyFile is the YAML form of --auth-api-keys: a list of service
// accounts, each with the SHA-256 of its key (authn.HashAPIKey), never the
// key itself.
type apiKeyFile []struct {
	Hash    string   `yaml:"hash"`
	Subject string   `yaml:"subject"`
	Scopes  []string `yaml:"scopes"`
}

func loadAPIKeys(path string) (*authn.APIKeys, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f apiKeyFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	keys := make([]authn.APIKey, len(f))
	for i, k := range f {
		keys[i] = authn.APIKey{Hash: k.Hash, Subject: k.Subject, Scopes: k.Scopes}
	}
	a, err := authn.NewAPIKeys(keys)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return a, nil
}

// gatewayOptions make the REST gateway carry the caller's identity as the
// MCP side does: the caller's Authorization header and any credential it
// sent are never forwarded, and each call carries a credential minted for
// the principal the middleware authenticated.
func (s security) gatewayOptions() []runtime.ServeMuxOption {
	opts := []runtime.ServeMuxOption{runtime.WithIncomingHeaderMatcher(func(key string) (string, bool) {
		switch textproto.CanonicalMIMEHeaderKey(key) {
		case "Authorization", "Grpc-Metadata-" + textproto.CanonicalMIMEHeaderKey(credential.MetadataKey):
			return "", false
		}
		return runtime.DefaultHeaderMatcher(key)
	})}
	if s.minter == nil {
		return opts
	}
	return append(opts, runtime.WithMetadata(func(ctx context.Context, r *http.Request) metadata.MD {
		p, ok := authn.FromContext(r.Context())
		if !ok {
			return nil
		}
		method, _ := runtime.RPCMethod(ctx)
		svc, _, _ := strings.Cut(strings.TrimPrefix(method, "/"), "/")
		tok, err := s.minter.Mint(svc, credential.Principal{
			Subject:  string(p.Method) + ":" + p.Subject,
			Scopes:   p.Scopes,
			NotAfter: p.Expiry,
		})
		if err != nil {
			return nil
		}
		return metadata.Pairs(credential.MetadataKey, tok)
	}))
}

// protectREST authenticates REST requests with the MCP side's middleware.
func (s security) protectREST(h http.Handler) http.Handler {
	if s.auth == nil {
		return h
	}
	return s.auth.Middleware(h)
}

// checkListen refuses to serve a non-loopback address without
// authentication, unless insecure says so.
func checkListen(addr string, cfg Config) error {
	if cfg.authOn() || cfg.Insecure {
		return nil
	}
	if err := loopbackOnly(addr); err != nil {
		return fmt.Errorf("serve: --addr %q is not a loopback address and authentication is off: configure --auth-jwks-url or --auth-api-keys, or pass --insecure", addr)
	}
	return nil
}
