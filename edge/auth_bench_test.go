package edge

import (
	"context"
	"crypto/ed25519"
	"testing"

	"github.com/toolwire/toolwire/edge/policy/authn"
	"github.com/toolwire/toolwire/edge/policy/authn/authntest"
	"github.com/toolwire/toolwire/internal/credential"
	"github.com/toolwire/toolwire/server"
)

// BenchmarkAuth is BenchmarkFastPath's session call with authentication on,
// to measure what auth adds per call through the edge handler: the
// middleware, the scope check in the bridge, and the credential minted for
// the backend (which the in-process backend verifies).
//
//   - off: no authentication, the baseline;
//   - jwt: an RS256 access token, verified on every call;
//   - jwt-cache: the same, with the per-session cache of verified tokens;
//   - apikey: a service account's API key.
func BenchmarkAuth(b *testing.B) {
	iss := authntest.NewIssuer(b)
	const aud = "https://edge.test/mcp"
	jwtv, err := authn.NewJWTVerifier(context.Background(), authn.JWTConfig{JWKSURL: iss.JWKSURL, Issuer: iss.URL, Audience: aud})
	if err != nil {
		b.Fatal(err)
	}
	key, hash := authn.GenerateAPIKey()
	keys, err := authn.NewAPIKeys([]authn.APIKey{{Hash: hash, Subject: "svc"}})
	if err != nil {
		b.Fatal(err)
	}
	token := iss.Sign(b, authntest.KidRSA, iss.Claims(aud, "search:read"))
	for _, tc := range []struct {
		name   string
		bearer string
		cache  bool
		off    bool
	}{
		{"off", "", false, true},
		{"jwt", token, false, false},
		{"jwt-cache", token, true, false},
		{"apikey", key, false, false},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var opts Options
			var sopts server.Options
			if !tc.off {
				ao := &authn.Options{Tokens: jwtv, APIKeys: keys}
				if tc.cache {
					ao.Cache = authn.NewSessionCache(nil)
				}
				if opts.Auth, err = authn.New(ao); err != nil {
					b.Fatal(err)
				}
				pub, priv, _ := credential.GenerateKey()
				if opts.Credentials, err = credential.NewMinter(priv, nil); err != nil {
					b.Fatal(err)
				}
				if sopts.Credentials, err = credential.NewVerifier([]ed25519.PublicKey{pub}, []string{"examples.echo.v1.EchoService"}, nil); err != nil {
					b.Fatal(err)
				}
			}
			h := benchEdge(b, &sopts, &opts)
			hdr := map[string]string{}
			if tc.bearer != "" {
				hdr["Authorization"] = "Bearer " + tc.bearer
			}
			hdr[headerSessionID] = benchSession(b, h, hdr)
			hdr[headerProtocolVersion] = "2025-11-25"
			benchCalls(b, h, benchSessionCall, hdr)
		})
	}
}
