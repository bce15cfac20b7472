package tlsfiles

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/toolwire/toolwire/internal/tlsfiles/tlsfilestest"
)

// logBuffer collects log lines, safely across handshakes.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// count returns how many lines contain s.
func (l *logBuffer) count(s string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Count(l.b.String(), s)
}

// fixture is a directory of TLS files and a Files over them whose clock
// the test moves.
type fixture struct {
	dir           string
	cert, key, ca string
	files         *Files
	logs          *logBuffer
	mu            sync.Mutex
	clock         time.Time
}

func newFixture(t *testing.T, first tlsfilestest.Pair, withCA *tlsfilestest.CA) *fixture {
	t.Helper()
	dir := t.TempDir()
	x := &fixture{dir: dir, cert: filepath.Join(dir, "tls.crt"), key: filepath.Join(dir, "tls.key"), logs: &logBuffer{}, clock: time.Now()}
	first.Write(t, x.cert, x.key)
	opts := Options{CertFile: x.cert, KeyFile: x.key, Logger: slog.New(slog.NewTextHandler(x.logs, nil))}
	if withCA != nil {
		x.ca = filepath.Join(dir, "ca.crt")
		withCA.WriteCA(t, x.ca)
		opts.CAFile = x.ca
	}
	f, err := Load(opts)
	if err != nil {
		t.Fatal(err)
	}
	f.now = x.now
	f.next.Store(x.clock.Add(f.interval).UnixNano())
	x.files = f
	return x
}

func (x *fixture) now() time.Time {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.clock
}

func (x *fixture) advance(d time.Duration) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.clock = x.clock.Add(d)
}

// handshake runs a TLS handshake over an in-memory pipe and returns what
// the client saw and each side's error. In TLS 1.3 a client learns that the
// server refused its certificate only on its first read, so the client
// reads once, until the server has written or closed.
func handshake(t *testing.T, server, client *tls.Config) (tls.ConnectionState, error, error) {
	t.Helper()
	sc, cc := net.Pipe()
	srv, cli := tls.Server(sc, server), tls.Client(cc, client)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	serr := make(chan error, 1)
	go func() {
		err := srv.HandshakeContext(ctx)
		if err == nil {
			_, err = srv.Write([]byte("x"))
		}
		// Close the pipe, not the TLS connection: a close_notify written
		// to a synchronous pipe nobody reads would wait out its deadline.
		sc.Close()
		serr <- err
	}()
	cerr := cli.HandshakeContext(ctx)
	if cerr == nil {
		_, cerr = cli.Read(make([]byte, 1))
	}
	state := cli.ConnectionState()
	cc.Close()
	return state, cerr, <-serr
}

// trusting is a client configuration that trusts ca.
func trusting(ca *tlsfilestest.CA) *tls.Config {
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	return &tls.Config{ServerName: "localhost", RootCAs: pool}
}

// served returns the common name of the certificate x serves now.
func served(t *testing.T, x *fixture, ca *tlsfilestest.CA) string {
	t.Helper()
	name, err := tryServed(t, x, ca)
	if err != nil {
		t.Fatal(err)
	}
	return name
}

// tryServed is served for goroutines other than the test's.
func tryServed(t *testing.T, x *fixture, ca *tlsfilestest.CA) (string, error) {
	st, cerr, serr := handshake(t, x.files.ServerConfig(), trusting(ca))
	if cerr != nil || serr != nil {
		return "", fmt.Errorf("handshake: client %v, server %v", cerr, serr)
	}
	return st.PeerCertificates[0].Subject.CommonName, nil
}

