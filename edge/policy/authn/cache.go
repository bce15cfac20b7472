package authn

import (
	"container/list"
	"crypto/sha256"
	"sync"
	"time"
)

// Defaults of [CacheOptions].
const (
	DefaultCacheEntries = 10000
	DefaultCacheTTL     = 5 * time.Minute
)

// CacheOptions configure a [SessionCache]. A nil *CacheOptions means
// defaults.
type CacheOptions struct {
	// MaxEntries bounds the cache; the least recently used entry goes
	// first. Zero means [DefaultCacheEntries].
	MaxEntries int
	// MaxTTL bounds how long an entry is kept even if its token lives
	// longer: how long an API key removed from the configuration, or a key
	// removed from the JWKS, still works for a session that used it. Zero
	// means [DefaultCacheTTL].
	MaxTTL time.Duration
}

// SessionCache remembers the principal verified for a (session, token)
// pair, so that an MCP session's later requests with the same token skip
// the signature check. An entry never outlives its token's exp, nor
// [CacheOptions.MaxTTL]. It is safe for concurrent use.
//
// The token is a key, not a hint: a hit needs the very token that was
// verified, so a client cannot borrow another session's principal by
// sending its session id.
type SessionCache struct {
	maxEntries int
	maxTTL     time.Duration
	now        func() time.Time // time.Now; tests replace it

	mu      sync.Mutex
	lru     list.List // of *cacheEntry, most recently used first
	entries map[cacheKey]*list.Element
}

// cacheKey holds a SHA-256 of the token rather than the token: the cache
// then holds no bearer token that a heap dump could leak, and keys are of
// fixed size whatever the token's.
type cacheKey struct {
	session string
	token   [sha256.Size]byte
}

type cacheEntry struct {
	key     cacheKey
	p       *Principal
	expires time.Time
}

// NewSessionCache returns an empty cache.
func NewSessionCache(opts *CacheOptions) *SessionCache {
	if opts == nil {
		opts = &CacheOptions{}
	}
	c := &SessionCache{
		maxEntries: opts.MaxEntries,
		maxTTL:     opts.MaxTTL,
		now:        time.Now,
		entries:    map[cacheKey]*list.Element{},
	}
	if c.maxEntries <= 0 {
		c.maxEntries = DefaultCacheEntries
	}
	if c.maxTTL <= 0 {
		c.maxTTL = DefaultCacheTTL
	}
	return c
}

func keyOf(session, token string) cacheKey {
	return cacheKey{session: session, token: sha256.Sum256([]byte(token))}
}

// Get returns the principal cached for session and token, if it has not
// expired.
func (c *SessionCache) Get(session, token string) (*Principal, bool) {
	k := keyOf(session, token)
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.entries[k]
	if !ok {
		return nil, false
	}
	e := el.Value.(*cacheEntry)
	if !now.Before(e.expires) {
		c.remove(el)
		return nil, false
	}
	c.lru.MoveToFront(el)
	return e.p, true
}

// Add caches p for session and token, until p.Expiry or MaxTTL from now,
// whichever is first. A principal that has already expired is not cached.
func (c *SessionCache) Add(session, token string, p *Principal) {
	now := c.now()
	expires := now.Add(c.maxTTL)
	if !p.Expiry.IsZero() && p.Expiry.Before(expires) {
		expires = p.Expiry
	}
	if !now.Before(expires) {
		return
	}
	k := keyOf(session, token)
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[k]; ok {
		e := el.Value.(*cacheEntry)
		e.p, e.expires = p, expires
		c.lru.MoveToFront(el)
		return
	}
	for c.lru.Len() >= c.maxEntries {
		c.remove(c.lru.Back())
	}
	c.entries[k] = c.lru.PushFront(&cacheEntry{key: k, p: p, expires: expires})
}

// Forget drops every entry of session: call it when the session ends.
func (c *SessionCache) Forget(session string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	// A scan: sessions end far less often than requests arrive, and the
	// cache is bounded.
	for el := c.lru.Front(); el != nil; {
		next := el.Next()
		if el.Value.(*cacheEntry).key.session == session {
			c.remove(el)
		}
		el = next
	}
}

// Len returns the number of entries, expired ones included until they are
// looked up or evicted.
func (c *SessionCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}

func (c *SessionCache) remove(el *list.Element) {
	delete(c.entries, el.Value.(*cacheEntry).key)
	c.lru.Remove(el)
}
