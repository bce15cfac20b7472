package app

import "flag"

// registerSecurityFlags registers authentication and transport security
// flags (issue 5). The TLS files are read again when they change (see
// internal/tlsfiles), so none of them needs a restart to rotate.
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
		fs.StringVar(&cfg.StateKeyFile, "state-key-file", "", "file of the secret (at least 32 bytes) that seals the requestState of 2026-07-28 calls asking their client for input; replicas behind one URL must share it (default: a random key per process)")
		fs.BoolVar(&cfg.Insecure, "insecure", false, "allow listening on a non-loopback address without authentication")
	}
	switch cmd {
	case "demo", "serve":
		fs.StringVar(&cfg.TLSCert, "tls-cert", "", "PEM certificate chain to serve HTTPS with (needs --tls-key; TLS 1.2 or later; reloaded when the file changes)")
		fs.StringVar(&cfg.TLSKey, "tls-key", "", "PEM private key of --tls-cert (reloaded when the file changes)")
	}
	// Where the edge dials backends over the network (and `toolwire health`,
	// which checks one the same way).
	switch cmd {
	case "serve", "stdio", "health":
		fs.StringVar(&cfg.BackendCA, "backend-ca", "", "PEM CA bundle to verify backends' certificates with: dials backends over TLS (default: plaintext)")
		fs.StringVar(&cfg.BackendCert, "backend-cert", "", "PEM client certificate to present to backends, for mutual TLS (needs --backend-key; dials over TLS, verified by the system roots without --backend-ca)")
		fs.StringVar(&cfg.BackendKey, "backend-key", "", "PEM private key of --backend-cert")
		fs.StringVar(&cfg.BackendServerName, "backend-server-name", "", "name the backends' certificates must carry, instead of the host dialled")
	}
}
