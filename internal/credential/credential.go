package credential

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

const (
	// Issuer is the iss of every credential: the edge is the only minter.
	Issuer = "toolwire-edge"
	// MetadataKey is the gRPC metadata key that carries the credential.
	MetadataKey = "x-toolwire-credential"
	// DefaultTTL is a credential's lifetime when [MinterOptions.TTL] is 0:
	// long enough for a call to start, short enough that a leaked one is
	// soon worthless.
	DefaultTTL = 60 * time.Second
	// MaxTTL caps [MinterOptions.TTL]. A credential is minted per call, so
	// a longer one only widens the replay window.
	MaxTTL = 5 * time.Minute
	// DefaultClockSkew is the tolerance a [Verifier] gives exp, nbf and iat
	// when [VerifierOptions.ClockSkew] is 0. Edge and backends run in one
	// cluster with synchronised clocks, so it is small.
	DefaultClockSkew = 5 * time.Second
	// maxTokenBytes bounds the size of a credential a Verifier parses.
	// Minted ones are a few hundred bytes; a large scope list stays well
	// under this.
	maxTokenBytes = 8 << 10
)

// algorithm is the only signing algorithm minted and accepted.
var algorithm = jwt.SigningMethodEdDSA

// Errors a [Verifier] returns. Each wraps [ErrInvalid] except [ErrMissing],
// and each message is fixed text, safe to send to a caller.
var (
	// ErrMissing: no credential was presented.
	ErrMissing = errors.New("credential missing")
	// ErrInvalid is wrapped by every refusal of a presented credential.
	ErrInvalid = errors.New("credential invalid")

	ErrMalformed   = invalid("malformed")
	ErrAlgorithm   = invalid("signing algorithm not allowed")
	ErrSignature   = invalid("bad signature or unknown key")
	ErrIssuer      = invalid("wrong issuer")
	ErrAudience    = invalid("wrong audience")
	ErrExpired     = invalid("expired")
	ErrNotYetValid = invalid("not yet valid")
)

// reason is a refusal of a presented credential; it wraps ErrInvalid.
type reason struct{ text string }

func invalid(text string) error { return &reason{text} }

func (r *reason) Error() string        { return "credential invalid: " + r.text }
func (r *reason) Is(target error) bool { return target == ErrInvalid }

// Principal is whom a credential speaks for: what the edge authenticated.
type Principal struct {
	// Subject identifies the caller: a JWT's sub, or a service account's
	// name. It must not be empty.
	Subject string
	// Scopes are the caller's granted scopes.
	Scopes []string
	// NotAfter, if not zero, bounds the credential's exp: a credential never
	// outlives the client token it was minted for.
	NotAfter time.Time
}

// Claims are a verified credential's contents.
type Claims struct {
	// Subject is the principal's subject.
	Subject string
	// Scopes are the principal's scopes.
	Scopes []string
	// Audience is the backend the credential was minted for, one of the
	// Verifier's audiences.
	Audience string
	// ID is the credential's jti.
	ID string
	// IssuedAt and Expiry are the credential's iat and exp.
	IssuedAt, Expiry time.Time
}

// HasScopes reports whether c grants every scope in required.
func (c *Claims) HasScopes(required ...string) bool {
	for _, s := range required {
		if !slices.Contains(c.Scopes, s) {
			return false
		}
	}
	return true
}

// wireClaims is the JWT claims set: the registered claims and scope.
type wireClaims struct {
	jwt.RegisteredClaims
	Scope string `json:"scope,omitempty"`
}

type claimsKey struct{}

// NewContext returns a child of ctx that carries c. The credential
// interceptors of package server call it for each verified call.
func NewContext(ctx context.Context, c *Claims) context.Context {
	return context.WithValue(ctx, claimsKey{}, c)
}

// FromContext returns the Claims that [NewContext] put in ctx. Treat them
// as read-only: they may be shared.
func FromContext(ctx context.Context) (*Claims, bool) {
	c, ok := ctx.Value(claimsKey{}).(*Claims)
	return c, ok && c != nil
}

// joinScopes and splitScopes convert between a scope list and the
// space-separated scope claim.
func joinScopes(scopes []string) string { return strings.Join(scopes, " ") }

func splitScopes(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Fields(s)
}
