package search

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/toolwire/toolwire/internal/tlsfiles/tlsfilestest"
	"github.com/toolwire/toolwire/server"
)

// TestRunTLSErrors: TLS settings that cannot be served stop Run before it
// opens its store or listens; the database URL below would fail otherwise.
func TestRunTLSErrors(t *testing.T) {
	ca := tlsfilestest.NewCA(t, "ca")
	dir := t.TempDir()
	cert, key := filepath.Join(dir, "a.crt"), filepath.Join(dir, "a.key")
	ca.Issue(t, "a").Write(t, cert, key)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"client CA without a certificate", Config{ServiceConfig: server.ServiceConfig{ClientCA: cert}}, "search: --client-ca needs --tls-cert and --tls-key"},
		{"key without a certificate", Config{ServiceConfig: server.ServiceConfig{TLSKey: key}}, "search: tls: a certificate file needs a key file, and a key file a certificate file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.Addr, tc.cfg.Logger = "127.0.0.1:0", quiet
			tc.cfg.DatabaseURL = "postgres://nobody@127.0.0.1:1/none?connect_timeout=1"
			if err := Run(context.Background(), tc.cfg); err == nil || err.Error() != tc.want {
				t.Errorf("Run = %v, want %q", err, tc.want)
			}
		})
	}
}
