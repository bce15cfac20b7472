// Package ratelimit decides whether a call may run now, per key and per
// [Class], and tells the caller how to answer when it may not.
//
// Three stores implement [Limiter]:
//
//   - [Local] keeps one token bucket per key in process (golang.org/x/time/rate),
//     evicting idle keys so that memory stays bounded. It serves one replica.
//   - [Redis] runs the GCRA script of github.com/go-redis/redis_rate: one
//     atomic Lua call per decision, so replicas sharing one Redis enforce one
//     global budget.
//   - [Fallback] puts a short per-decision timeout in front of a primary store
//     (Redis) and, while it fails, decides locally, allows, or denies, as
//     configured. It probes the primary at most once per probe interval, so a
//     dead Redis costs one timeout per interval rather than one per call.
//
// A denied [Decision] is answered in one of two shapes: over plain HTTP with
// [WriteTooManyRequests] (status 429, Retry-After, the IETF RateLimit and
// RateLimit-Policy fields and a JSON body), or inside MCP with [NewRPCError]
// (JSON-RPC error [CodeRateLimited]).
//
// # Semantics of a class
//
// A [Class] admits Rate units per second on average and at most Burst units at
// once; each call takes Cost units. GCRA and the token bucket are the same
// policy written two ways, so [Local] and [Redis] admit the same calls; the
// Redis store reads Redis's clock, the local one the process's.
package ratelimit
