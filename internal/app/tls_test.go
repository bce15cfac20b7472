package app

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/toolwire/toolwire/internal/tlsfiles/tlsfilestest"
	"github.com/toolwire/toolwire/services/echo"
)

// tlsDir writes a pair signed by ca and returns its cert and key paths.
func tlsDir(t *testing.T, ca *tlsfilestest.CA, name string) (cert, key string) {
	t.Helper()
	dir := t.TempDir()
	cert, key = filepath.Join(dir, name+".crt"), filepath.Join(dir, name+".key")
	ca.Issue(t, name).Write(t, cert, key)
	return cert, key
}

// TestDemoTLS: with --tls-cert the demo prints https URLs and serves them,
// HTTP/2 included.
func TestDemoTLS(t *testing.T) {
	ca := tlsfilestest.NewCA(t, "ca")
	cert, key := tlsDir(t, ca, "edge")
	ctx, cancel := context.WithCancel(context.Background())
	out := lineWriter{make(chan string, 100)}
	logs := lineWriter{make(chan string, 1000)}
	done := make(chan error, 1)
	go func() {
		done <- Demo(ctx, Config{Addr: "127.0.0.1:0", Logger: slog.New(slog.NewTextHandler(logs, nil)), Out: out, TLSCert: cert, TLSKey: key})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Demo: %v", err)
		}
	})
	httpsURL := regexp.MustCompile(`https://127\.0\.0\.1:[0-9]+/mcp`)
	var banner []string
	var base string
	for base == "" {
		select {
		case l := <-out.lines:
			banner = append(banner, l)
			if strings.Contains(l, "http://") {
				t.Errorf("banner line with http:// under TLS: %q", l)
			}
			if u := httpsURL.FindString(l); u != "" && strings.Contains(l, "MCP Streamable HTTP") {
				base = strings.TrimSuffix(u, "/mcp")
			}
		case err := <-done:
			t.Fatalf("Demo ended: %v", err)
		case <-time.After(30 * time.Second):
			t.Fatalf("no https URL in the banner: %q", banner)
		}
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}}
	defer client.CloseIdleConnections()
	resp, err := client.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || resp.ProtoMajor != 2 || resp.TLS == nil || resp.TLS.PeerCertificates[0].Subject.CommonName != "edge" {
		t.Errorf("GET /healthz: %d over %s, want 200 over HTTP/2 from the edge's certificate (%s)", resp.StatusCode, resp.Proto, body)
	}

	// A client that fails the handshake (it does not trust the edge's CA)
	// is logged by the process's logger, as a warning, not on raw stderr.
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Fatal("a client without the CA completed the handshake")
	}
	for {
		select {
		case l := <-logs.lines:
			if strings.Contains(l, "TLS handshake error") {
				if !strings.Contains(l, "level=WARN") {
					t.Errorf("handshake error logged as %q, want level=WARN", l)
				}
				return
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no TLS handshake error in the log")
		}
	}
}

// TestTLSConfigErrors: half-given TLS settings stop the command before it
// listens or dials, naming the flags.
func TestTLSConfigErrors(t *testing.T) {
	ca := tlsfilestest.NewCA(t, "ca")
	cert, key := tlsDir(t, ca, "edge")
	_, otherKey := tlsDir(t, ca, "other")
	for _, tc := range []struct {
		name string
		run  func(Config) error
		cfg  Config
		want string
	}{
		{"demo, cert without key", demoRun, Config{TLSCert: cert}, "--tls-cert and --tls-key go together"},
		{"demo, mismatched pair", demoRun, Config{TLSCert: cert, TLSKey: otherKey}, "--tls-cert, --tls-key: tls: certificate " + cert + ", key " + otherKey + ": tls: private key does not match public key"},
		{"serve, key without cert", serveRun, Config{TLSKey: key}, "--tls-cert and --tls-key go together"},
		{"serve, non-loopback without auth, with TLS", serveRun, Config{Addr: "0.0.0.0:0", TLSCert: cert, TLSKey: key},
			`serve: --addr "0.0.0.0:0" is not a loopback address and authentication is off: configure --auth-jwks-url or --auth-api-keys, or pass --insecure`},
		{"serve, backend cert without key", serveRun, Config{BackendCert: cert}, "--backend-cert and --backend-key go together"},
		{"serve, backend server name without TLS", serveRun, Config{BackendServerName: "echo.internal"}, "--backend-server-name needs backend TLS: give --backend-ca or --backend-cert"},
		{"serve, backend CA not a PEM", serveRun, Config{BackendCA: otherKey}, "backend TLS: tls: CA file " + otherKey + ": no PEM certificate in it"},
		{"health, backend key without cert", func(c Config) error { return Health(context.Background(), c, "127.0.0.1:1", "") }, Config{BackendKey: key}, "--backend-cert and --backend-key go together"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.Logger = quiet
			if err := tc.run(tc.cfg); err == nil || err.Error() != tc.want {
				t.Errorf("got %v, want %q", err, tc.want)
			}
		})
	}
}

