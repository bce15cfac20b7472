package authn

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
)

// APIKeyPrefix starts every API key. It tells an API key from a JWT (which
// starts with "eyJ") without parsing, and makes a leaked key easy to spot
// for secret scanners.
const APIKeyPrefix = "twk_"

// APIKey configures one service account's key. The key itself is not in
// the configuration, only its hash: a leaked configuration leaks no key.
type APIKey struct {
	// Hash is the lower- or upper-case hex SHA-256 of the whole key, prefix
	// included, as [HashAPIKey] returns it.
	Hash string
	// Subject names the service account; it becomes [Principal.Subject].
	Subject string
	// Scopes are the scopes the key grants.
	Scopes []string
}

// APIKeys checks API keys against configured hashes. It is safe for
// concurrent use.
type APIKeys struct {
	entries []apiKeyEntry
}

type apiKeyEntry struct {
	hash [sha256.Size]byte
	p    *Principal
}

// NewAPIKeys returns a checker for keys. Every hash must be 64 hex digits,
// every subject non-empty, and no hash may appear twice.
func NewAPIKeys(keys []APIKey) (*APIKeys, error) {
	k := &APIKeys{entries: make([]apiKeyEntry, 0, len(keys))}
	for i, c := range keys {
		raw, err := hex.DecodeString(c.Hash)
		if err != nil || len(raw) != sha256.Size {
			return nil, fmt.Errorf("authn: API key %d (%s): hash is not 64 hex digits", i, c.Subject)
		}
		if c.Subject == "" {
			return nil, fmt.Errorf("authn: API key %d: no subject", i)
		}
		e := apiKeyEntry{p: &Principal{Subject: c.Subject, Scopes: slices.Clone(c.Scopes), Method: MethodAPIKey}}
		copy(e.hash[:], raw)
		for _, prev := range k.entries {
			if prev.hash == e.hash {
				return nil, fmt.Errorf("authn: API key %d (%s): same hash as %s's", i, c.Subject, prev.p.Subject)
			}
		}
		k.entries = append(k.entries, e)
	}
	return k, nil
}

// Verify returns the principal of key. It compares the key's hash with
// every configured hash in constant time, and does not stop at a match, so
// that the time taken says nothing about which entry, if any, matched. A
// refusal is a [*TokenError].
func (k *APIKeys) Verify(_ context.Context, key string) (*Principal, error) {
	if !strings.HasPrefix(key, APIKeyPrefix) {
		return nil, refuse("not an API key", nil)
	}
	sum := sha256.Sum256([]byte(key))
	var found *Principal
	for i := range k.entries {
		if subtle.ConstantTimeCompare(sum[:], k.entries[i].hash[:]) == 1 {
			found = k.entries[i].p
		}
	}
	if found == nil {
		return nil, refuse("unknown API key", nil)
	}
	return found, nil
}

// HashAPIKey returns the hex SHA-256 of key, the form [APIKey.Hash] takes.
//
// A plain hash, not a password hash, is enough: keys are random and long,
// so there is no dictionary to try them against, and the check stays a
// microsecond on every request.
func HashAPIKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// GenerateAPIKey returns a new API key (the prefix and 128 random bits) and
// its hash. The key is shown to its owner once; only the hash is stored.
func GenerateAPIKey() (key, hash string) {
	key = APIKeyPrefix + strings.ToLower(rand.Text())
	return key, HashAPIKey(key)
}
