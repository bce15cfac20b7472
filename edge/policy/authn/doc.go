// Package authn makes the MCP edge an OAuth 2.1 resource server: it
// authenticates each HTTP request, and puts the caller's [Principal] in the
// request's context for the policies and the bridge that follow.
//
// Two kinds of credential are accepted, both in the Authorization header as
// "Bearer <credential>" (RFC 6750 §2.1):
//
//   - Access tokens: JWTs issued by the authorization server, checked by a
//     [JWTVerifier] against the server's JWKS: signature (RS256, ES256 and
//     EdDSA by default; never "none" nor an HMAC algorithm), issuer,
//     audience (the edge's own resource URL, RFC 8707), exp, nbf and iat
//     with a small clock-skew allowance. Scopes come from the scope claim
//     and, if present, the scp claim.
//   - API keys for service accounts: opaque secrets that start with
//     [APIKeyPrefix] ("twk_"), checked by [APIKeys] against the SHA-256
//     hashes in the configuration. The prefix alone decides which check a
//     credential gets, so a key is never parsed as a JWT nor a JWT looked
//     up as a key.
//
// API keys go in the Authorization header and nowhere else; a request with
// only an X-API-Key header is refused with a message saying so. One header
// means one place where credentials are read and size-limited, and one
// header to keep out of logs; MCP clients already know how to send it; and
// a request cannot carry two credentials that disagree.
//
// [Authenticator.Middleware] answers a request without a usable credential
// as RFC 6750 §3 and RFC 9728 §5.1 ask: 401 and a WWW-Authenticate challenge
// that points at the protected resource metadata ([MetadataHandler]), with
// error="invalid_token" when a credential was presented and refused; 400
// for a malformed Authorization header; 431 for an oversized one; 403
// insufficient_scope when the principal lacks the scopes every request
// needs. Callers that know a tool's scopes answer with
// [Authenticator.WriteInsufficientScope], which asks the client to step up.
//
// Verification of a JWT costs a signature check. A [SessionCache] keeps the
// verified principal of an MCP session's token, never past the token's exp,
// so that a session's later requests skip it.
package authn
