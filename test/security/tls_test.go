package security

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/toolwire/toolwire/internal/app"
	"github.com/toolwire/toolwire/internal/tlsfiles/tlsfilestest"
	"github.com/toolwire/toolwire/services/echo"
)

// logLines collects a process's log lines, for the reload tests to wait on.
type logLines struct {
	mu    sync.Mutex
	lines []string
}

func (l *logLines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	sc := bufio.NewScanner(strings.NewReader(string(p)))
	for sc.Scan() {
		l.lines = append(l.lines, sc.Text())
	}
	return len(p), nil
}

func (l *logLines) count(sub string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, x := range l.lines {
		if strings.Contains(x, sub) {
			n++
		}
	}
	return n
}

// trusting returns a TLS client configuration that trusts ca only.
func trusting(ca *tlsfilestest.CA) *tls.Config {
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	return &tls.Config{RootCAs: pool}
}

// httpsClient is an HTTP client trusting ca, with a fresh connection (and
// so a full handshake) for every request: a rotated certificate shows on
// the next request.
func httpsClient(ca *tlsfilestest.CA, http2 bool) *http.Client {
	tr := &http.Transport{TLSClientConfig: trusting(ca), DisableKeepAlives: true, ForceAttemptHTTP2: http2}
	if !http2 {
		tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
	}
	return &http.Client{Transport: tr}
}

