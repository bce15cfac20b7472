package ratelimit_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/toolwire/toolwire/edge/policy/ratelimit"
)

func TestWriteTooManyRequests(t *testing.T) {
	d := ratelimit.Decision{
		RetryAfter: 1250 * time.Millisecond,
		ResetAfter: 1900 * time.Millisecond,
		Limit:      20,
		Class:      ratelimit.Class{Name: "default", Rate: 100, Burst: 20},
		Source:     ratelimit.SourceRedis,
	}
	rec := httptest.NewRecorder()
	ratelimit.WriteTooManyRequests(rec, d, ratelimit.ScopePrincipal)

	if rec.Code != http.StatusTooManyRequests {
		t.Errorf("status %d; want 429", rec.Code)
	}
	wantHeaders := map[string]string{
		"Retry-After":      "2",
		"RateLimit-Policy": `"default";q=100;w=1`,
		"RateLimit":        `"default";r=0;t=2`,
		"Content-Type":     "application/json",
	}
	for k, want := range wantHeaders {
		if got := rec.Header().Get(k); got != want {
			t.Errorf("%s: %q; want %q", k, got, want)
		}
	}
	var body ratelimit.Body
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("body %q: %v", rec.Body, err)
	}
	want := ratelimit.Body{Error: "rate_limited", Message: "rate limit exceeded", RetryAfterMs: 1250, Limit: 20, Scope: "principal", Policy: "default"}
	if diff := cmp.Diff(want, body); diff != "" {
		t.Errorf("body mismatch (-want +got):\n%s", diff)
	}
}

func TestSetHeaders(t *testing.T) {
	for _, tc := range []struct {
		name       string
		d          ratelimit.Decision
		policy, rl string
	}{
		{
			name:   "whole window",
			d:      ratelimit.Decision{Allowed: true, Remaining: 37, ResetAfter: 630 * time.Millisecond, Class: ratelimit.Class{Name: "default", Rate: 100, Burst: 100}},
			policy: `"default";q=100;w=1`, rl: `"default";r=37;t=1`,
		},
		{
			name:   "burst below rate",
			d:      ratelimit.Decision{Allowed: true, Remaining: 19, ResetAfter: 5 * time.Millisecond, Class: ratelimit.Class{Name: "global", Rate: 200, Burst: 20}},
			policy: `"global";q=200;w=1`, rl: `"global";r=19;t=1`,
		},
		{
			name:   "slow refill",
			d:      ratelimit.Decision{Allowed: true, Remaining: 9, ResetAfter: time.Second, Class: ratelimit.Class{Name: "slow", Rate: 1, Burst: 10}},
			policy: `"slow";q=10;w=10`, rl: `"slow";r=9;t=1`,
		},
		{
			name:   "below one per second",
			d:      ratelimit.Decision{Remaining: 0, ResetAfter: 3500 * time.Millisecond, Class: ratelimit.Class{Name: "rare", Rate: 0.5, Burst: 1}},
			policy: `"rare";q=1;w=2`, rl: `"rare";r=0;t=4`,
		},
		{
			name:   "name escaped",
			d:      ratelimit.Decision{Allowed: true, Remaining: 1, Class: ratelimit.Class{Name: "a\"b\\c\né", Rate: 1, Burst: 1}},
			policy: `"a\"b\\c___";q=1;w=1`, rl: `"a\"b\\c___";r=1;t=0`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			ratelimit.SetHeaders(h, tc.d)
			if got := h.Get("RateLimit-Policy"); got != tc.policy {
				t.Errorf("RateLimit-Policy: %s; want %s", got, tc.policy)
			}
			if got := h.Get("RateLimit"); got != tc.rl {
				t.Errorf("RateLimit: %s; want %s", got, tc.rl)
			}
		})
	}
}

func TestRetryAfterRounding(t *testing.T) {
	for d, want := range map[time.Duration]int{0: 1, time.Nanosecond: 1, time.Second: 1, time.Second + 1: 2, 2500 * time.Millisecond: 3} {
		if got := ratelimit.RetryAfterSeconds(d); got != want {
			t.Errorf("RetryAfterSeconds(%v) = %d; want %d", d, got, want)
		}
	}
	for d, want := range map[time.Duration]int64{0: 1, time.Nanosecond: 1, time.Millisecond: 1, 1001 * time.Microsecond: 2} {
		if got := ratelimit.RetryAfterMillis(d); got != want {
			t.Errorf("RetryAfterMillis(%v) = %d; want %d", d, got, want)
		}
	}
}

func TestNewRPCError(t *testing.T) {
	d := ratelimit.Decision{RetryAfter: 1500 * time.Microsecond, Limit: 5, Class: ratelimit.Class{Name: "search", Rate: 1, Burst: 5}}
	e := ratelimit.NewRPCError(d, ratelimit.ScopeTool)
	if e.Code != -32029 || e.Message != "rate limit exceeded" {
		t.Errorf("Code, Message = %d, %q", e.Code, e.Message)
	}
	got, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"code":-32029,"message":"rate limit exceeded","data":{"retryAfterMs":2,"limit":5,"scope":"tool","policy":"search"}}`
	if string(got) != want {
		t.Errorf("JSON:\n got %s\nwant %s", got, want)
	}
	var err2 error = e
	if err2.Error() == "" {
		t.Error("empty Error()")
	}
}
