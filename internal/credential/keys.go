package credential

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
)

// PEM block types: PKCS #8 for private keys, PKIX for public keys, as
// `openssl genpkey -algorithm ed25519` and `openssl pkey -pubout` write them.
const (
	pemPrivate = "PRIVATE KEY"
	pemPublic  = "PUBLIC KEY"
)

// GenerateKey returns a new Ed25519 key pair. The demo, which runs edge and
// backends in one process, uses an ephemeral pair that never leaves memory.
func GenerateKey() (ed25519.PublicKey, ed25519.PrivateKey, error) {
	return ed25519.GenerateKey(rand.Reader)
}

// LoadPrivateKey reads an Ed25519 private key from a PEM file holding one
// PKCS #8 "PRIVATE KEY" block.
func LoadPrivateKey(path string) (ed25519.PrivateKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	k, err := ParsePrivateKeyPEM(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

// LoadPublicKeys reads the Ed25519 public keys from a PEM file holding one
// or more PKIX "PUBLIC KEY" blocks. Several keys let backends accept the
// next edge key before the edge switches to it.
func LoadPublicKeys(path string) ([]ed25519.PublicKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	keys, err := ParsePublicKeysPEM(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return keys, nil
}

// ParsePrivateKeyPEM parses one PKCS #8 "PRIVATE KEY" PEM block holding an
// Ed25519 key.
func ParsePrivateKeyPEM(data []byte) (ed25519.PrivateKey, error) {
	block, rest := pem.Decode(data)
	if block == nil || block.Type != pemPrivate {
		return nil, errors.New("no PEM \"" + pemPrivate + "\" block")
	}
	if extra, _ := pem.Decode(rest); extra != nil {
		return nil, errors.New("more than one PEM block")
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, err
	}
	ek, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("private key is %T, not Ed25519", k)
	}
	return ek, nil
}

// ParsePublicKeysPEM parses the PKIX "PUBLIC KEY" PEM blocks in data, each
// an Ed25519 key. There must be at least one, and no block of another type.
func ParsePublicKeysPEM(data []byte) ([]ed25519.PublicKey, error) {
	var keys []ed25519.PublicKey
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		if block.Type != pemPublic {
			return nil, fmt.Errorf("PEM block %q, want %q", block.Type, pemPublic)
		}
		k, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, err
		}
		ek, ok := k.(ed25519.PublicKey)
		if !ok {
			return nil, fmt.Errorf("public key is %T, not Ed25519", k)
		}
		keys = append(keys, ek)
	}
	if len(keys) == 0 {
		return nil, errors.New("no PEM \"" + pemPublic + "\" block")
	}
	return keys, nil
}

// MarshalPrivateKeyPEM encodes k as a PKCS #8 "PRIVATE KEY" PEM block.
func MarshalPrivateKeyPEM(k ed25519.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemPrivate, Bytes: der}), nil
}

// MarshalPublicKeyPEM encodes k as a PKIX "PUBLIC KEY" PEM block.
func MarshalPublicKeyPEM(k ed25519.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(k)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemPublic, Bytes: der}), nil
}

// KeyID is the kid a [Minter] puts in each credential's header, and a
// [Verifier] uses to pick the key: the RFC 7638 JWK thumbprint of k, so
// that both sides derive it from the key alone, with nothing to configure.
func KeyID(k ed25519.PublicKey) string {
	// RFC 7638 §3.2: the required members of an OKP key (RFC 8037 §2), in
	// lexicographic order, without whitespace.
	jwk := `{"crv":"Ed25519","kty":"OKP","x":"` + base64.RawURLEncoding.EncodeToString(k) + `"}`
	sum := sha256.Sum256([]byte(jwk))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}