// TestEdgeTLS runs the demo with authentication and --tls-cert, and checks
// what a client gets over TLS, over plain HTTP, over an old TLS version,
// and across a rotation of the certificate files.
func TestEdgeTLS(t *testing.T) {
	ca := tlsfilestest.NewCA(t, "edge-ca")
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	first, second := ca.Issue(t, "edge-1"), ca.Issue(t, "edge-2")
	first.Write(t, certFile, keyFile)
	logs := &logLines{}
	s := startStackWith(t, func(c *app.Config) {
		c.TLSCert, c.TLSKey = certFile, keyFile
		c.Logger = slog.New(slog.NewTextHandler(logs, nil))
	})
	if !strings.HasPrefix(s.base, "https://") {
		t.Fatalf("the demo printed %s, want an https URL", s.base)
	}
	s.client = httpsClient(ca, true)
	hostPort := strings.TrimPrefix(s.base, "https://")
	token := s.token(t, "")

	// served returns the name on the certificate the edge presents to a
	// new handshake.
	served := func(t *testing.T) string {
		t.Helper()
		c := trusting(ca)
		c.ServerName = "127.0.0.1"
		conn, err := tls.Dial("tcp", hostPort, c)
		if err != nil {
			t.Fatalf("handshake: %v", err)
		}
		defer conn.Close()
		return conn.ConnectionState().PeerCertificates[0].Subject.CommonName
	}

	t.Run("HTTPS over HTTP/2 with a token", func(t *testing.T) {
		r := s.do(t, "POST", s.base+"/mcp", mcpHeader(token, ""), initialize)
		if r.status != 200 || r.proto != "HTTP/2.0" || r.tls == nil || r.tls.Version != tls.VersionTLS13 ||
			r.tls.PeerCertificates[0].Subject.CommonName != "edge-1" || !strings.Contains(r.body, `"protocolVersion":"2025-06-18"`) {
			t.Errorf("got %d over %s, body %q; want 200 over HTTP/2 and TLS 1.3 from edge-1", r.status, r.proto, r.body)
		}
	})
	t.Run("HTTPS over HTTP/1.1 without a token", func(t *testing.T) {
		r := doWith(t, httpsClient(ca, false), "POST", s.base+"/mcp", mcpHeader("", ""), initialize)
		wantAuth := `Bearer resource_metadata="` + metadataURL + `"`
		if r.status != 401 || r.proto != "HTTP/1.1" || r.header.Get("WWW-Authenticate") != wantAuth || r.body != errBody("unauthorized", "missing bearer token") {
			t.Errorf("got %d over %s, %q %q; want 401 over HTTP/1.1 with the challenge", r.status, r.proto, r.header.Get("WWW-Authenticate"), r.body)
		}
	})
	t.Run("plaintext HTTP to the TLS port", func(t *testing.T) {
		// Five bytes, the size of a TLS record header: the server reads
		// exactly what was sent, so its close is a clean FIN. Sent more,
		// it would close with bytes unread, and the reset could beat its
		// answer to the client.
		conn, err := net.Dial("tcp", hostPort)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if _, err := conn.Write([]byte("POST ")); err != nil {
			t.Fatal(err)
		}
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		got, err := io.ReadAll(conn)
		if want := "HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n"; err != nil || string(got) != want {
			t.Errorf("got %q, %v; want %q and the connection closed", got, err, want)
		}
	})
	for _, v := range []struct {
		name string
		max  uint16
	}{{"TLS 1.0", tls.VersionTLS10}, {"TLS 1.1", tls.VersionTLS11}} {
		t.Run(v.name+" refused", func(t *testing.T) {
			c := trusting(ca)
			c.MinVersion, c.MaxVersion = tls.VersionTLS10, v.max
			conn, err := tls.Dial("tcp", hostPort, c)
			if err == nil {
				conn.Close()
			}
			var op *net.OpError
			if !errors.As(err, &op) || op.Op != "remote error" || op.Err.Error() != tls.AlertError(70).Error() {
				t.Errorf("handshake error = %v, want the protocol_version alert (remote error: tls: protocol version not supported)", err)
			}
		})
	}
	t.Run("TLS 1.2 served", func(t *testing.T) {
		c := trusting(ca)
		c.MaxVersion, c.NextProtos = tls.VersionTLS12, []string{"h2", "http/1.1"}
		conn, err := tls.Dial("tcp", hostPort, c)
		if err != nil {
			t.Fatalf("handshake: %v", err)
		}
		defer conn.Close()
		if st := conn.ConnectionState(); st.Version != tls.VersionTLS12 || st.NegotiatedProtocol != "h2" {
			t.Errorf("version %x, ALPN %q; want TLS 1.2 and h2", st.Version, st.NegotiatedProtocol)
		}
	})
	t.Run("client that does not trust the edge's CA", func(t *testing.T) {
		other := tlsfilestest.NewCA(t, "other-ca")
		_, err := tls.Dial("tcp", hostPort, trusting(other))
		var unknown x509.UnknownAuthorityError
		if !errors.As(err, &unknown) || unknown.Cert.Subject.CommonName != "edge-1" {
			t.Errorf("handshake error = %v, want x509.UnknownAuthorityError for edge-1", err)
		}
	})

	// waitFor shakes hands until cond holds (each handshake may trigger a
	// check of the files, at most one a second), for at most 5 seconds.
	waitFor := func(t *testing.T, what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(50 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
			served(t)
		}
	}
	t.Run("broken new pair keeps the old one", func(t *testing.T) {
		// The new certificate lands before its key: for a while the pair
		// on disk does not match.
		tlsfilestest.WriteAtomic(t, certFile, second.CertPEM)
		waitFor(t, "the reload error in the log", func() bool {
			return logs.count(`msg="TLS files changed but do not load; still serving the previous ones"`) == 1
		})
		if n := logs.count("private key does not match public key"); n != 1 {
			t.Errorf("%d logs name the mismatch, want 1", n)
		}
		if got := served(t); got != "edge-1" {
			t.Errorf("served %s, want edge-1", got)
		}
		if r := s.do(t, "POST", s.base+"/mcp", mcpHeader(token, ""), initialize); r.status != 200 {
			t.Errorf("initialize: %d %q, want 200", r.status, r.body)
		}
	})
	t.Run("rotated pair served without a restart", func(t *testing.T) {
		tlsfilestest.WriteAtomic(t, keyFile, second.KeyPEM)
		waitFor(t, "edge-2 to be served", func() bool { return served(t) == "edge-2" })
		r := s.do(t, "POST", s.base+"/mcp", mcpHeader(token, ""), initialize)
		if r.status != 200 || r.tls.PeerCertificates[0].Subject.CommonName != "edge-2" {
			t.Errorf("initialize after rotation: %d from %s, want 200 from edge-2", r.status, r.tls.PeerCertificates[0].Subject.CommonName)
		}
		if n := logs.count(`msg="TLS files reloaded"`); n != 1 {
			t.Errorf("%d reload logs, want 1", n)
		}
	})
}

