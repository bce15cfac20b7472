package tlsfiles_test

import (
	"crypto/tls"
	"log"
	"net"
	"net/http"

	"google.golang.org/grpc"

	"github.com/toolwire/toolwire/internal/tlsfiles"
)

// An HTTP server whose certificate is rotated on disk: each new handshake
// presents the files as they are then.
func Example_server() {
	files, err := tlsfiles.Load(tlsfiles.Options{CertFile: "/etc/tls/tls.crt", KeyFile: "/etc/tls/tls.key"})
	if err != nil {
		log.Fatal(err)
	}
	lis, err := net.Listen("tcp", ":8443")
	if err != nil {
		log.Fatal(err)
	}
	// "h2" first: net/http serves HTTP/2 on a TLS listener that offers it.
	log.Fatal(http.Serve(tls.NewListener(lis, files.ServerConfig("h2", "http/1.1")), http.NotFoundHandler()))
}

// A gRPC client with mutual TLS: it verifies the backend against the CA
// file and presents its own certificate, both read again when they change.
func Example_mutualTLSClient() {
	files, err := tlsfiles.Load(tlsfiles.Options{
		CertFile: "/etc/tls/client.crt", KeyFile: "/etc/tls/client.key",
		CAFile: "/etc/tls/backend-ca.crt",
	})
	if err != nil {
		log.Fatal(err)
	}
	conn, err := grpc.NewClient("backend:7071", grpc.WithTransportCredentials(files.ClientCredentials("")))
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
}
