package ratelimit

import (
	"encoding/json"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Header field names.
const (
	HeaderRetryAfter      = "Retry-After"
	HeaderRateLimit       = "RateLimit"
	HeaderRateLimitPolicy = "RateLimit-Policy"
)

// SetHeaders sets the RateLimit and RateLimit-Policy fields of
// draft-ietf-httpapi-ratelimit-headers (revisions 09 and 10) from d. Both are
// Structured Field Lists (RFC 9651) with one Item, named by the class:
//
//	RateLimit-Policy: "default";q=100;w=1
//	RateLimit: "default";r=37;t=1
//
// A GCRA class (rate R per second, burst B) has no fixed window, so it is
// described as the window in which an empty bucket fills again, rounded up
// to whole seconds: w = max(1, ceil(B/R)) and q = max(1, round(R*w)), the
// units that come back in that window. r is [Decision.Remaining], at most B,
// and t is [Decision.ResetAfter] rounded up: the seconds until the bucket
// is full. Fields are set on allowed and denied responses alike; the draft
// lets a server send them on any response.
func SetHeaders(h http.Header, d Decision) {
	name := sfString(d.Class.Name)
	q, w := policyWindow(d.Class)
	h.Set(HeaderRateLimitPolicy, name+";q="+strconv.Itoa(q)+";w="+strconv.Itoa(w))
	h.Set(HeaderRateLimit, name+";r="+strconv.Itoa(max(d.Remaining, 0))+";t="+strconv.Itoa(ceilSeconds(d.ResetAfter)))
}

// RetryAfterSeconds is d in whole seconds for a Retry-After field, rounded
// up and at least 1, so that a client never retries a denied call at once.
func RetryAfterSeconds(d time.Duration) int {
	return max(ceilSeconds(d), 1)
}

// RetryAfterMillis is d in whole milliseconds, rounded up and at least 1.
func RetryAfterMillis(d time.Duration) int64 {
	return max(int64(math.Ceil(float64(d)/float64(time.Millisecond))), 1)
}

// Body is the JSON body [WriteTooManyRequests] writes.
type Body struct {
	Error        string `json:"error"`   // always "rate_limited"
	Message      string `json:"message"` // always "rate limit exceeded"
	RetryAfterMs int64  `json:"retryAfterMs"`
	Limit        int    `json:"limit"`            // the quota, as Decision.Limit
	Scope        Scope  `json:"scope"`            // which budget denied the call
	Policy       string `json:"policy,omitempty"` // the class name
}

// WriteTooManyRequests answers a call that d denied: status 429, a
// Retry-After in seconds (rounded up), the fields of [SetHeaders] and a JSON
// [Body]. scope says which budget denied the call.
//
//	HTTP/1.1 429 Too Many Requests
//	Content-Type: application/json
//	Retry-After: 2
//	RateLimit-Policy: "default";q=100;w=1
//	RateLimit: "default";r=0;t=2
//
//	{"error":"rate_limited","message":"rate limit exceeded","retryAfterMs":1250,"limit":100,"scope":"principal","policy":"default"}
func WriteTooManyRequests(w http.ResponseWriter, d Decision, scope Scope) {
	h := w.Header()
	SetHeaders(h, d)
	h.Set(HeaderRetryAfter, strconv.Itoa(RetryAfterSeconds(d.RetryAfter)))
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Del("Content-Length")
	w.WriteHeader(http.StatusTooManyRequests)
	body, _ := json.Marshal(Body{ // a struct of strings and numbers always marshals
		Error:        "rate_limited",
		Message:      Message,
		RetryAfterMs: RetryAfterMillis(d.RetryAfter),
		Limit:        d.Limit,
		Scope:        scope,
		Policy:       d.Class.Name,
	})
	_, _ = w.Write(append(body, '\n')) // the client may be gone; nothing to do then
}

// policyWindow returns the quota and window, in seconds, that describe c.
func policyWindow(c Class) (q, w int) {
	if !(c.Rate > 0) {
		return max(c.Burst, 1), 1
	}
	w = max(int(math.Ceil(float64(c.Burst)/c.Rate)), 1)
	q = max(int(math.Round(c.Rate*float64(w))), 1)
	return q, w
}

// ceilSeconds is d in whole seconds, rounded up; 0 for d <= 0.
func ceilSeconds(d time.Duration) int {
	if d <= 0 {
		return 0
	}
	return int((d + time.Second - 1) / time.Second)
}

// sfString serializes s as an RFC 9651 String: quoted, with '"' and '\'
// escaped. Characters a String cannot hold (controls, non-ASCII) become '_'.
func sfString(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20 || c > 0x7e:
			b.WriteByte('_')
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}
