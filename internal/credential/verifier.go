package credential

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// VerifierOptions configure a [Verifier]. A nil *VerifierOptions means
// defaults.
type VerifierOptions struct {
	// ClockSkew is the tolerance given exp, nbf and iat, for clocks that
	// differ between edge and backend. Zero means [DefaultClockSkew];
	// negative means none.
	ClockSkew time.Duration
}

// Verifier checks credentials with the edge's public keys. It is safe for
// concurrent use.
type Verifier struct {
	keys      map[string]ed25519.PublicKey // by KeyID
	audiences []string
	parser    *jwt.Parser
	verified  verifiedCache
}

// NewVerifier returns a Verifier that accepts credentials signed by any of
// keys and minted for any of audiences: the backend's name, or the gRPC
// services it serves.
func NewVerifier(keys []ed25519.PublicKey, audiences []string, opts *VerifierOptions) (*Verifier, error) {
	if len(keys) == 0 {
		return nil, errors.New("credential: no verification keys")
	}
	if len(audiences) == 0 || slices.Contains(audiences, "") {
		return nil, errors.New("credential: a verifier needs non-empty audiences")
	}
	if opts == nil {
		opts = &VerifierOptions{}
	}
	skew := opts.ClockSkew
	switch {
	case skew == 0:
		skew = DefaultClockSkew
	case skew < 0:
		skew = 0
	}
	v := &Verifier{
		keys:      make(map[string]ed25519.PublicKey, len(keys)),
		audiences: slices.Clone(audiences),
		parser: jwt.NewParser(
			jwt.WithValidMethods([]string{algorithm.Alg()}),
			jwt.WithIssuer(Issuer),
			jwt.WithAudience(audiences...),
			jwt.WithExpirationRequired(),
			jwt.WithIssuedAt(),
			jwt.WithLeeway(skew),
		),
	}
	for _, k := range keys {
		if len(k) != ed25519.PublicKeySize {
			return nil, errors.New("credential: verification key is not an Ed25519 public key")
		}
		v.keys[KeyID(k)] = k
	}
	return v, nil
}

// Verify checks token and returns its claims, which the caller must not
// modify: a credential verified before, and not expired, is answered from a
// cache (cache.go). Every error is one of the Err* values of this package,
// whose text is safe to send to the caller.
func (v *Verifier) Verify(token string) (*Claims, error) {
	if token == "" {
		return nil, ErrMissing
	}
	if len(token) > maxTokenBytes {
		return nil, ErrMalformed
	}
	if c, ok := v.verified.get(token, time.Now()); ok {
		return c, nil
	}
	var wc wireClaims
	tok, err := v.parser.ParseWithClaims(token, &wc, v.key)
	if err != nil {
		return nil, refusal(tok, err)
	}
	if wc.Subject == "" || wc.ID == "" || wc.IssuedAt == nil {
		return nil, ErrMalformed
	}
	c := &Claims{
		Subject:  wc.Subject,
		Scopes:   splitScopes(wc.Scope),
		ID:       wc.ID,
		IssuedAt: wc.IssuedAt.Time,
		Expiry:   wc.ExpiresAt.Time,
	}
	for _, a := range wc.Audience {
		if slices.Contains(v.audiences, a) {
			c.Audience = a
			break
		}
	}
	v.verified.put(token, c)
	return c, nil
}

// VerifyIncoming verifies the credential in ctx's incoming gRPC metadata.
func (v *Verifier) VerifyIncoming(ctx context.Context) (*Claims, error) {
	tok, err := FromIncomingContext(ctx)
	if err != nil {
		return nil, err
	}
	return v.Verify(tok)
}

// key is the jwt.Keyfunc: the public key named by the header's kid. The
// parser has already refused any algorithm but EdDSA, and EdDSA's Verify
// refuses a key of another type, so there is no algorithm confusion here.
func (v *Verifier) key(t *jwt.Token) (any, error) {
	kid, _ := t.Header["kid"].(string)
	k, ok := v.keys[kid]
	if !ok {
		return nil, fmt.Errorf("unknown kid %q", kid)
	}
	return k, nil
}

// refusal maps a jwt parse error to this package's errors. The checks run
// in the parser's order (structure, algorithm, signature, then claims), and
// among claims expiry comes first: it is the refusal a caller can act on.
func refusal(tok *jwt.Token, err error) error {
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		return ErrMalformed
	case tok == nil:
		return ErrMalformed
	case tok.Method == nil || tok.Method.Alg() != algorithm.Alg():
		return ErrAlgorithm
	case errors.Is(err, jwt.ErrTokenUnverifiable), errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return ErrSignature
	case errors.Is(err, jwt.ErrTokenExpired):
		return ErrExpired
	case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return ErrNotYetValid
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return ErrIssuer
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return ErrAudience
	default:
		// A required claim missing, or of the wrong type.
		return ErrMalformed
	}
}