// TestRotation: a new pair written over the old one is served from the
// first handshake after the next check, and not before it.
func TestRotation(t *testing.T) {
	ca := tlsfilestest.NewCA(t, "ca")
	x := newFixture(t, ca.Issue(t, "first"), nil)
	if got := served(t, x, ca); got != "first" {
		t.Fatalf("served %q, want first", got)
	}
	ca.Issue(t, "second").Write(t, x.cert, x.key)
	if got := served(t, x, ca); got != "first" {
		t.Errorf("within the interval: served %q, want first (files are checked at most once per interval)", got)
	}
	x.advance(DefaultInterval)
	if got := served(t, x, ca); got != "second" {
		t.Errorf("after the interval: served %q, want second", got)
	}
	if n := x.logs.count("TLS files reloaded"); n != 1 {
		t.Errorf("%d reload logs, want 1", n)
	}
}

// TestBadNewFilesKeepOld: a new set that does not load is logged once and
// ignored; the old pair is served until a good set replaces it.
func TestBadNewFilesKeepOld(t *testing.T) {
	ca := tlsfilestest.NewCA(t, "ca")
	next := ca.Issue(t, "next")
	tests := []struct {
		name    string
		write   func(t *testing.T, x *fixture)
		wantErr string // in the logged error
	}{
		{"mismatched key", func(t *testing.T, x *fixture) {
			tlsfilestest.WriteAtomic(t, x.cert, next.CertPEM) // the key is still the old one
		}, "private key does not match public key"},
		{"half-written certificate", func(t *testing.T, x *fixture) {
			// Written in place, as a careless copy does, and cut short.
			if err := os.WriteFile(x.cert, next.CertPEM[:len(next.CertPEM)/2], 0o600); err != nil {
				t.Fatal(err)
			}
		}, "failed to find any PEM data in certificate input"},
		{"key removed", func(t *testing.T, x *fixture) {
			if err := os.Remove(x.key); err != nil {
				t.Fatal(err)
			}
		}, "no such file or directory"},
		{"garbage key", func(t *testing.T, x *fixture) {
			tlsfilestest.WriteAtomic(t, x.key, []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"))
		}, "failed to parse private key"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			x := newFixture(t, ca.Issue(t, "old"), nil)
			tc.write(t, x)
			x.advance(DefaultInterval)
			if got := served(t, x, ca); got != "old" {
				t.Fatalf("served %q, want old", got)
			}
			if n := x.logs.count("level=ERROR"); n != 1 || x.logs.count(tc.wantErr) != 1 {
				t.Fatalf("want one error log with %q, got:\n%s", tc.wantErr, x.logs.b.String())
			}
			// Unchanged broken files are not reported again.
			x.advance(DefaultInterval)
			served(t, x, ca)
			if n := x.logs.count("level=ERROR"); n != 1 {
				t.Errorf("%d error logs after a second check of the same files, want 1", n)
			}
			// The good set, once complete, is served.
			next.Write(t, x.cert, x.key)
			x.advance(DefaultInterval)
			if got := served(t, x, ca); got != "next" {
				t.Errorf("after the fix: served %q, want next", got)
			}
		})
	}
}

// TestVersions: TLS 1.0 and 1.1 clients are refused with the
// protocol_version alert; 1.2 and 1.3 are served.
func TestVersions(t *testing.T) {
	ca := tlsfilestest.NewCA(t, "ca")
	x := newFixture(t, ca.Issue(t, "server"), nil)
	for _, tc := range []struct {
		name    string
		max     uint16
		wantErr string // the client's, empty for success
		wantSrv string
		wantVer uint16
	}{
		{"TLS 1.0", tls.VersionTLS10, "remote error: tls: protocol version not supported", "tls: client offered only unsupported versions: [301]", 0},
		{"TLS 1.1", tls.VersionTLS11, "remote error: tls: protocol version not supported", "tls: client offered only unsupported versions: [302 301]", 0},
		{"TLS 1.2", tls.VersionTLS12, "", "", tls.VersionTLS12},
		{"TLS 1.3", tls.VersionTLS13, "", "", tls.VersionTLS13},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := trusting(ca)
			c.MinVersion, c.MaxVersion = tls.VersionTLS10, tc.max
			st, cerr, serr := handshake(t, x.files.ServerConfig(), c)
			if tc.wantErr != "" {
				var op *net.OpError
				if !errors.As(cerr, &op) || op.Op != "remote error" || op.Err.Error() != tls.AlertError(70).Error() || cerr.Error() != tc.wantErr {
					t.Errorf("client error = %v, want the protocol_version alert %q", cerr, tc.wantErr)
				}
				if serr == nil || serr.Error() != tc.wantSrv {
					t.Errorf("server error = %v, want %q", serr, tc.wantSrv)
				}
				return
			}
			if cerr != nil || serr != nil || st.Version != tc.wantVer {
				t.Errorf("got version %x, client %v, server %v; want %x", st.Version, cerr, serr, tc.wantVer)
			}
		})
	}
}

