// Package limits bounds what one edge replica takes on: calls in flight,
// callers waiting, connections, request sizes and abandoned streams.
//
//   - [Limiter] admits a call only if its principal, its tool and the whole
//     replica each have an in-flight slot free; otherwise the caller waits in
//     a bounded FIFO queue for a bounded time ([ErrQueueFull],
//     [ErrWaitTimeout]).
//   - [Shed] answers 503 with Retry-After at once when the replica is over
//     capacity, before any work is done.
//   - [LimitListener] caps open connections; [ConfigureServer] and
//     [MaxBytes] give an http.Server safe timeouts and sizes (slowloris,
//     oversized headers and bodies).
//   - [StreamGuard] cancels a call whose client stopped reading its stream,
//     with memory bounded; [WithMaxDuration] ends a stream that runs too long.
//
// Every wait is bounded and every refusal is immediate and typed, so callers
// can map them to JSON-RPC errors ([NewRPCError], code [CodeOverloaded]) or
// HTTP statuses in one place.
package limits
