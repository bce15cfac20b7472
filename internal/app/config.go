package app

import (
	"io"
	"log/slog"
	"time"
)

// Config is what every command of cmd/toolwire is run with.
type Config struct {
	// Addr is the HTTP listen address, host:port; port 0 picks a free one.
	Addr string
	// Backends are gRPC backend addresses (serve).
	Backends []string
	// DatabaseURL, when set, backs the demo's search service with PostgreSQL
	// instead of the embedded corpus.
	DatabaseURL string
	// Services names the example backends the demo runs (demo, stdio --demo,
	// tools): "echo", "search", "conformance". Empty means
	// [DefaultDemoServices].
	Services []string
	// DefaultTimeout and MaxTimeout bound tool calls; zero takes the edge's
	// defaults.
	DefaultTimeout, MaxTimeout time.Duration
	// AllowedHosts and AllowedOrigins widen the Host/Origin guard beyond
	// loopback.
	AllowedHosts, AllowedOrigins []string
	// AuthJWKSURL, AuthIssuer and AuthAudience turn on JWT authentication:
	// the authorization server's JWKS, its issuer, and the edge's own
	// resource URL, which tokens must be issued for.
	AuthJWKSURL, AuthIssuer, AuthAudience string
	// AuthAPIKeys is a YAML file of hashed API keys for service accounts
	// (hash, subject, scopes); it turns on authentication too.
	AuthAPIKeys string
	// CredentialKey is the PEM file of the Ed25519 private key the edge
	// mints backend credentials with (serve); the demo generates one.
	CredentialKey string
	// StateKeyFile is the file of the secret that seals the requestState of
	// 2026-07-28 calls that ask their client for input; every replica a
	// client's retry may reach must share it. Empty: a random key per
	// process.
	StateKeyFile string
	// Insecure lets serve listen on a non-loopback address without
	// authentication.
	Insecure bool
	// TLSCert and TLSKey are the PEM certificate chain and private key the
	// edge serves HTTPS with, reloaded when they change; empty serves
	// plain HTTP.
	TLSCert, TLSKey string
	// BackendCA, BackendCert and BackendKey make the edge dial backends
	// over TLS: their certificates verified against BackendCA (else the
	// system roots), and BackendCert presented for mutual TLS.
	// BackendServerName, if set, is the name their certificates must carry
	// instead of the host dialled.
	BackendCA, BackendCert, BackendKey, BackendServerName string
	// CatalogRefresh is how often the edge reads its backends' services
	// again, to follow contracts that change (refresh.go); it also does on
	// each reconnect. Zero means DefaultCatalogRefresh; negative, never.
	CatalogRefresh time.Duration
	// PageSize is the most items one MCP list page holds; zero means the
	// SDK's default.
	PageSize int
	// Limits are the resource limits (limits.go); zero means the defaults.
	Limits LimitsConfig
	// Version is reported to clients.
	Version string
	// Logger is where the process logs; nil means slog.Default().
	Logger *slog.Logger
	// Out is where human-readable output goes (the demo banner, the catalog).
	Out io.Writer
}

func (c *Config) logger() *slog.Logger {
	if c.Logger != nil {
		return c.Logger
	}
	return slog.Default()
}