// TestBackendMTLS runs echo-service with --tls-cert and --client-ca, and
// `toolwire serve` against it with each wrong and the right set of
// backend TLS flags.
func TestBackendMTLS(t *testing.T) {
	backendCA, edgeCA, rogueCA := tlsfilestest.NewCA(t, "backend-ca"), tlsfilestest.NewCA(t, "edge-ca"), tlsfilestest.NewCA(t, "rogue-ca")
	dir := t.TempDir()
	file := func(name string) string { return filepath.Join(dir, name) }
	backendCA.Issue(t, "echo").Write(t, file("echo.crt"), file("echo.key"))
	edgeCA.WriteCA(t, file("edge-ca.crt"))
	backendCA.WriteCA(t, file("backend-ca.crt"))
	rogueCA.WriteCA(t, file("rogue-ca.crt"))
	edgeCA.Issue(t, "edge").Write(t, file("edge.crt"), file("edge.key"))
	rogueCA.Issue(t, "rogue-edge").Write(t, file("rogue.crt"), file("rogue.key"))

	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- echo.Run(ctx, echo.Config{Addr: addr, Logger: quiet, TLSCert: file("echo.crt"), TLSKey: file("echo.key"), ClientCA: file("edge-ca.crt")})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("echo.Run: %v", err)
		}
	})

	// The right flags first: the edge serves the backend's tools, so the
	// refusals below are the TLS settings', not a backend still starting.
	t.Run("edge with the right client certificate and CA", func(t *testing.T) {
		edgeAddr := freeAddr(t)
		sctx, scancel := context.WithCancel(context.Background())
		served := make(chan error, 1)
		go func() {
			served <- app.Serve(sctx, app.Config{Addr: edgeAddr, Backends: []string{addr}, Logger: quiet,
				BackendCA: file("backend-ca.crt"), BackendCert: file("edge.crt"), BackendKey: file("edge.key")})
		}()
		defer func() {
			scancel()
			if err := <-served; err != nil {
				t.Errorf("Serve: %v", err)
			}
		}()
		s := &stack{base: "http://" + edgeAddr}
		waitHealthy(t, s.base, served)
		sid := s.session(t, "")
		r, m := s.rpc(t, "", sid, `{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"echo","arguments":{"text":"over mTLS"}}}`)
		if r.status != 200 || m.Error != nil || !strings.Contains(string(m.Result), `"text":"over mTLS"`) {
			t.Errorf("echo through the edge: %d %s", r.status, r.body)
		}
	})

	// What the backend answers a TLS client without the right certificate,
	// read at the TLS layer: exactly the alert.
	for _, tc := range []struct {
		name      string
		cert, key string
		alert     tls.AlertError
	}{
		{"backend to a client without a certificate", "", "", 116},                             // certificate_required
		{"backend to a certificate from another CA", file("rogue.crt"), file("rogue.key"), 48}, // unknown_ca
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := trusting(backendCA)
			if tc.cert != "" {
				pair, err := tls.LoadX509KeyPair(tc.cert, tc.key)
				if err != nil {
					t.Fatal(err)
				}
				c.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &pair, nil }
			}
			conn, err := tls.Dial("tcp", addr, c)
			if err == nil {
				// TLS 1.3: the client's handshake is done before the
				// server has read its certificate; the refusal comes on
				// the first read.
				_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
				_, err = conn.Read(make([]byte, 1))
				conn.Close()
			}
			var op *net.OpError
			if !errors.As(err, &op) || op.Op != "remote error" || op.Err.Error() != tc.alert.Error() {
				t.Errorf("got %v, want the alert %q", err, tc.alert.Error())
			}
		})
	}

	// What `toolwire serve` does with each wrong set of flags: it does not
	// come up, and says why.
	//
	// A backend refusing the edge's certificate is a race in TLS 1.3: the
	// edge's handshake completes first, so the edge learns of the refusal
	// either reading the alert, or writing its HTTP/2 preface to a
	// connection the backend has already closed. Either way it never
	// serves; the cases above pin the alert itself.
	//
	// A plaintext edge's HTTP/2 preface is not a TLS record; the backend
	// closes the connection, which the edge reads as EOF, or as a reset if
	// part of what it sent was still unread.
	writeRace := regexp.MustCompile(`^write tcp 127\.0\.0\.1:[0-9]+->` + regexp.QuoteMeta(addr) + `: write: (broken pipe|connection reset by peer)$`)
	readReset := regexp.MustCompile(`^connection error: desc = "error reading server preface: (read tcp 127\.0\.0\.1:[0-9]+->` + regexp.QuoteMeta(addr) + `: read: )?connection reset by peer"$`)
	for _, tc := range []struct {
		name string
		cfg  app.Config
		want string         // the connection error
		alt  *regexp.Regexp // the same refusal, seen another way (see above)
	}{
		{"edge without a client certificate", app.Config{BackendCA: file("backend-ca.crt")},
			`connection error: desc = "error reading server preface: remote error: tls: certificate required"`, writeRace},
		{"edge with a client certificate from another CA", app.Config{BackendCA: file("backend-ca.crt"), BackendCert: file("rogue.crt"), BackendKey: file("rogue.key")},
			`connection error: desc = "error reading server preface: remote error: tls: unknown certificate authority"`, writeRace},
		{"backend certificate not signed by --backend-ca", app.Config{BackendCA: file("rogue-ca.crt"), BackendCert: file("edge.crt"), BackendKey: file("edge.key")},
			`connection error: desc = "transport: authentication handshake failed: tls: failed to verify certificate: x509: certificate signed by unknown authority"`, nil},
		{"--backend-server-name the certificate lacks", app.Config{BackendCA: file("backend-ca.crt"), BackendCert: file("edge.crt"), BackendKey: file("edge.key"), BackendServerName: "echo.internal"},
			`connection error: desc = "transport: authentication handshake failed: tls: failed to verify certificate: x509: certificate is valid for localhost, not echo.internal"`, nil},
		{"edge in plaintext", app.Config{},
			`connection error: desc = "error reading server preface: EOF"`, readReset},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// Serve retries a backend that does not answer; the deadline
			// ends the retries with the last connection error.
			sctx, scancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer scancel()
			cfg := tc.cfg
			cfg.Addr, cfg.Backends, cfg.Logger = freeAddr(t), []string{addr}, quiet
			err := app.Serve(sctx, cfg)
			prefix := "backend " + addr + ": listing its services by gRPC reflection: rpc error: code = DeadlineExceeded desc = latest balancer error: "
			got, ok := strings.CutPrefix(errString(err), prefix)
			if st, _ := status.FromError(err); st.Code() != codes.DeadlineExceeded || !ok || got != tc.want && (tc.alt == nil || !tc.alt.MatchString(got)) {
				t.Errorf("Serve = %v\nwant %s%s", err, prefix, tc.want)
			}
		})
	}
}

// waitHealthy waits for the edge at base to answer /healthz.
func waitHealthy(t *testing.T, base string, served <-chan error) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		select {
		case err := <-served:
			t.Fatalf("Serve ended: %v", err)
		default:
		}
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
	}
	t.Fatal("the edge never answered /healthz")
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