// TestClientCA: with a CA file a server requires a client certificate
// signed by it, and picks up a new CA file as it does a new pair.
func TestClientCA(t *testing.T) {
	serverCA, oldCA, newCA := tlsfilestest.NewCA(t, "server-ca"), tlsfilestest.NewCA(t, "old-client-ca"), tlsfilestest.NewCA(t, "new-client-ca")
	x := newFixture(t, serverCA.Issue(t, "server"), oldCA)
	client := func(p *tlsfilestest.Pair) *tls.Config {
		c := trusting(serverCA)
		if p != nil {
			cert, err := tls.X509KeyPair(p.CertPEM, p.KeyPEM)
			if err != nil {
				t.Fatal(err)
			}
			c.Certificates = []tls.Certificate{cert}
		}
		return c
	}
	oldClient, newClient := oldCA.Issue(t, "old-client"), newCA.Issue(t, "new-client")
	check := func(t *testing.T, p *tlsfilestest.Pair, wantClient, wantServer string) {
		t.Helper()
		_, cerr, serr := handshake(t, x.files.ServerConfig(), client(p))
		if errString(serr) != wantServer || errString(cerr) != wantClient {
			t.Errorf("server error %q, client error %q; want %q, %q", errString(serr), errString(cerr), wantServer, wantClient)
		}
	}
	// Go's client sends no certificate rather than one the server's
	// CertificateRequest says it does not accept.
	t.Run("no client certificate", func(t *testing.T) {
		check(t, nil, "remote error: tls: certificate required", "tls: client didn't provide a certificate")
	})
	t.Run("client certificate from the old CA", func(t *testing.T) { check(t, &oldClient, "", "") })
	newCA.WriteCA(t, x.ca)
	x.advance(DefaultInterval)
	t.Run("old CA after rotation", func(t *testing.T) {
		check(t, &oldClient, "remote error: tls: certificate required", "tls: client didn't provide a certificate")
	})
	t.Run("new CA after rotation", func(t *testing.T) { check(t, &newClient, "", "") })
}

