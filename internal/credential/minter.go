package credential

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"google.golang.org/grpc/metadata"
)

// MinterOptions configure a [Minter]. A nil *MinterOptions means defaults.
type MinterOptions struct {
	// TTL is how long a credential is valid after it is minted. Zero means
	// [DefaultTTL]; more than [MaxTTL] is an error.
	TTL time.Duration
}

// Minter mints credentials with the edge's private key. It is safe for
// concurrent use.
type Minter struct {
	key   ed25519.PrivateKey
	kid   string
	ttl   time.Duration
	cache mintCache
}

// NewMinter returns a Minter that signs with key.
func NewMinter(key ed25519.PrivateKey, opts *MinterOptions) (*Minter, error) {
	if len(key) != ed25519.PrivateKeySize {
		return nil, errors.New("credential: minter key is not an Ed25519 private key")
	}
	if opts == nil {
		opts = &MinterOptions{}
	}
	ttl := opts.TTL
	switch {
	case ttl == 0:
		ttl = DefaultTTL
	case ttl < time.Second:
		// exp has a resolution of one second: a shorter TTL could mint a
		// credential that is already expired.
		return nil, fmt.Errorf("credential: TTL %v is under 1s", ttl)
	case ttl > MaxTTL:
		return nil, fmt.Errorf("credential: TTL %v exceeds the maximum of %v", ttl, MaxTTL)
	}
	pub := key.Public().(ed25519.PublicKey)
	return &Minter{key: key, kid: KeyID(pub), ttl: ttl}, nil
}

// PublicKey returns the key a [Verifier] needs to check m's credentials.
func (m *Minter) PublicKey() ed25519.PublicKey {
	return m.key.Public().(ed25519.PublicKey)
}

// Mint returns a credential for p, valid for audience only, until the
// Minter's TTL has passed or p.NotAfter, whichever is first. A credential
// minted earlier for the same audience and principal is returned again
// while at least half its life is left (see cache.go).
func (m *Minter) Mint(audience string, p Principal) (string, error) {
	if audience == "" {
		return "", errors.New("credential: empty audience")
	}
	if p.Subject == "" {
		return "", errors.New("credential: empty subject")
	}
	now := time.Now()
	exp := now.Add(m.ttl)
	if !p.NotAfter.IsZero() && p.NotAfter.Before(exp) {
		exp = p.NotAfter
	}
	// exp is truncated to whole seconds, so an exp within the current second
	// is already past.
	if exp.Truncate(time.Second).Compare(now) <= 0 {
		return "", errors.New("credential: principal's token has expired")
	}
	key := newMintKey(audience, p)
	if tok, ok := m.cache.get(key, now); ok {
		return tok, nil
	}
	claims := wireClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    Issuer,
			Subject:   p.Subject,
			Audience:  jwt.ClaimStrings{audience},
			ExpiresAt: jwt.NewNumericDate(exp),
			IssuedAt:  jwt.NewNumericDate(now),
			ID:        rand.Text(),
		},
		Scope: joinScopes(p.Scopes),
	}
	tok := jwt.NewWithClaims(algorithm, claims)
	tok.Header["kid"] = m.kid
	s, err := tok.SignedString(m.key)
	if err != nil {
		return "", fmt.Errorf("credential: sign: %w", err)
	}
	m.cache.put(key, s, now.Add(exp.Truncate(time.Second).Sub(now)/2))
	return s, nil
}

// OutgoingContext mints a credential for p and audience, and returns a child
// of ctx whose outgoing gRPC metadata carries it under [MetadataKey],
// replacing any credential ctx already carried.
func (m *Minter) OutgoingContext(ctx context.Context, audience string, p Principal) (context.Context, error) {
	tok, err := m.Mint(audience, p)
	if err != nil {
		return ctx, err
	}
	md, _ := metadata.FromOutgoingContext(ctx)
	md = md.Copy()
	md.Set(MetadataKey, tok)
	return metadata.NewOutgoingContext(ctx, md), nil
}

// FromIncomingContext returns the credential in ctx's incoming gRPC
// metadata. It fails with [ErrMissing] if there is none, and [ErrMalformed]
// if there is more than one: a caller must not make a backend choose.
func FromIncomingContext(ctx context.Context) (string, error) {
	vals := metadata.ValueFromIncomingContext(ctx, MetadataKey)
	switch len(vals) {
	case 0:
		return "", ErrMissing
	case 1:
		if vals[0] == "" {
			return "", ErrMissing
		}
		return vals[0], nil
	default:
		return "", ErrMalformed
	}
}
