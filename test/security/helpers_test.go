package security

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/toolwire/toolwire/edge/policy/authn"
	"github.com/toolwire/toolwire/edge/policy/authn/authntest"
	"github.com/toolwire/toolwire/internal/app"
)

// audience is the edge's resource URL: what tokens are issued for.
const audience = "https://edge.test/mcp"

// metadataURL is where challenges point (RFC 9728 §3.1).
const metadataURL = "https://edge.test/.well-known/oauth-protected-resource/mcp"

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// stack is a running `toolwire demo` with authentication on: the real edge,
// REST gateway and in-process backends, on loopback, trusting iss's JWKS.
type stack struct {
	base   string
	iss    *authntest.Issuer
	apiKey string       // subject "svc", scope search:read
	client *http.Client // nil: http.DefaultClient
}

type lineWriter struct{ lines chan string }

func (w lineWriter) Write(p []byte) (int, error) {
	sc := bufio.NewScanner(bytes.NewReader(p))
	for sc.Scan() {
		w.lines <- sc.Text()
	}
	return len(p), nil
}

var mcpURL = regexp.MustCompile(`https?://127\.0\.0\.1:[0-9]+/mcp`)

func startStack(t testing.TB) *stack {
	t.Helper()
	return startStackWith(t, nil)
}

// startStackWith is startStack with cfg changed by edit (TLS files, a
// logger) before the demo starts.
func startStackWith(t testing.TB, edit func(*app.Config)) *stack {
	t.Helper()
	iss := authntest.NewIssuer(t)
	key, hash := authn.GenerateAPIKey()
	keys := filepath.Join(t.TempDir(), "keys.yaml")
	if err := os.WriteFile(keys, []byte("- hash: "+hash+"\n  subject: svc\n  scopes: [search:read]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	out := lineWriter{make(chan string, 100)}
	done := make(chan error, 1)
	cfg := app.Config{
		Addr: "127.0.0.1:0", Logger: quiet, Out: out,
		AuthJWKSURL: iss.JWKSURL, AuthIssuer: iss.URL, AuthAudience: audience, AuthAPIKeys: keys,
	}
	if edit != nil {
		edit(&cfg)
	}
	go func() { done <- app.Demo(ctx, cfg) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Demo: %v", err)
		}
	})
	for {
		select {
		case l := <-out.lines:
			if u := mcpURL.FindString(l); u != "" {
				return &stack{base: strings.TrimSuffix(u, "/mcp"), iss: iss, apiKey: key}
			}
		case err := <-done:
			t.Fatalf("Demo ended: %v", err)
		case <-time.After(30 * time.Second):
			t.Fatal("Demo printed no URL")
		}
	}
}

// token returns a valid access token with scopes, signed with the RSA key.
func (s *stack) token(t testing.TB, scopes string) string {
	return s.iss.Sign(t, authntest.KidRSA, s.iss.Claims(audience, scopes))
}

// claims returns valid claims changed by edit.
func (s *stack) claims(scopes string, edit func(jwt.MapClaims)) jwt.MapClaims {
	c := s.iss.Claims(audience, scopes)
	if edit != nil {
		edit(c)
	}
	return c
}

type response struct {
	status int
	header http.Header
	body   string
	proto  string               // HTTP/1.1, HTTP/2.0
	tls    *tls.ConnectionState // nil over plain HTTP
}

// do sends a request and reads the whole answer.
func do(t testing.TB, method, url string, header http.Header, body string) response {
	t.Helper()
	return doWith(t, http.DefaultClient, method, url, header, body)
}

// do sends a request with s's client.
func (s *stack) do(t testing.TB, method, url string, header http.Header, body string) response {
	t.Helper()
	c := s.client
	if c == nil {
		c = http.DefaultClient
	}
	return doWith(t, c, method, url, header, body)
}

// doWith sends a request with client and reads the whole answer.
func doWith(t testing.TB, client *http.Client, method, url string, header http.Header, body string) response {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{resp.StatusCode, resp.Header, string(b), resp.Proto, resp.TLS}
}

// mcpHeader is the header of a Streamable HTTP POST with token (if any).
func mcpHeader(token, session string) http.Header {
	h := http.Header{
		"Content-Type":         {"application/json"},
		"Accept":               {"application/json, text/event-stream"},
		"Mcp-Protocol-Version": {"2025-06-18"},
	}
	if token != "" {
		h.Set("Authorization", "Bearer "+token)
	}
	if session != "" {
		h.Set("Mcp-Session-Id", session)
	}
	return h
}

const initialize = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"sec","version":"1"}}}`

// session opens a Streamable HTTP session for token.
func (s *stack) session(t testing.TB, token string) string {
	t.Helper()
	r := s.do(t, "POST", s.base+"/mcp", mcpHeader(token, ""), initialize)
	if r.status != http.StatusOK {
		t.Fatalf("initialize: %d %s", r.status, r.body)
	}
	sid := r.header.Get("Mcp-Session-Id")
	if sid == "" {
		t.Fatal("initialize: no session id")
	}
	n := s.do(t, "POST", s.base+"/mcp", mcpHeader(token, sid), `{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	if n.status != http.StatusAccepted {
		t.Fatalf("initialized: %d %s", n.status, n.body)
	}
	return sid
}

// rpcMessage is a JSON-RPC response.
type rpcMessage struct {
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Code    int64           `json:"code"`
		Message string          `json:"message"`
		Data    json.RawMessage `json:"data"`
	} `json:"error"`
}

// rpc posts body on session and decodes the response, JSON or a one-event
// SSE stream.
func (s *stack) rpc(t testing.TB, token, sid, body string) (response, rpcMessage) {
	t.Helper()
	r := s.do(t, "POST", s.base+"/mcp", mcpHeader(token, sid), body)
	payload := r.body
	if strings.HasPrefix(r.header.Get("Content-Type"), "text/event-stream") {
		payload = ""
		for _, l := range strings.Split(r.body, "\n") {
			if d, ok := strings.CutPrefix(l, "data: "); ok {
				payload = d
			}
		}
	}
	var m rpcMessage
	if r.status == http.StatusOK {
		if err := json.Unmarshal([]byte(payload), &m); err != nil {
			t.Fatalf("response %q: %v", r.body, err)
		}
	}
	return r, m
}

// challenge is the WWW-Authenticate of a refused credential.
func challenge(code, desc string) string {
	return `Bearer error="` + code + `", error_description="` + desc + `", resource_metadata="` + metadataURL + `"`
}

// errBody is the JSON body of a refusal.
func errBody(code, desc string) string {
	b, _ := json.Marshal(map[string]string{"error": code, "error_description": desc})
	return string(b) + "\n"
}
