package credential_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"google.golang.org/grpc/metadata"

	"github.com/toolwire/toolwire/internal/credential"
)

const aud = "search"

// keys is an edge key pair, with a Minter and a Verifier for aud.
type keys struct {
	pub    ed25519.PublicKey
	priv   ed25519.PrivateKey
	minter *credential.Minter
	ver    *credential.Verifier
}

func newKeys(t *testing.T) keys {
	t.Helper()
	pub, priv, err := credential.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	m, err := credential.NewMinter(priv, nil)
	if err != nil {
		t.Fatal(err)
	}
	v, err := credential.NewVerifier([]ed25519.PublicKey{pub}, []string{aud}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return keys{pub, priv, m, v}
}

// sign makes a token by hand, for the shapes a Minter never mints.
func sign(t *testing.T, method jwt.SigningMethod, key any, kid string, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// good returns the claims of a valid credential for aud, now.
func good() jwt.MapClaims {
	now := time.Now()
	return jwt.MapClaims{
		"iss": credential.Issuer, "sub": "alice", "aud": []string{aud},
		"iat": now.Unix(), "exp": now.Add(time.Minute).Unix(), "jti": "j1", "scope": "a b",
	}
}

func with(c jwt.MapClaims, kv ...any) jwt.MapClaims {
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(c, kv[i].(string))
			continue
		}
		c[kv[i].(string)] = kv[i+1]
	}
	return c
}

