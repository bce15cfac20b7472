package authn

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"
)

// clock is a settable time source for the cache.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }
func newClockCache(opts *CacheOptions) (*SessionCache, *clock) {
	c := NewSessionCache(opts)
	clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	c.now = clk.now
	return c, clk
}

func TestSessionCacheNeverOutlivesExp(t *testing.T) {
	c, clk := newClockCache(nil)
	p := &Principal{Subject: "alice", Method: MethodJWT, Expiry: clk.t.Add(30 * time.Second)}
	c.Add("s1", "tok", p)
	if got, ok := c.Get("s1", "tok"); !ok || got != p {
		t.Fatalf("Get right after Add = %v, %v", got, ok)
	}
	clk.advance(29 * time.Second)
	if _, ok := c.Get("s1", "tok"); !ok {
		t.Fatal("entry gone before exp")
	}
	clk.advance(time.Second) // now == exp
	if _, ok := c.Get("s1", "tok"); ok {
		t.Fatal("entry served at the token's exp")
	}
	if c.Len() != 0 {
		t.Errorf("expired entry kept: Len = %d", c.Len())
	}
	// An already expired principal is not cached at all.
	c.Add("s1", "tok", p)
	if c.Len() != 0 {
		t.Error("expired principal cached")
	}
}

func TestSessionCacheMaxTTL(t *testing.T) {
	c, clk := newClockCache(&CacheOptions{MaxTTL: time.Minute})
	c.Add("s1", "key", &Principal{Subject: "svc", Method: MethodAPIKey}) // no exp
	c.Add("s1", "jwt", &Principal{Subject: "alice", Expiry: clk.t.Add(time.Hour)})
	clk.advance(59 * time.Second)
	if _, ok := c.Get("s1", "key"); !ok {
		t.Fatal("API key entry gone before MaxTTL")
	}
	clk.advance(time.Second)
	for _, tok := range []string{"key", "jwt"} {
		if _, ok := c.Get("s1", tok); ok {
			t.Errorf("%s entry served past MaxTTL", tok)
		}
	}
}

func TestSessionCacheKeys(t *testing.T) {
	c, clk := newClockCache(nil)
	p := &Principal{Subject: "alice", Expiry: clk.t.Add(time.Hour)}
	c.Add("s1", "tok", p)
	for _, k := range [][2]string{{"s2", "tok"}, {"s1", "tok2"}, {"", "tok"}} {
		if _, ok := c.Get(k[0], k[1]); ok {
			t.Errorf("Get(%q, %q) hit an entry added for (s1, tok)", k[0], k[1])
		}
	}
	c.Add("s2", "tok", p)
	c.Forget("s1")
	if _, ok := c.Get("s1", "tok"); ok {
		t.Error("Forget(s1) left s1's entry")
	}
	if _, ok := c.Get("s2", "tok"); !ok {
		t.Error("Forget(s1) dropped s2's entry")
	}
}

func TestSessionCacheBounded(t *testing.T) {
	c, clk := newClockCache(&CacheOptions{MaxEntries: 3})
	p := &Principal{Subject: "alice", Expiry: clk.t.Add(time.Hour)}
	for i := range 3 {
		c.Add("s", fmt.Sprint(i), p)
	}
	c.Get("s", "0") // 0 is now the most recently used; 1 the least
	c.Add("s", "3", p)
	if c.Len() != 3 {
		t.Fatalf("Len = %d, want 3", c.Len())
	}
	if _, ok := c.Get("s", "1"); ok {
		t.Error("the least recently used entry was kept")
	}
	for _, tok := range []string{"0", "2", "3"} {
		if _, ok := c.Get("s", tok); !ok {
			t.Errorf("entry %s evicted", tok)
		}
	}
	for i := range 100 {
		c.Add(fmt.Sprint("s", i), "tok", p)
	}
	if c.Len() != 3 {
		t.Errorf("Len = %d after 100 more, want 3", c.Len())
	}
}

// countingVerifier accepts any token, and counts the calls.
type countingVerifier struct{ n atomic.Int32 }

func (v *countingVerifier) Verify(_ context.Context, tok string) (*Principal, error) {
	v.n.Add(1)
	return &Principal{Subject: tok, Method: MethodJWT, Expiry: time.Now().Add(time.Hour)}, nil
}

// TestAuthenticatorUsesCache checks that Verify consults the cache only
// with a session, and keys it by token.
func TestAuthenticatorUsesCache(t *testing.T) {
	v := &countingVerifier{}
	a, err := New(&Options{Tokens: v, Cache: NewSessionCache(nil)})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	steps := []struct {
		session, token string
		calls          int32
	}{
		{"s1", "a", 1},
		{"s1", "a", 1}, // hit
		{"s1", "b", 2}, // another token
		{"s2", "a", 3}, // another session
		{"", "a", 4},   // no session: no cache
		{"", "a", 5},
		{"s1", "a", 5}, // still cached
	}
	for i, s := range steps {
		p, err := a.Verify(ctx, s.session, s.token)
		if err != nil || p.Subject != s.token {
			t.Fatalf("step %d: %v, %v", i, p, err)
		}
		if got := v.n.Load(); got != s.calls {
			t.Fatalf("step %d (%q, %q): verifier called %d times, want %d", i, s.session, s.token, got, s.calls)
		}
	}
}
