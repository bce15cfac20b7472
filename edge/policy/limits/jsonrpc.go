package limits

import (
	"errors"
	"fmt"
	"time"
)

// CodeOverloaded is toolwire's JSON-RPC error code for a call that a
// concurrency [Limiter] refused: every slot of a scope was taken and its wait
// queue was full, or the call waited for a slot until the wait timeout. It
// lies in the range JSON-RPC 2.0 leaves to implementations, next to the rate
// limit's -32029, and is not among the codes the MCP specification or the Go
// SDK define.
const CodeOverloaded = -32030

// OverloadedMessage is the message of every [CodeOverloaded] error.
const OverloadedMessage = "too many calls in flight"

// Reasons of a refusal, the values of [RPCErrorData.Reason] and of the
// "reason" label of toolwire_concurrency_rejected_total.
const (
	ReasonQueueFull   = "queue_full"
	ReasonWaitTimeout = "wait_timeout"
)

// RPCError is the JSON-RPC error object of a call refused for concurrency:
//
//	{"code":-32030,"message":"too many calls in flight",
//	 "data":{"scope":"principal","reason":"queue_full","retryAfterMs":1000}}
//
// It maps onto the SDK's jsonrpc.Error as Code, Message and the JSON of Data.
type RPCError struct {
	Code    int64        `json:"code"`
	Message string       `json:"message"`
	Data    RPCErrorData `json:"data"`
}

// RPCErrorData is the data member of an [RPCError].
type RPCErrorData struct {
	// Scope is the scope that refused the call: [ScopeGlobal],
	// [ScopePrincipal] or [ScopeTool].
	Scope string `json:"scope"`
	// Reason is [ReasonQueueFull] (refused at once) or [ReasonWaitTimeout]
	// (refused after waiting).
	Reason string `json:"reason"`
	// RetryAfterMs is a hint, not a promise: when a slot frees depends on
	// the calls in flight, which no one can know.
	RetryAfterMs int64 `json:"retryAfterMs"`
}

// NewRPCError returns the JSON-RPC error for a call that e refused, with
// retryAfter as the client's hint (rounded up to whole milliseconds, at
// least 1).
func NewRPCError(e *LimitError, retryAfter time.Duration) *RPCError {
	reason := ReasonWaitTimeout
	if errors.Is(e.Err, ErrQueueFull) {
		reason = ReasonQueueFull
	}
	ms := max((retryAfter+time.Millisecond-1)/time.Millisecond, 1)
	return &RPCError{
		Code:    CodeOverloaded,
		Message: OverloadedMessage,
		Data:    RPCErrorData{Scope: e.Scope, Reason: reason, RetryAfterMs: int64(ms)},
	}
}

// Error implements error, so that the value can travel as one.
func (e *RPCError) Error() string {
	return fmt.Sprintf("%s (%s %s)", e.Message, e.Data.Scope, e.Data.Reason)
}
