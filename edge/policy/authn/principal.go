package authn

import (
	"context"
	"slices"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
)

// Method is how a [Principal] authenticated.
type Method string

// The methods of authentication.
const (
	// MethodJWT: a JWT access token from the authorization server.
	MethodJWT Method = "jwt"
	// MethodAPIKey: a service account's static API key.
	MethodAPIKey Method = "apikey"
)

// Principal is an authenticated caller. Treat it as read-only: verifiers
// and caches share one value between requests.
type Principal struct {
	// Subject identifies the caller: a JWT's sub claim, or the name an API
	// key is configured with.
	Subject string
	// Scopes are the scopes the caller was granted.
	Scopes []string
	// Method is how the caller authenticated.
	Method Method
	// Expiry is the token's exp. It is zero for API keys, which do not
	// expire.
	Expiry time.Time
}

// HasScopes reports whether p was granted every scope in required.
func (p *Principal) HasScopes(required ...string) bool {
	for _, s := range required {
		if !slices.Contains(p.Scopes, s) {
			return false
		}
	}
	return true
}

// MissingScopes returns the scopes in required that p was not granted, in
// order, or nil.
func (p *Principal) MissingScopes(required []string) []string {
	var missing []string
	for _, s := range required {
		if !slices.Contains(p.Scopes, s) {
			missing = append(missing, s)
		}
	}
	return missing
}

// TokenInfo returns p as the MCP SDK's [auth.TokenInfo]. The SDK binds a
// stateful session to the TokenInfo.UserID it was created with; an edge that
// wants that binding passes this TokenInfo through the SDK's
// auth.RequireBearerToken (with AllowMissingExpiration, for API keys). The
// UserID is method-qualified, so that an API key named like a JWT subject
// cannot take over that subject's sessions.
func (p *Principal) TokenInfo() *auth.TokenInfo {
	return &auth.TokenInfo{
		Scopes:     slices.Clone(p.Scopes),
		Expiration: p.Expiry,
		UserID:     string(p.Method) + ":" + p.Subject,
	}
}

type principalKey struct{}

// WithPrincipal returns a child of ctx that carries p.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the Principal that [WithPrincipal] put in ctx.
func FromContext(ctx context.Context) (*Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(*Principal)
	return p, ok && p != nil
}
