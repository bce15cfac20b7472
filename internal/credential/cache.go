package credential

import (
	"strings"
	"sync"
	"time"
)

// Signing and verifying an Ed25519 credential cost about 80 µs a call
// between them (BenchmarkAuth, issue 5): more than the rest of the edge's
// work on a call. A caller makes many calls to the same backend, so the
// Minter reuses a credential while it has at least half its life left, and
// the Verifier remembers the credentials it has verified until they
// expire. Neither cache changes what is accepted: a remembered credential
// is the same string, already checked, and expiry is checked at every use.

// cacheMax bounds each cache. Past it, the cache is emptied and refills
// with the principals that are calling: a simple bound that cannot grow
// with the number of principals, at the cost of re-signing after a flood.
const cacheMax = 10_000

// mintKey is what a minted credential depends on.
type mintKey struct {
	audience, subject, scopes string
	notAfter                  int64 // p.NotAfter in Unix nanoseconds; 0 for none
}

type minted struct {
	token string
	// reuseUntil is when the credential has half its life left.
	reuseUntil time.Time
}

type mintCache struct {
	mu sync.Mutex
	m  map[mintKey]minted
}

func newMintKey(audience string, p Principal) mintKey {
	k := mintKey{audience: audience, subject: p.Subject, scopes: strings.Join(p.Scopes, " ")}
	if !p.NotAfter.IsZero() {
		k.notAfter = p.NotAfter.UnixNano()
	}
	return k
}

func (c *mintCache) get(k mintKey, now time.Time) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[k]
	if !ok || !now.Before(e.reuseUntil) {
		return "", false
	}
	return e.token, true
}

func (c *mintCache) put(k mintKey, token string, reuseUntil time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= cacheMax {
		c.m = make(map[mintKey]minted)
	}
	c.m[k] = minted{token: token, reuseUntil: reuseUntil}
}

// verifiedCache remembers verified credentials, by their text.
type verifiedCache struct {
	mu sync.RWMutex
	m  map[string]*Claims
}

// get returns the claims of token if it was verified and has not expired.
func (c *verifiedCache) get(token string, now time.Time) (*Claims, bool) {
	c.mu.RLock()
	cl, ok := c.m[token]
	c.mu.RUnlock()
	if !ok || !now.Before(cl.Expiry) {
		return nil, false
	}
	return cl, true
}

func (c *verifiedCache) put(token string, cl *Claims) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= cacheMax {
		c.m = make(map[string]*Claims)
	}
	c.m[token] = cl
}
