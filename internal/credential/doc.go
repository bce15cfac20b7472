// Package credential is the internal credential the edge mints for a backend
// call, and the check a backend makes of it.
//
// The client's own token never leaves the edge: it was issued for the edge
// (its audience is the edge's resource URL, RFC 8707), and a backend that
// accepted it would also accept it replayed by any other backend. Instead,
// for each call the edge mints a short-lived JWT (RFC 7519), signed with
// Ed25519 (EdDSA, RFC 8037), that says who the caller is, with which scopes,
// and for which backend:
//
//	iss  "toolwire-edge"                  ([Issuer])
//	sub  the principal the edge authenticated
//	aud  the backend's name or gRPC service
//	scope the principal's scopes, space-separated (as RFC 8693 and RFC 9068)
//	iat, exp  exp at most [MaxTTL] after iat, [DefaultTTL] by default
//	jti  a random id, for logs and audit
//
// The edge holds the private key in a [Minter]; each backend holds the public
// keys in a [Verifier], which accepts only EdDSA, the issuer above, its own
// audience, and an unexpired token. The credential travels in the gRPC
// metadata key [MetadataKey]; [Minter.OutgoingContext] puts it there and
// [FromIncomingContext] takes it out. Package server's credential
// interceptors run the check on every call.
//
// A credential is a bearer token: one replayed before its exp is accepted.
// The short lifetime bounds that window, the audience confines a leaked
// credential to one backend, and the jti lets logs tie a replay to its call.
//
// Keys come from PEM files ([LoadPrivateKey], [LoadPublicKey]) or, when edge
// and backends run in one process as in the demo, from [GenerateKey].
package credential
