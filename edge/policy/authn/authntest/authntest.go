// Package authntest is a fake OAuth authorization server for tests: it
// serves a JWK Set on loopback and signs access tokens with the keys in it.
package authntest

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/golang-jwt/jwt/v5"
)

// The kids of the keys a new Issuer publishes.
const (
	KidRSA = "rsa-1"
	KidEC  = "ec-1"
	KidEd  = "ed-1"
)

// Issuer is a fake authorization server. Its URL is both its issuer
// identifier and the base of its JWKS URL. Create one with [NewIssuer].
type Issuer struct {
	// URL is the issuer identifier, an http://127.0.0.1 URL.
	URL string
	// JWKSURL serves the published keys.
	JWKSURL string

	hits atomic.Int64

	mu        sync.Mutex
	keys      map[string]signingKey // by kid: every key it can sign with
	published []string              // kids in the JWKS, in order
	jwks      []byte
}

type signingKey struct {
	key crypto.Signer
	alg jwt.SigningMethod
}

// NewIssuer starts an Issuer on loopback that publishes an RSA (RS256), an
// EC P-256 (ES256) and an Ed25519 (EdDSA) key, named [KidRSA], [KidEC] and
// [KidEd]. It stops when the test ends.
func NewIssuer(t testing.TB) *Issuer {
	t.Helper()
	iss := &Issuer{keys: map[string]signingKey{}}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	iss.AddKey(t, KidRSA, rsaKey, jwt.SigningMethodRS256, true)
	iss.AddKey(t, KidEC, ecKey, jwt.SigningMethodES256, true)
	iss.AddKey(t, KidEd, edKey, jwt.SigningMethodEdDSA, true)

	// httptest.NewServer listens on 127.0.0.1.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/jwks.json" {
			http.NotFound(w, r)
			return
		}
		iss.hits.Add(1)
		iss.mu.Lock()
		body := iss.jwks
		iss.mu.Unlock()
		w.Header().Set("Content-Type", "application/jwk-set+json")
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)
	iss.URL = srv.URL
	iss.JWKSURL = srv.URL + "/jwks.json"
	return iss
}

// Hits returns how many times the JWKS was fetched.
func (iss *Issuer) Hits() int64 { return iss.hits.Load() }

// AddKey makes key, under kid, available to [Issuer.Sign], and publishes its
// public half in the JWKS if publish is true. Publishing a key later is a
// key rotation.
func (iss *Issuer) AddKey(t testing.TB, kid string, key crypto.Signer, alg jwt.SigningMethod, publish bool) {
	t.Helper()
	iss.mu.Lock()
	defer iss.mu.Unlock()
	iss.keys[kid] = signingKey{key: key, alg: alg}
	if publish {
		iss.published = append(iss.published, kid)
		iss.rebuild(t)
	}
}

// rebuild re-marshals the JWKS; iss.mu is held.
func (iss *Issuer) rebuild(t testing.TB) {
	store := jwkset.NewMemoryStorage()
	ctx := context.Background()
	for _, kid := range iss.published {
		k := iss.keys[kid]
		jwk, err := jwkset.NewJWKFromKey(k.key.Public(), jwkset.JWKOptions{Metadata: jwkset.JWKMetadataOptions{
			KID: kid, ALG: jwkset.ALG(k.alg.Alg()), USE: jwkset.UseSig,
		}})
		if err != nil {
			t.Fatal(err)
		}
		if err := store.KeyWrite(ctx, jwk); err != nil {
			t.Fatal(err)
		}
	}
	raw, err := store.JSONPublic(ctx)
	if err != nil {
		t.Fatal(err)
	}
	iss.jwks = raw
}

// PublicKey returns the public key published under kid.
func (iss *Issuer) PublicKey(kid string) crypto.PublicKey {
	iss.mu.Lock()
	defer iss.mu.Unlock()
	return iss.keys[kid].key.Public()
}

// PrivateKey returns the private key added under kid, for tokens that
// [Issuer.Sign] would not make: another algorithm, another kid.
func (iss *Issuer) PrivateKey(kid string) crypto.Signer {
	iss.mu.Lock()
	defer iss.mu.Unlock()
	return iss.keys[kid].key
}

// Claims returns the claims of a valid token from iss for audience:
// subject "alice", the given scopes, issued now, expiring in 5 minutes.
func (iss *Issuer) Claims(audience string, scopes string) jwt.MapClaims {
	now := time.Now()
	return jwt.MapClaims{
		"iss": iss.URL, "sub": "alice", "aud": audience, "scope": scopes,
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(),
	}
}

// Sign returns claims signed with the key added under kid, with its
// algorithm, and kid in the header.
func (iss *Issuer) Sign(t testing.TB, kid string, claims jwt.MapClaims) string {
	t.Helper()
	iss.mu.Lock()
	k, ok := iss.keys[kid]
	iss.mu.Unlock()
	if !ok {
		t.Fatalf("authntest: no key %q", kid)
	}
	return Sign(t, k.alg, k.key, kid, claims)
}

// Sign returns claims signed with key and alg, with kid in the header
// unless kid is empty. Adversarial tests use it to sign with the wrong
// algorithm, key or kid.
func Sign(t testing.TB, alg jwt.SigningMethod, key any, kid string, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(alg, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
