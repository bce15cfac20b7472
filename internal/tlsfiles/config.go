package tlsfiles

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"

	"google.golang.org/grpc/credentials"
)

// MinVersion is the oldest TLS version every configuration accepts: TLS
// 1.0 and 1.1 are deprecated (RFC 8996), and HTTP/2 requires 1.2.
const MinVersion = tls.VersionTLS12

// errNoCert is a handshake's error on a side that has no certificate.
var errNoCert = errors.New("tls: no certificate configured")

// ServerConfig returns the TLS configuration of a server that presents the
// current certificate, offering the ALPN protocols nextProtos (e.g. "h2",
// "http/1.1" for HTTP; gRPC adds "h2" itself). With a CA file, it requires
// and verifies a client certificate signed by the current CAs.
//
// Each handshake picks up new files: the certificate through
// GetCertificate, the CAs through GetConfigForClient.
func (f *Files) ServerConfig(nextProtos ...string) *tls.Config {
	c := &tls.Config{
		MinVersion: MinVersion,
		NextProtos: nextProtos,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			if l := f.current(); l.cert != nil {
				return l.cert, nil
			}
			return nil, errNoCert
		},
	}
	if f.opts.CAFile == "" {
		return c
	}
	// Set on the outer configuration too, so that a copy of it that loses
	// GetConfigForClient still requires client certificates, and never
	// silently accepts anyone.
	c.ClientAuth = tls.RequireAndVerifyClientCert
	c.ClientCAs = f.cur.Load().pool
	base := c.Clone()
	c.GetConfigForClient = func(*tls.ClientHelloInfo) (*tls.Config, error) {
		l := f.current()
		h := base.Clone()
		h.GetCertificate = nil
		if l.cert != nil {
			h.Certificates = []tls.Certificate{*l.cert}
		}
		h.ClientCAs = l.pool
		return h, nil
	}
	return c
}

// ClientConfig returns the TLS configuration of one client handshake with
// the current files: it verifies the server against the CAs (the system
// roots without a CA file) for serverName (empty: the name dialled), and
// presents the certificate, if there is one, whatever CAs the server says
// it accepts, so that a server that refuses it says why.
//
// It is a snapshot: call it for each new connection, or use
// [Files.ClientCredentials].
func (f *Files) ClientConfig(serverName string) *tls.Config {
	l := f.current()
	c := &tls.Config{MinVersion: MinVersion, ServerName: serverName, RootCAs: l.pool}
	if l.cert != nil {
		cert := l.cert
		c.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return cert, nil }
	}
	return c
}

// ServerCredentials returns gRPC server credentials serving
// [Files.ServerConfig].
func (f *Files) ServerCredentials() credentials.TransportCredentials {
	return credentials.NewTLS(f.ServerConfig())
}

// ClientCredentials returns gRPC client credentials that make each
// connection's handshake with [Files.ClientConfig], so that a new
// connection to a backend uses the files as they are now. serverName, if
// set, is the name the server's certificate must carry instead of the
// dialled host.
func (f *Files) ClientCredentials(serverName string) credentials.TransportCredentials {
	return &clientCreds{f: f, serverName: serverName}
}

// clientCreds delegates each handshake to grpc-go's own TLS credentials,
// built for that handshake: a tls.Config's RootCAs cannot change under a
// running client the way a server's certificate can (there is no client
// GetConfigForClient), and verifying by hand in VerifyPeerCertificate would
// re-implement what crypto/tls already does.
type clientCreds struct {
	f          *Files
	serverName string
}

func (c *clientCreds) tls() credentials.TransportCredentials {
	return credentials.NewTLS(c.f.ClientConfig(c.serverName))
}

func (c *clientCreds) ClientHandshake(ctx context.Context, authority string, raw net.Conn) (net.Conn, credentials.AuthInfo, error) {
	return c.tls().ClientHandshake(ctx, authority, raw)
}

func (c *clientCreds) ServerHandshake(net.Conn) (net.Conn, credentials.AuthInfo, error) {
	return nil, nil, errors.New("tlsfiles: client credentials cannot serve")
}

func (c *clientCreds) Info() credentials.ProtocolInfo {
	return credentials.NewTLS(&tls.Config{MinVersion: MinVersion, ServerName: c.serverName}).Info()
}

func (c *clientCreds) Clone() credentials.TransportCredentials {
	cp := *c
	return &cp
}

// OverrideServerName implements a deprecated method of
// credentials.TransportCredentials, as grpc-go's TLS credentials do.
func (c *clientCreds) OverrideServerName(name string) error {
	c.serverName = name
	return nil
}

// ServerCredentialsFor returns transport credentials serving TLS from the
// certificate and key files, requiring client certificates signed by the CA
// file when clientCA is set (mutual TLS); nil, for plaintext, when no file
// is named. It is the backends' --tls-cert, --tls-key and --client-ca.
func ServerCredentialsFor(cert, key, clientCA string, logger *slog.Logger) (credentials.TransportCredentials, error) {
	if cert == "" && key == "" {
		if clientCA != "" {
			return nil, errors.New("--client-ca needs --tls-cert and --tls-key")
		}
		return nil, nil
	}
	files, err := Load(Options{CertFile: cert, KeyFile: key, CAFile: clientCA, Logger: logger})
	if err != nil {
		return nil, err
	}
	return files.ServerCredentials(), nil
}
