// Package security is the adversarial test suite of issue 5: it runs the real
// edge (toolwire demo with authentication on) on loopback against a fake
// authorization server's JWKS, and checks what every kind of bad credential,
// on every surface (MCP, REST, gRPC), gets back.
//
// Its transport half (tls_test.go) serves the edge over TLS and the echo
// backend over mutual TLS, with certificates each test generates, and
// checks plaintext and old-version clients, certificate rotation without a
// restart, and every wrong combination of certificates between the edge
// and a backend.
package security
