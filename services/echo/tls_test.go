package echo_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/toolwire/toolwire/internal/tlsfiles/tlsfilestest"
	"github.com/toolwire/toolwire/services/echo"
)

// TestRunTLSErrors: TLS settings that cannot be served stop Run before it
// listens.
func TestRunTLSErrors(t *testing.T) {
	ca := tlsfilestest.NewCA(t, "ca")
	dir := t.TempDir()
	cert, key, otherKey := filepath.Join(dir, "a.crt"), filepath.Join(dir, "a.key"), filepath.Join(dir, "b.key")
	ca.Issue(t, "a").Write(t, cert, key)
	ca.Issue(t, "b").Write(t, filepath.Join(dir, "b.crt"), otherKey)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, tc := range []struct {
		name string
		cfg  echo.Config
		want string
	}{
		{"client CA without a certificate", echo.Config{ClientCA: cert}, "echo: --client-ca needs --tls-cert and --tls-key"},
		{"certificate without a key", echo.Config{TLSCert: cert}, "echo: tls: a certificate file needs a key file, and a key file a certificate file"},
		{"mismatched pair", echo.Config{TLSCert: cert, TLSKey: otherKey}, "echo: tls: certificate " + cert + ", key " + otherKey + ": tls: private key does not match public key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.Addr, tc.cfg.Logger = "127.0.0.1:0", quiet
			if err := echo.Run(context.Background(), tc.cfg); err == nil || err.Error() != tc.want {
				t.Errorf("Run = %v, want %q", err, tc.want)
			}
		})
	}
}
