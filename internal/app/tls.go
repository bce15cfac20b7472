package app

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"

	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/toolwire/toolwire/internal/tlsfiles"
)

// edgeTLS loads the certificate pair the edge serves HTTPS with
// (--tls-cert, --tls-key), or returns nil when TLS is off. Serve and Demo
// call it before anything slow, so that a bad file stops them at once.
func (c *Config) edgeTLS() (*tlsfiles.Files, error) {
	if c.TLSCert == "" && c.TLSKey == "" {
		return nil, nil
	}
	if c.TLSCert == "" || c.TLSKey == "" {
		return nil, errors.New("--tls-cert and --tls-key go together")
	}
	f, err := tlsfiles.Load(tlsfiles.Options{CertFile: c.TLSCert, KeyFile: c.TLSKey, Logger: c.logger()})
	if err != nil {
		return nil, fmt.Errorf("--tls-cert, --tls-key: %w", err)
	}
	return f, nil
}

// tlsListener serves TLS on lis with files' certificate, reloaded when the
// files change, offering HTTP/2 and HTTP/1.1 by ALPN. A nil files leaves
// lis plain.
//
// It must be the outermost wrapper of the listener http.Server serves:
// net/http serves HTTP/2, sets Request.TLS, bounds the handshake and
// answers a plaintext request with 400 only on a connection Accept
// returned as a *tls.Conn itself. Under another wrapper (a connection
// limit), a client that negotiated h2 would be read as HTTP/1.1 and fail.
func tlsListener(lis net.Listener, files *tlsfiles.Files) net.Listener {
	if files == nil {
		return lis
	}
	return tls.NewListener(lis, files.ServerConfig("h2", "http/1.1"))
}

// scheme is the edge's URL scheme: https with --tls-cert.
func (c *Config) scheme() string {
	if c.TLSCert != "" {
		return "https"
	}
	return "http"
}

// backendCredentials returns the transport credentials the edge dials
// backends with: TLS when --backend-ca or --backend-cert is given (the
// backend's certificate verified against --backend-ca, else the system
// roots; --backend-cert presented for mutual TLS), else plaintext. The
// files are reloaded, for new connections, when they change.
func (c *Config) backendCredentials() (credentials.TransportCredentials, error) {
	if c.BackendCA == "" && c.BackendCert == "" && c.BackendKey == "" {
		if c.BackendServerName != "" {
			return nil, errors.New("--backend-server-name needs backend TLS: give --backend-ca or --backend-cert")
		}
		return insecure.NewCredentials(), nil
	}
	if (c.BackendCert == "") != (c.BackendKey == "") {
		return nil, errors.New("--backend-cert and --backend-key go together")
	}
	f, err := tlsfiles.Load(tlsfiles.Options{CertFile: c.BackendCert, KeyFile: c.BackendKey, CAFile: c.BackendCA, Logger: c.logger()})
	if err != nil {
		return nil, fmt.Errorf("backend TLS: %w", err)
	}
	return f.ClientCredentials(c.BackendServerName), nil
}