// TestClientConfig: a client presents its certificate even to a server
// that asks for another CA (so the server can say why it refuses), and
// verifies the server against its CA file, picked up again after a change.
func TestClientConfig(t *testing.T) {
	serverCA, otherCA, clientCA := tlsfilestest.NewCA(t, "server-ca"), tlsfilestest.NewCA(t, "other-ca"), tlsfilestest.NewCA(t, "client-ca")
	srv := newFixture(t, serverCA.Issue(t, "server"), clientCA)
	dir := t.TempDir()
	cert, key, caFile := filepath.Join(dir, "c.crt"), filepath.Join(dir, "c.key"), filepath.Join(dir, "ca.crt")
	otherCA.Issue(t, "stranger").Write(t, cert, key)
	otherCA.WriteCA(t, caFile)
	cli, err := Load(Options{CertFile: cert, KeyFile: key, CAFile: caFile, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	clock := time.Now()
	cli.now = func() time.Time { return clock }

	_, cerr, serr := handshake(t, srv.files.ServerConfig(), cli.ClientConfig("localhost"))
	if want := "tls: failed to verify certificate: x509: certificate signed by unknown authority"; errString(cerr) != want || serr == nil {
		t.Errorf("client trusting another CA: client %v, server %v; want client %q", cerr, serr, want)
	}

	serverCA.WriteCA(t, caFile)
	clock = clock.Add(DefaultInterval)
	_, cerr, serr = handshake(t, srv.files.ServerConfig(), cli.ClientConfig("localhost"))
	if want := "tls: failed to verify certificate: x509: certificate signed by unknown authority"; errString(serr) != want || errString(cerr) != "remote error: tls: unknown certificate authority" {
		t.Errorf("client certificate from another CA: server %v, client %v; want %q and the unknown_ca alert", serr, cerr, want)
	}

	clientCA.Issue(t, "edge").Write(t, cert, key)
	clock = clock.Add(DefaultInterval)
	if _, cerr, serr = handshake(t, srv.files.ServerConfig(), cli.ClientConfig("localhost")); cerr != nil || serr != nil {
		t.Errorf("right CAs both ways: client %v, server %v", cerr, serr)
	}
	if _, cerr, _ = handshake(t, srv.files.ServerConfig(), cli.ClientConfig("backend.test")); errString(cerr) != "tls: failed to verify certificate: x509: certificate is valid for localhost, not backend.test" {
		t.Errorf("wrong server name: client %v", cerr)
	}
}

// TestLoadErrors: a process does not start with files it cannot serve.
func TestLoadErrors(t *testing.T) {
	ca := tlsfilestest.NewCA(t, "ca")
	dir := t.TempDir()
	a, b := ca.Issue(t, "a"), ca.Issue(t, "b")
	cert, key, empty := filepath.Join(dir, "a.crt"), filepath.Join(dir, "b.key"), filepath.Join(dir, "empty")
	tlsfilestest.WriteAtomic(t, cert, a.CertPEM)
	tlsfilestest.WriteAtomic(t, key, b.KeyPEM)
	tlsfilestest.WriteAtomic(t, empty, nil)
	for _, tc := range []struct {
		name string
		opts Options
		want string
	}{
		{"nothing", Options{}, "tls: no certificate, key or CA file given"},
		{"certificate alone", Options{CertFile: cert}, "tls: a certificate file needs a key file, and a key file a certificate file"},
		{"key alone", Options{KeyFile: key, CAFile: cert}, "tls: a certificate file needs a key file, and a key file a certificate file"},
		{"mismatched pair", Options{CertFile: cert, KeyFile: key}, "tls: certificate " + cert + ", key " + key + ": tls: private key does not match public key"},
		{"empty CA file", Options{CAFile: empty}, "tls: CA file " + empty + ": no PEM certificate in it"},
		{"missing CA file", Options{CAFile: filepath.Join(dir, "nope")}, "tls: CA file: open " + filepath.Join(dir, "nope") + ": no such file or directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Load(tc.opts); errString(err) != tc.want {
				t.Errorf("Load = %v, want %q", err, tc.want)
			}
		})
	}
}

// TestConcurrentRotation shakes hands from several goroutines while the
// files are replaced; run with -race it checks the reload's locking, and
// every handshake must present one of the two whole pairs.
func TestConcurrentRotation(t *testing.T) {
	ca := tlsfilestest.NewCA(t, "ca")
	pairs := []tlsfilestest.Pair{ca.Issue(t, "even"), ca.Issue(t, "odd")}
	x := newFixture(t, pairs[0], nil)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 20 {
				x.advance(DefaultInterval)
				if got, err := tryServed(t, x, ca); err != nil || got != "even" && got != "odd" {
					t.Errorf("served %q, %v; want even or odd", got, err)
				}
			}
		})
	}
	for i := range 40 {
		pairs[i%2].Write(t, x.cert, x.key)
	}
	wg.Wait()
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
