package authn

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// DefaultMaxHeaderBytes bounds the Authorization header when
// [Options.MaxHeaderBytes] is 0. Access tokens with many scopes or claims
// run to a few KiB; anything larger is a mistake or an attack on the
// parser.
const DefaultMaxHeaderBytes = 8 << 10

// SessionHeader is the header that names an MCP session (Streamable HTTP,
// protocol 2025-03-26 and later): the session part of [SessionCache] keys.
const SessionHeader = "Mcp-Session-Id"

// errNoVerifier is the cause when a credential's kind is not configured.
var errNoVerifier = errors.New("no verifier configured for this kind of credential")

// Verifier checks a bearer credential and returns its principal, or a
// [*TokenError]. [*JWTVerifier] and [*APIKeys] are Verifiers.
type Verifier interface {
	Verify(ctx context.Context, token string) (*Principal, error)
}

// Options configure an [Authenticator]. Tokens or APIKeys, or both, must be
// set.
type Options struct {
	// Tokens checks bearer credentials that are not API keys: normally a
	// [*JWTVerifier]. Nil refuses them.
	Tokens Verifier
	// APIKeys checks credentials that start with [APIKeyPrefix]. Nil
	// refuses them.
	APIKeys *APIKeys
	// ResourceMetadataURL is where the edge's protected resource metadata
	// is served ([MetadataURL]). Challenges point clients at it, to find
	// the authorization server. Empty leaves it out of challenges.
	ResourceMetadataURL string
	// Scopes are needed by every request: a principal without them all
	// gets 403 insufficient_scope. They are also the scope a 401 challenge
	// asks for. Nil requires none, and leaves scope out of challenges.
	Scopes []string
	// MaxHeaderBytes bounds the Authorization header; a larger one gets
	// 431. Zero means [DefaultMaxHeaderBytes].
	MaxHeaderBytes int
	// Cache, if not nil, keeps the principals verified for each MCP session
	// ([SessionHeader]), so that a session's later requests with the same
	// token skip verification.
	Cache *SessionCache
}

// Authenticator authenticates HTTP requests. Create one with [New]. It is
// safe for concurrent use.
type Authenticator struct {
	tokens      Verifier
	apiKeys     *APIKeys
	metadataURL string
	scopes      []string
	maxHeader   int
	cache       *SessionCache
}

// New returns an Authenticator for opts.
func New(opts *Options) (*Authenticator, error) {
	if opts == nil || (opts.Tokens == nil && opts.APIKeys == nil) {
		return nil, errors.New("authn: neither a token verifier nor API keys configured")
	}
	// Challenge parameters are quoted strings; refuse what could break out
	// of the quotes rather than escape it.
	if strings.ContainsAny(opts.ResourceMetadataURL, "\"\\\r\n") {
		return nil, errors.New("authn: resource metadata URL has a quote, backslash or newline")
	}
	for _, s := range opts.Scopes {
		if !validScope(s) {
			return nil, errors.New("authn: invalid scope " + strconv.Quote(s))
		}
	}
	maxHeader := opts.MaxHeaderBytes
	if maxHeader <= 0 {
		maxHeader = DefaultMaxHeaderBytes
	}
	return &Authenticator{
		tokens:      opts.Tokens,
		apiKeys:     opts.APIKeys,
		metadataURL: opts.ResourceMetadataURL,
		scopes:      slices.Clone(opts.Scopes),
		maxHeader:   maxHeader,
		cache:       opts.Cache,
	}, nil
}

// Verify returns the principal of a bearer credential: from the cache when
// session is not empty and the cache holds it, else from [APIKeys] for a
// credential with [APIKeyPrefix], else from the token verifier. A refusal
// is a [*TokenError].
func (a *Authenticator) Verify(ctx context.Context, session, token string) (*Principal, error) {
	if a.cache != nil && session != "" {
		if p, ok := a.cache.Get(session, token); ok {
			return p, nil
		}
	}
	var (
		p   *Principal
		err error
	)
	switch {
	case strings.HasPrefix(token, APIKeyPrefix) && a.apiKeys != nil:
		p, err = a.apiKeys.Verify(ctx, token)
	case strings.HasPrefix(token, APIKeyPrefix):
		err = refuse("API keys are not accepted", errNoVerifier)
	case a.tokens != nil:
		p, err = a.tokens.Verify(ctx, token)
	default:
		err = refuse("only API keys are accepted", errNoVerifier)
	}
	if err != nil {
		var te *TokenError
		if !errors.As(err, &te) {
			// A Verifier broke its contract; say nothing of why.
			err = refuse("token could not be verified", err)
		}
		return nil, err
	}
	if a.cache != nil && session != "" {
		a.cache.Add(session, token, p)
	}
	return p, nil
}

