package authn_test

import (
	"context"
	"testing"

	"github.com/toolwire/toolwire/edge/policy/authn"
	"github.com/toolwire/toolwire/edge/policy/authn/authntest"
)

// BenchmarkVerify measures Authenticator.Verify on a session's repeated
// token, with and without a SessionCache, for each default algorithm and an
// API key.
func BenchmarkVerify(b *testing.B) {
	iss := authntest.NewIssuer(b)
	v := newVerifier(b, iss, authn.JWTConfig{Logger: discardLogger()})
	key, hash := authn.GenerateAPIKey()
	keys, err := authn.NewAPIKeys([]authn.APIKey{{Hash: hash, Subject: "svc", Scopes: []string{baseScope}}})
	if err != nil {
		b.Fatal(err)
	}
	tokens := []struct{ name, tok string }{
		{"RS256", iss.Sign(b, authntest.KidRSA, iss.Claims(resource, baseScope))},
		{"ES256", iss.Sign(b, authntest.KidEC, iss.Claims(resource, baseScope))},
		{"EdDSA", iss.Sign(b, authntest.KidEd, iss.Claims(resource, baseScope))},
		{"APIKey", key},
	}
	for _, cached := range []bool{false, true} {
		opts := &authn.Options{Tokens: v, APIKeys: keys}
		name := "nocache"
		if cached {
			opts.Cache = authn.NewSessionCache(nil)
			name = "cache"
		}
		a, err := authn.New(opts)
		if err != nil {
			b.Fatal(err)
		}
		for _, tk := range tokens {
			b.Run(tk.name+"/"+name, func(b *testing.B) {
				ctx := context.Background()
				if _, err := a.Verify(ctx, "session-1", tk.tok); err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				for b.Loop() {
					if _, err := a.Verify(ctx, "session-1", tk.tok); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
