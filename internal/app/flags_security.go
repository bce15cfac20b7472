package app

import "flag"

// registerSecurityFlags registers authentication and transport security
// flags (issue 5).
func registerSecurityFlags(cmd string, fs *flag.FlagSet, cfg *Config) {
	switch cmd {
	case "demo", "serve":
		fs.StringVar(&cfg.AuthJWKSURL, "auth-jwks-url", "", "authorization server's JWKS URL: turns on JWT authentication (needs --auth-issuer, --auth-audience)")
		fs.StringVar(&cfg.AuthIssuer, "auth-issuer", "", "issuer (iss) every access token must carry")
		fs.StringVar(&cfg.AuthAudience, "auth-audience", "", "the edge's resource URL (e.g. https://edge.example/mcp): the aud every token must include, and the resource of /.well-known/oauth-protected-resource")
		fs.StringVar(&cfg.AuthAPIKeys, "auth-api-keys", "", "YAML file of hashed API keys (hash, subject, scopes): turns on API-key authentication")
	}
	if cmd == "serve" {
		fs.StringVar(&cfg.CredentialKey, "credential-key", "", "PEM file of the Ed25519 private key the edge signs backend credentials with (backends check them with --credential-keys)")
		fs.BoolVar(&cfg.Insecure, "insecure", false, "allow listening on a non-loopback address without authentication")
	}
}