// Middleware authenticates each request before next sees it, and puts the
// principal in the request's context ([FromContext]). See the package
// documentation for the answers to requests it refuses.
func (a *Authenticator) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		vals := r.Header.Values("Authorization")
		size := 0
		for _, v := range vals {
			size += len(v)
		}
		switch {
		case size > a.maxHeader:
			// Not a challenge: no credential was looked at, and the client
			// has to fix its request, not get a token.
			writeError(w, http.StatusRequestHeaderFieldsTooLarge, "invalid_request",
				"Authorization header exceeds "+strconv.Itoa(a.maxHeader)+" bytes")
			return
		case len(vals) > 1:
			a.writeChallenge(w, http.StatusBadRequest, "invalid_request", "more than one Authorization header", a.scopes)
			return
		case len(vals) == 0 && r.Header.Get("X-API-Key") != "":
			// RFC 6750 §3.1: no error code for an unsupported method.
			a.writeChallenge(w, http.StatusUnauthorized, "", "send the API key as Authorization: Bearer, not X-API-Key", a.scopes)
			return
		case len(vals) == 0:
			a.writeChallenge(w, http.StatusUnauthorized, "", "missing bearer token", a.scopes)
			return
		}
		scheme, token, _ := strings.Cut(vals[0], " ")
		if !strings.EqualFold(scheme, "Bearer") {
			a.writeChallenge(w, http.StatusUnauthorized, "", "authorization scheme must be Bearer", a.scopes)
			return
		}
		token = strings.TrimLeft(token, " ")
		if !b64token(token) {
			a.writeChallenge(w, http.StatusBadRequest, "invalid_request", "malformed Authorization header", a.scopes)
			return
		}
		p, err := a.Verify(r.Context(), r.Header.Get(SessionHeader), token)
		if err != nil {
			var te *TokenError
			errors.As(err, &te) // Verify returns only TokenErrors
			a.writeChallenge(w, http.StatusUnauthorized, "invalid_token", te.Description, a.scopes)
			return
		}
		if !p.HasScopes(a.scopes...) {
			a.WriteInsufficientScope(w, nil)
			return
		}
		next.ServeHTTP(w, r.WithContext(WithPrincipal(r.Context(), p)))
	})
}

// WriteInsufficientScope answers 403 insufficient_scope (RFC 6750 §3.1):
// the principal is known, but lacks scopes. The challenge's scope is the
// scopes every request needs ([Options.Scopes]) followed by required, so
// that a client which steps up to a token with exactly these scopes loses
// none it needs. Callers that know the scopes of the tool being called
// (which the middleware does not) use it before calling the tool.
func (a *Authenticator) WriteInsufficientScope(w http.ResponseWriter, required []string) {
	scopes := slices.Clone(a.scopes)
	for _, s := range required {
		if validScope(s) && !slices.Contains(scopes, s) {
			scopes = append(scopes, s)
		}
	}
	a.writeChallenge(w, http.StatusForbidden, "insufficient_scope", "token lacks a required scope", scopes)
}

// writeChallenge answers with status, a Bearer challenge, and a JSON body.
// code is the RFC 6750 error code, empty when no credential was presented
// (§3.1); description is fixed text.
func (a *Authenticator) writeChallenge(w http.ResponseWriter, status int, code, description string, scopes []string) {
	var params []string
	if code != "" {
		params = append(params, `error="`+code+`"`, `error_description="`+description+`"`)
	}
	if a.metadataURL != "" {
		params = append(params, `resource_metadata="`+a.metadataURL+`"`)
	}
	if len(scopes) > 0 {
		params = append(params, `scope="`+strings.Join(scopes, " ")+`"`)
	}
	challenge := "Bearer"
	if len(params) > 0 {
		challenge += " " + strings.Join(params, ", ")
	}
	w.Header().Set("WWW-Authenticate", challenge)
	if code == "" {
		code = "unauthorized"
	}
	writeError(w, status, code, description)
}

// errorBody is the JSON body of every refusal.
type errorBody struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

func writeError(w http.ResponseWriter, status int, code, description string) {
	body, _ := json.Marshal(errorBody{Error: code, Description: description})
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}

// b64token reports whether s is a b64token (RFC 6750 §2.1):
// 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=".
func b64token(s string) bool {
	s = strings.TrimRight(s, "=")
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '-', c == '.', c == '_', c == '~', c == '+', c == '/':
		default:
			return false
		}
	}
	return true
}

// validScope reports whether s is a scope-token (RFC 6749 §3.3):
// 1*( %x21 / %x23-5B / %x5D-7E ), so that it is safe in a quoted challenge
// parameter.
func validScope(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}