func demoRun(c Config) error {
	c.Addr = "127.0.0.1:0"
	return Demo(context.Background(), c)
}

// serveRun runs Serve against a backend address nothing listens on: each
// case must fail on its TLS settings before it dials.
func serveRun(c Config) error {
	c.Backends = []string{"127.0.0.1:1"}
	if c.Addr == "" {
		c.Addr = "127.0.0.1:0"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return Serve(ctx, c)
}

// TestHealthTLS: `toolwire health` checks a mutual-TLS backend with the
// flags serve dials it with, and fails without them.
func TestHealthTLS(t *testing.T) {
	serverCA, clientCA := tlsfilestest.NewCA(t, "server-ca"), tlsfilestest.NewCA(t, "client-ca")
	cert, key := tlsDir(t, serverCA, "echo")
	caFile := filepath.Join(t.TempDir(), "client-ca.crt")
	clientCA.WriteCA(t, caFile)
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- echo.Run(ctx, echo.Config{Addr: addr, Logger: quiet, TLSCert: cert, TLSKey: key, ClientCA: caFile})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("echo.Run: %v", err)
		}
	})
	edgeCert, edgeKey := tlsDir(t, clientCA, "edge")
	backendCA := filepath.Join(t.TempDir(), "backend-ca.crt")
	serverCA.WriteCA(t, backendCA)

	good := Config{BackendCA: backendCA, BackendCert: edgeCert, BackendKey: edgeKey}
	var err error
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if err = Health(ctx, good, addr, ""); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("health with the right files: %v", err)
	}
	if err := Health(ctx, Config{}, addr, ""); err == nil || !strings.Contains(err.Error(), "code = Unavailable") {
		t.Errorf("health in plaintext: %v, want Unavailable", err)
	}
	// With TLS 1.3 the client finishes its handshake before the backend
	// checks the certificate, so its first write can meet the backend's
	// close before the alert is read (as test/security's mTLS cases allow).
	if err := Health(ctx, Config{BackendCA: backendCA}, addr, ""); err == nil || !strings.Contains(err.Error(), "code = Unavailable") ||
		!(strings.Contains(err.Error(), "tls: certificate required") || strings.Contains(err.Error(), "write: broken pipe") || strings.Contains(err.Error(), "connection reset by peer")) {
		t.Errorf("health without a client certificate: %v, want Unavailable with the certificate_required alert (or the write that lost the race to it)", err)
	}
}

// README.md's Security section names every security flag, so that the
// documentation cannot miss one.
func TestReadmeListsEverySecurityFlag(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "\n## Security\n")
	if !ok {
		t.Fatal("README.md has no ## Security section")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	listed := map[string]bool{}
	for _, m := range regexp.MustCompile("(?m)^\\|.*").FindAllString(section, -1) {
		for _, f := range regexp.MustCompile("`--([a-z-]+)").FindAllStringSubmatch(m, -1) {
			listed[f[1]] = true
		}
	}
	for _, cmd := range []string{"demo", "serve", "stdio", "health"} {
		var cfg Config
		fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
		registerSecurityFlags(cmd, fs, &cfg)
		fs.VisitAll(func(f *flag.Flag) {
			if !listed[f.Name] {
				t.Errorf("README's Security tables have no row for --%s (%s)", f.Name, cmd)
			}
		})
	}
}

func TestReadStateKey(t *testing.T) {
	dir := t.TempDir()
	if k, err := readStateKey(""); k != nil || err != nil {
		t.Fatalf("no file: got %q, %v; want nil, nil", k, err)
	}
	short := filepath.Join(dir, "short")
	if err := os.WriteFile(short, []byte("too short\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := readStateKey(short); err == nil || !strings.Contains(err.Error(), "at least 32") {
		t.Fatalf("short secret: got %v, want an error naming the minimum", err)
	}
	good := filepath.Join(dir, "good")
	secret := strings.Repeat("k", 48)
	if err := os.WriteFile(good, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if k, err := readStateKey(good); err != nil || string(k) != secret {
		t.Fatalf("good secret: got %q, %v; want the secret without the newline", k, err)
	}
	if _, err := readStateKey(filepath.Join(dir, "missing")); err == nil {
		t.Fatal("missing file: got no error")
	}
}
