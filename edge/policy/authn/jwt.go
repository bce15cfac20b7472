package authn

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/time/rate"
)

// Defaults of [JWTConfig].
const (
	// DefaultClockSkew is the allowance for clocks that differ between the
	// authorization server and the edge.
	DefaultClockSkew = 30 * time.Second
	// DefaultJWKSRefresh is how often the JWKS is fetched regardless of
	// what tokens arrive.
	DefaultJWKSRefresh = time.Hour
	// DefaultUnknownKIDRefresh is the least time between two fetches of the
	// JWKS caused by tokens naming an unknown kid.
	DefaultUnknownKIDRefresh = time.Minute
	// DefaultJWKSTimeout bounds one JWKS fetch.
	DefaultJWKSTimeout = 10 * time.Second
	// maxJWKSBytes bounds a JWKS response. Real ones are a few KiB.
	maxJWKSBytes = 1 << 20
)

// defaultAlgorithms are the signing algorithms accepted when
// [JWTConfig.Algorithms] is nil.
var defaultAlgorithms = []string{"RS256", "ES256", "EdDSA"}

// asymmetric are the algorithms [JWTConfig.Algorithms] may name. A JWKS
// publishes public keys: an HMAC algorithm would verify with a public key as
// the secret, which anyone can do, and "none" verifies nothing.
var asymmetric = []string{
	"RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
	"ES256", "ES384", "ES512", "EdDSA",
}

// JWTConfig configures a [JWTVerifier]. JWKSURL, Issuer and Audience are
// required; the rest have defaults.
type JWTConfig struct {
	// JWKSURL is the authorization server's JWK Set (its jwks_uri).
	JWKSURL string
	// Issuer is the iss every token must carry: the authorization server's
	// issuer identifier.
	Issuer string
	// Audience is the aud every token must include: the edge's own resource
	// URL, as clients request it with the resource parameter of RFC 8707.
	// A token issued for another resource is refused, so that a token
	// meant for some other service cannot be replayed here.
	Audience string
	// Algorithms are the accepted signing algorithms. Nil means RS256,
	// ES256 and EdDSA; only asymmetric algorithms are allowed.
	Algorithms []string
	// ClockSkew is the allowance given exp, nbf and iat. Zero means
	// [DefaultClockSkew]; negative means none.
	ClockSkew time.Duration
	// RefreshInterval is how often the JWKS is fetched in the background.
	// Zero means [DefaultJWKSRefresh].
	RefreshInterval time.Duration
	// UnknownKIDRefreshInterval is the least time between fetches of the
	// JWKS for tokens whose kid is not in it, which is how a rotated-in key
	// is picked up before the next background fetch. Zero means
	// [DefaultUnknownKIDRefresh]. While it is longer than Timeout (as by
	// default), a token with an unknown kid that cannot fetch is refused at
	// once; a shorter one makes such requests wait for their turn, up to
	// Timeout.
	UnknownKIDRefreshInterval time.Duration
	// Timeout bounds one JWKS fetch. Zero means [DefaultJWKSTimeout].
	Timeout time.Duration
	// HTTPClient fetches the JWKS. Nil means a client of the verifier's
	// own, whose idle connections close when the verifier's context ends.
	HTTPClient *http.Client
	// Logger receives failed JWKS fetches. Nil means slog.Default().
	Logger *slog.Logger
}

// JWTVerifier verifies JWT access tokens against an authorization server's
// JWKS. It is safe for concurrent use.
type JWTVerifier struct {
	keys    keyfunc.Keyfunc
	parser  *jwt.Parser
	allowed []string
}

// NewJWTVerifier returns a verifier for cfg. It fetches the JWKS once before
// returning; if that fails it logs the failure and returns anyway, so that
// the edge starts while the authorization server is down, and refuses tokens
// until a fetch succeeds. Background fetches run until ctx is done.
func NewJWTVerifier(ctx context.Context, cfg JWTConfig) (*JWTVerifier, error) {
	if err := cfg.check(); err != nil {
		return nil, fmt.Errorf("authn: %w", err)
	}
	allowed := cfg.Algorithms
	if allowed == nil {
		allowed = defaultAlgorithms
	}
	allowed = slices.Clone(allowed)
	skew := orDefault(cfg.ClockSkew, DefaultClockSkew)
	if skew < 0 {
		skew = 0
	}
	timeout := orDefault(cfg.Timeout, DefaultJWKSTimeout)
	logger := cfg.Logger
	if logger == nil {
		logger = slog.Default()
	}
	client := cfg.HTTPClient
	if client == nil {
		// A transport of its own, so that closing its idle connections
		// touches no one else's.
		client = &http.Client{Timeout: timeout, Transport: http.DefaultTransport.(*http.Transport).Clone()}
		context.AfterFunc(ctx, client.CloseIdleConnections)
	}
	client = limitBodies(client)
	noErrorFirst := true
	kf, err := keyfunc.NewDefaultOverrideCtx(ctx, []string{cfg.JWKSURL}, keyfunc.Override{
		Client:                    client,
		HTTPTimeout:               timeout,
		NoErrorReturnFirstHTTPReq: &noErrorFirst,
		// The limiter wait and the fetch it allows share this bound
		// (jwkset applies it to both).
		RateLimitWaitMax: timeout,
		RefreshErrorHandlerFunc: func(u string) func(context.Context, error) {
			return func(ctx context.Context, err error) {
				logger.WarnContext(ctx, "authn: JWKS fetch failed", slog.String("url", u), slog.Any("error", err))
			}
		},
		RefreshInterval: orDefault(cfg.RefreshInterval, DefaultJWKSRefresh),
		// Burst 1: the first unknown kid after a quiet period fetches at
		// once; a flood of them fetches once per interval.
		RefreshUnknownKID: rate.NewLimiter(rate.Every(orDefault(cfg.UnknownKIDRefreshInterval, DefaultUnknownKIDRefresh)), 1),
	})
	if err != nil {
		return nil, fmt.Errorf("authn: JWKS: %w", err)
	}
	return &JWTVerifier{
		keys:    kf,
		allowed: allowed,
		parser: jwt.NewParser(
			// The algorithm allow-list is checked before any key is looked
			// up: "none", HMAC and anything unlisted never reach a key.
			jwt.WithValidMethods(allowed),
			jwt.WithIssuer(cfg.Issuer),
			jwt.WithAudience(cfg.Audience),
			jwt.WithExpirationRequired(),
			jwt.WithIssuedAt(),
			jwt.WithLeeway(skew),
		),
	}, nil
}