func TestMintVerify(t *testing.T) {
	k := newKeys(t)
	tok, err := k.minter.Mint(aud, credential.Principal{Subject: "alice", Scopes: []string{"search:read", "x"}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := k.ver.Verify(tok)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	want := &credential.Claims{Subject: "alice", Scopes: []string{"search:read", "x"}, Audience: aud}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(credential.Claims{}, "ID", "IssuedAt", "Expiry")); diff != "" {
		t.Errorf("claims (-want +got):\n%s", diff)
	}
	if len(got.ID) < 20 {
		t.Errorf("jti %q: want a random id of 20+ characters", got.ID)
	}
	if ttl := got.Expiry.Sub(got.IssuedAt); ttl != credential.DefaultTTL {
		t.Errorf("exp-iat = %v, want %v", ttl, credential.DefaultTTL)
	}
	if d := time.Since(got.IssuedAt); d < -time.Second || d > 2*time.Second {
		t.Errorf("iat %v is not now", got.IssuedAt)
	}
	if !got.HasScopes("x", "search:read") || got.HasScopes("search:write") {
		t.Errorf("HasScopes wrong for %v", got.Scopes)
	}
	// Two credentials for the same call differ by jti.
	tok2, _ := k.minter.Mint(aud, credential.Principal{Subject: "alice"})
	got2, err := k.ver.Verify(tok2)
	if err != nil || got2.ID == got.ID {
		t.Errorf("second credential: jti %q (first %q), err %v", got2.ID, got.ID, err)
	}
}

func TestVerifyRefuses(t *testing.T) {
	k := newKeys(t)
	kid := credential.KeyID(k.pub)
	_, otherPriv, _ := credential.GenerateKey()
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	valid := sign(t, jwt.SigningMethodEdDSA, k.priv, kid, good())
	if _, err := k.ver.Verify(valid); err != nil {
		t.Fatalf("the valid token the cases start from is refused: %v", err)
	}
	parts := strings.Split(valid, ".")
	forged := base64.RawURLEncoding.EncodeToString([]byte(`{"iss":"toolwire-edge","sub":"root","aud":["search"],"iat":1,"exp":99999999999,"jti":"x","scope":"admin"}`))
	past := time.Now().Add(-10 * time.Minute)
	future := time.Now().Add(10 * time.Minute)

	tests := []struct {
		name  string
		token string
		want  error
	}{
		{"missing", "", credential.ErrMissing},
		{"not a JWT", "hello", credential.ErrMalformed},
		{"three garbage segments", "a.b.c", credential.ErrMalformed},
		{"oversized", strings.Repeat("a", 9<<10), credential.ErrMalformed},
		{"tampered payload", parts[0] + "." + forged + "." + parts[2], credential.ErrSignature},
		{"signed by another key, our kid", sign(t, jwt.SigningMethodEdDSA, otherPriv, kid, good()), credential.ErrSignature},
		{"signed by another key, its kid", sign(t, jwt.SigningMethodEdDSA, otherPriv, credential.KeyID(otherPriv.Public().(ed25519.PublicKey)), good()), credential.ErrSignature},
		{"no kid", sign(t, jwt.SigningMethodEdDSA, k.priv, "", good()), credential.ErrSignature},
		{"wrong audience", sign(t, jwt.SigningMethodEdDSA, k.priv, kid, with(good(), "aud", []string{"notify"})), credential.ErrAudience},
		{"no audience", sign(t, jwt.SigningMethodEdDSA, k.priv, kid, with(good(), "aud", nil)), credential.ErrMalformed},
		{"wrong issuer", sign(t, jwt.SigningMethodEdDSA, k.priv, kid, with(good(), "iss", "someone-else")), credential.ErrIssuer},
		{"expired (replayed after exp)", sign(t, jwt.SigningMethodEdDSA, k.priv, kid, with(good(), "iat", past.Add(-time.Minute).Unix(), "exp", past.Unix())), credential.ErrExpired},
		{"no exp", sign(t, jwt.SigningMethodEdDSA, k.priv, kid, with(good(), "exp", nil)), credential.ErrMalformed},
		{"issued in the future", sign(t, jwt.SigningMethodEdDSA, k.priv, kid, with(good(), "iat", future.Unix(), "exp", future.Add(time.Minute).Unix())), credential.ErrNotYetValid},
		{"nbf in the future", sign(t, jwt.SigningMethodEdDSA, k.priv, kid, with(good(), "nbf", future.Unix())), credential.ErrNotYetValid},
		{"no subject", sign(t, jwt.SigningMethodEdDSA, k.priv, kid, with(good(), "sub", nil)), credential.ErrMalformed},
		{"no jti", sign(t, jwt.SigningMethodEdDSA, k.priv, kid, with(good(), "jti", nil)), credential.ErrMalformed},
		{"no iat", sign(t, jwt.SigningMethodEdDSA, k.priv, kid, with(good(), "iat", nil)), credential.ErrMalformed},
		{"alg none", sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, kid, good()), credential.ErrAlgorithm},
		{"HS256 with the public key as secret", sign(t, jwt.SigningMethodHS256, []byte(k.pub), kid, good()), credential.ErrAlgorithm},
		{"RS256", sign(t, jwt.SigningMethodRS256, rsaKey, kid, good()), credential.ErrAlgorithm},
		{"ES256", sign(t, jwt.SigningMethodES256, ecKey, kid, good()), credential.ErrAlgorithm},
		{"unknown alg", strings.Replace(valid, parts[0], base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"XX","kid":"`+kid+`"}`)), 1), credential.ErrAlgorithm},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := k.ver.Verify(tt.token)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify = %+v, %v; want %v", got, err, tt.want)
			}
			if got != nil {
				t.Errorf("Verify returned claims %+v with an error", got)
			}
			if tt.want != credential.ErrMissing && !errors.Is(err, credential.ErrInvalid) {
				t.Errorf("%v does not wrap ErrInvalid", err)
			}
		})
	}
}

// TestExpiredReplay replays a minted credential after its exp, on a fake
// clock: accepted within the TTL plus skew, refused after.
func TestExpiredReplay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		k := newKeys(t)
		tok, err := k.minter.Mint(aud, credential.Principal{Subject: "alice"})
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(credential.DefaultTTL + credential.DefaultClockSkew - time.Second)
		if _, err := k.ver.Verify(tok); err != nil {
			t.Fatalf("within TTL+skew: %v", err)
		}
		time.Sleep(2 * time.Second)
		if _, err := k.ver.Verify(tok); !errors.Is(err, credential.ErrExpired) {
			t.Fatalf("after TTL+skew: %v, want ErrExpired", err)
		}
	})
}

func TestNotAfterBoundsExpiry(t *testing.T) {
	k := newKeys(t)
	notAfter := time.Now().Add(10 * time.Second)
	tok, err := k.minter.Mint(aud, credential.Principal{Subject: "alice", NotAfter: notAfter})
	if err != nil {
		t.Fatal(err)
	}
	c, err := k.ver.Verify(tok)
	if err != nil {
		t.Fatal(err)
	}
	if c.Expiry.After(notAfter) || c.Expiry.Before(notAfter.Add(-time.Second)) {
		t.Errorf("exp %v, want the principal's NotAfter %v truncated to the second", c.Expiry, notAfter)
	}
	if _, err := k.minter.Mint(aud, credential.Principal{Subject: "alice", NotAfter: time.Now().Add(-time.Second)}); err == nil {
		t.Error("Mint for an expired principal succeeded")
	}
}

func TestMinterVerifierConfig(t *testing.T) {
	pub, priv, _ := credential.GenerateKey()
	for _, ttl := range []time.Duration{credential.MaxTTL + time.Second, time.Millisecond} {
		if _, err := credential.NewMinter(priv, &credential.MinterOptions{TTL: ttl}); err == nil {
			t.Errorf("NewMinter(TTL %v) succeeded", ttl)
		}
	}
	if _, err := credential.NewMinter(nil, nil); err == nil {
		t.Error("NewMinter(nil key) succeeded")
	}
	m, err := credential.NewMinter(priv, &credential.MinterOptions{TTL: credential.MaxTTL})
	if err != nil {
		t.Fatal(err)
	}
	if !m.PublicKey().Equal(pub) {
		t.Error("PublicKey is not the key pair's")
	}
	if _, err := m.Mint("", credential.Principal{Subject: "a"}); err == nil {
		t.Error("Mint with no audience succeeded")
	}
	if _, err := m.Mint(aud, credential.Principal{}); err == nil {
		t.Error("Mint with no subject succeeded")
	}
	if _, err := credential.NewVerifier(nil, []string{aud}, nil); err == nil {
		t.Error("NewVerifier with no keys succeeded")
	}
	if _, err := credential.NewVerifier([]ed25519.PublicKey{pub}, nil, nil); err == nil {
		t.Error("NewVerifier with no audience succeeded")
	}
	// A verifier for several audiences reports the one that matched.
	v, err := credential.NewVerifier([]ed25519.PublicKey{pub}, []string{"a", "b"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	tok, _ := m.Mint("b", credential.Principal{Subject: "s"})
	if c, err := v.Verify(tok); err != nil || c.Audience != "b" {
		t.Errorf("Verify = %+v, %v; want audience b", c, err)
	}
}

// TestKeyID checks the thumbprint against RFC 8037 Appendix A.3.
func TestKeyID(t *testing.T) {
	x, _ := base64.RawURLEncoding.DecodeString("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo")
	if got, want := credential.KeyID(ed25519.PublicKey(x)), "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"; got != want {
		t.Errorf("KeyID = %q, want %q", got, want)
	}
}

// TestPEMFiles writes a key pair and a rotated public key to PEM files, and
// loads them as edge and backend would.
func TestPEMFiles(t *testing.T) {
	dir := t.TempDir()
	pub, priv, _ := credential.GenerateKey()
	next, _, _ := credential.GenerateKey()
	privPEM, err := credential.MarshalPrivateKeyPEM(priv)
	if err != nil {
		t.Fatal(err)
	}
	var pubPEM []byte
	for _, k := range []ed25519.PublicKey{next, pub} {
		b, err := credential.MarshalPublicKeyPEM(k)
		if err != nil {
			t.Fatal(err)
		}
		pubPEM = append(pubPEM, b...)
	}
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	privPath, pubPath := write("edge.key", privPEM), write("edge.pub", pubPEM)

	gotPriv, err := credential.LoadPrivateKey(privPath)
	if err != nil {
		t.Fatal(err)
	}
	gotPubs, err := credential.LoadPublicKeys(pubPath)
	if err != nil {
		t.Fatal(err)
	}
	if len(gotPubs) != 2 || !gotPubs[1].Equal(pub) || !gotPubs[0].Equal(next) {
		t.Fatalf("LoadPublicKeys: got %d keys, not the two written", len(gotPubs))
	}
	m, _ := credential.NewMinter(gotPriv, nil)
	v, _ := credential.NewVerifier(gotPubs, []string{aud}, nil)
	tok, _ := m.Mint(aud, credential.Principal{Subject: "alice"})
	if _, err := v.Verify(tok); err != nil {
		t.Errorf("credential from the loaded private key, checked with the loaded public keys: %v", err)
	}

	// Wrong files are refused.
	if _, err := credential.LoadPrivateKey(pubPath); err == nil {
		t.Error("LoadPrivateKey accepted a public key file")
	}
	if _, err := credential.LoadPublicKeys(privPath); err == nil {
		t.Error("LoadPublicKeys accepted a private key file")
	}
	if _, err := credential.LoadPublicKeys(write("empty.pub", nil)); err == nil {
		t.Error("LoadPublicKeys accepted an empty file")
	}
	if _, err := credential.LoadPrivateKey(filepath.Join(dir, "absent")); err == nil {
		t.Error("LoadPrivateKey accepted a missing file")
	}
}

func TestMetadata(t *testing.T) {
	k := newKeys(t)
	ctx := metadata.AppendToOutgoingContext(context.Background(), "x-request-id", "r1", credential.MetadataKey, "stale")
	out, err := k.minter.OutgoingContext(ctx, aud, credential.Principal{Subject: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	md, _ := metadata.FromOutgoingContext(out)
	if got := md.Get("x-request-id"); len(got) != 1 {
		t.Errorf("x-request-id lost: %v", got)
	}
	if got := md.Get(credential.MetadataKey); len(got) != 1 || got[0] == "stale" {
		t.Fatalf("credential metadata = %v, want one fresh credential", got)
	}
	in := metadata.NewIncomingContext(context.Background(), md)
	c, err := k.ver.VerifyIncoming(in)
	if err != nil || c.Subject != "alice" {
		t.Fatalf("VerifyIncoming = %+v, %v", c, err)
	}

	if _, err := k.ver.VerifyIncoming(context.Background()); !errors.Is(err, credential.ErrMissing) {
		t.Errorf("no metadata: %v, want ErrMissing", err)
	}
	two := metadata.NewIncomingContext(context.Background(), metadata.Pairs(credential.MetadataKey, "a", credential.MetadataKey, "b"))
	if _, err := k.ver.VerifyIncoming(two); !errors.Is(err, credential.ErrMalformed) {
		t.Errorf("two credentials: %v, want ErrMalformed", err)
	}

	if _, ok := credential.FromContext(context.Background()); ok {
		t.Error("FromContext found claims in an empty context")
	}
	got, ok := credential.FromContext(credential.NewContext(context.Background(), c))
	if !ok || got != c {
		t.Errorf("FromContext = %v, %v", got, ok)
	}
}

// The Minter reuses a credential for the same audience and principal while
// half its life is left; the Verifier answers a credential it verified from
// its cache, but never once it has expired.
func TestCaches(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		k := newKeys(t)
		alice := credential.Principal{Subject: "alice", Scopes: []string{"a"}}
		mint := func(audience string, p credential.Principal) string {
			t.Helper()
			tok, err := k.minter.Mint(audience, p)
			if err != nil {
				t.Fatal(err)
			}
			return tok
		}
		first := mint(aud, alice)
		if again := mint(aud, alice); again != first {
			t.Error("a second Mint for the same audience and principal signed a new credential")
		}
		for name, p := range map[string]credential.Principal{
			"other scopes":  {Subject: "alice", Scopes: []string{"a", "b"}},
			"other subject": {Subject: "bob", Scopes: []string{"a"}},
			"a NotAfter":    {Subject: "alice", Scopes: []string{"a"}, NotAfter: time.Now().Add(time.Hour)},
		} {
			if mint(aud, p) == first {
				t.Errorf("%s: got alice's credential", name)
			}
		}
		if _, err := k.minter.Mint("other.v1.Service", alice); err != nil {
			t.Fatal(err)
		} else if tok := mint("other.v1.Service", alice); tok == first {
			t.Error("another audience got the same credential")
		}
		c1, err := k.ver.Verify(first)
		if err != nil {
			t.Fatal(err)
		}
		if c2, err := k.ver.Verify(first); err != nil || c2.ID != c1.ID {
			t.Fatalf("second Verify: %v, %v", c2, err)
		}
		time.Sleep(credential.DefaultTTL/2 + time.Second)
		renewed := mint(aud, alice)
		if renewed == first {
			t.Error("past half its life, the credential was reused")
		}
		if c, err := k.ver.Verify(renewed); err != nil || c.ID == c1.ID {
			t.Errorf("renewed credential: %v, %v", c, err)
		}
		time.Sleep(credential.DefaultTTL/2 + credential.DefaultClockSkew + time.Second)
		if _, err := k.ver.Verify(first); !errors.Is(err, credential.ErrExpired) {
			t.Errorf("an expired credential the Verifier had cached: %v, want ErrExpired", err)
		}
	})
}
