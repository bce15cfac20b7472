package edge

import (
	"net"
	"net/http"
	"net/url"
	"strings"
)

// Guard rejects requests whose Host or Origin header is not allowed, which is
// how MCP servers defend against DNS rebinding: a page on an evil site that
// resolves its name to 127.0.0.1 still sends its own Host and Origin.
//
// http.CrossOriginProtection checks only unsafe methods, while the SSE and
// Streamable HTTP GET streams are reads that must be guarded too, and the
// SDK's own check covers loopback listeners only; hence this small guard.
type Guard struct {
	hosts   map[string]bool
	origins map[string]bool
}

// NewGuard allows the loopback names (localhost, 127.0.0.1, ::1) on any port,
// plus hosts (names without port) and origins (scheme://host[:port]).
func NewGuard(hosts, origins []string) *Guard {
	g := &Guard{hosts: map[string]bool{}, origins: map[string]bool{}}
	for _, h := range hosts {
		g.hosts[strings.ToLower(h)] = true
	}
	for _, o := range origins {
		g.origins[strings.ToLower(strings.TrimSuffix(o, "/"))] = true
	}
	return g
}

func isLoopbackName(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func hostOnly(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return strings.ToLower(strings.Trim(h, "[]"))
	}
	return strings.ToLower(strings.Trim(hostport, "[]"))
}

// allowedHost reports whether a Host header value is allowed.
func (g *Guard) allowedHost(hostport string) bool {
	h := hostOnly(hostport)
	return isLoopbackName(h) || g.hosts[h]
}

// allowedOrigin reports whether an Origin header value is allowed: a listed
// origin, or a loopback one (for local tools such as MCP Inspector's UI).
func (g *Guard) allowedOrigin(origin string) bool {
	o := strings.ToLower(origin)
	if g.origins[o] {
		return true
	}
	u, err := url.Parse(o)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return false
	}
	return isLoopbackName(hostOnly(u.Host))
}

// Wrap guards next. A rejected request gets 403 and a one-line reason.
func (g *Guard) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !g.allowedHost(r.Host) {
			http.Error(w, "Forbidden: Host "+strconvQuote(r.Host)+" is not allowed", http.StatusForbidden)
			return
		}
		if o := r.Header.Get("Origin"); o != "" && !g.allowedOrigin(o) {
			http.Error(w, "Forbidden: Origin "+strconvQuote(o)+" is not allowed", http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func strconvQuote(s string) string {
	if len(s) > 100 {
		s = s[:100] + "…"
	}
	return `"` + strings.NewReplacer(`"`, `\"`, "\n", `\n`, "\r", `\r`).Replace(s) + `"`
}