func (cfg *JWTConfig) check() error {
	u, err := url.Parse(cfg.JWKSURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("JWKS URL %q is not an http(s) URL", cfg.JWKSURL)
	}
	if cfg.Issuer == "" {
		return errors.New("no issuer")
	}
	if cfg.Audience == "" {
		return errors.New("no audience: set it to the edge's resource URL")
	}
	if cfg.Algorithms != nil && len(cfg.Algorithms) == 0 {
		return errors.New("empty algorithm list")
	}
	for _, a := range cfg.Algorithms {
		if !slices.Contains(asymmetric, a) {
			return fmt.Errorf("algorithm %q is not allowed: use an asymmetric one", a)
		}
	}
	return nil
}

// accessClaims are the claims of an access token that the edge reads.
type accessClaims struct {
	jwt.RegisteredClaims
	// Scope is the scope claim: space-separated (RFC 8693 §4.2, RFC 9068
	// §2.2.3).
	Scope scopeList `json:"scope"`
	// Scp is the scp claim some authorization servers send instead or as
	// well: an array of scopes.
	Scp scopeList `json:"scp"`
}

// scopeList is a scope claim, read from a space-separated string or an
// array of strings.
type scopeList []string

func (s *scopeList) UnmarshalJSON(b []byte) error {
	var str string
	if err := json.Unmarshal(b, &str); err == nil {
		*s = strings.Fields(str)
		return nil
	}
	var arr []string
	if err := json.Unmarshal(b, &arr); err != nil {
		return errors.New("scope claim is neither a string nor an array of strings")
	}
	*s = arr
	return nil
}

// Verify checks an access token and returns its principal. A refusal is a
// [*TokenError].
func (v *JWTVerifier) Verify(ctx context.Context, token string) (*Principal, error) {
	var c accessClaims
	tok, err := v.parser.ParseWithClaims(token, &c, v.keys.KeyfuncCtx(ctx))
	if err != nil {
		return nil, v.refusal(tok, err)
	}
	if c.Subject == "" {
		return nil, refuse("token has no subject", nil)
	}
	scopes := []string(c.Scope)
	for _, s := range c.Scp {
		if !slices.Contains(scopes, s) {
			scopes = append(scopes, s)
		}
	}
	return &Principal{
		Subject: c.Subject,
		Scopes:  scopes,
		Method:  MethodJWT,
		Expiry:  c.ExpiresAt.Time,
	}, nil
}

// refusal turns a jwt parse error into a TokenError whose description tells
// the client what to fix without naming keys or echoing claims. The checks
// follow the parser's order: structure, algorithm, key, signature, claims.
func (v *JWTVerifier) refusal(tok *jwt.Token, err error) error {
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed), tok == nil:
		return refuse("malformed token", err)
	case tok.Method == nil || !slices.Contains(v.allowed, tok.Method.Alg()):
		return refuse("signing algorithm not allowed", err)
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		return refuse("no matching signing key", err)
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return refuse("invalid signature", err)
	case errors.Is(err, jwt.ErrTokenExpired):
		return refuse("token expired", err)
	case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return refuse("token not yet valid", err)
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return refuse("wrong issuer", err)
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return refuse("wrong audience", err)
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return refuse("token is missing a required claim", err)
	default:
		return refuse("invalid token claims", err)
	}
}

func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// limitBodies returns a copy of c whose responses fail to read past
// maxJWKSBytes: the JWKS decoder reads the whole body, and the JWKS URL is
// a remote party.
func limitBodies(c *http.Client) *http.Client {
	cc := *c
	base := cc.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	cc.Transport = limitTransport{base}
	return &cc
}

type limitTransport struct{ base http.RoundTripper }

func (t limitTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	// A nil ResponseWriter is allowed: it only serves to close a server
	// connection, and this is a client.
	resp.Body = http.MaxBytesReader(nil, resp.Body, maxJWKSBytes)
	return resp, nil
}
