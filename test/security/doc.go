// Package security is the adversarial test suite of issue 5: it runs the real
// edge (toolwire demo with authentication on) on loopback against a fake
// authorization server's JWKS, and checks what every kind of bad credential,
// on every surface (MCP, REST, gRPC), gets back.
package security
