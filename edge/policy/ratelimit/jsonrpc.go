package ratelimit

import "fmt"

// CodeRateLimited is toolwire's JSON-RPC error code for a call denied by a
// rate limit. It lies in the range JSON-RPC 2.0 leaves to implementations
// (-32000 to -32099), echoes HTTP 429, and is not among the codes the MCP
// specification or the Go SDK define (-32002, -32020 to -32022, -32042).
const CodeRateLimited = -32029

// Message is the message of every rate-limit error, over HTTP or JSON-RPC.
const Message = "rate limit exceeded"

// RPCError is the JSON-RPC error object of a denied call inside MCP:
//
//	{"code":-32029,"message":"rate limit exceeded",
//	 "data":{"retryAfterMs":1250,"limit":100,"scope":"principal","policy":"default"}}
//
// It maps onto the SDK's jsonrpc.Error as Code, Message and the JSON of Data.
type RPCError struct {
	Code    int64        `json:"code"`
	Message string       `json:"message"`
	Data    RPCErrorData `json:"data"`
}

// RPCErrorData is the data member of an [RPCError].
type RPCErrorData struct {
	// RetryAfterMs is the wait before the call may succeed, rounded up to a
	// whole millisecond and at least 1.
	RetryAfterMs int64 `json:"retryAfterMs"`
	// Limit is the quota the call was counted against (Decision.Limit).
	Limit int `json:"limit"`
	// Scope is the budget that denied the call.
	Scope Scope `json:"scope"`
	// Policy is the name of the class, as in the RateLimit header fields.
	Policy string `json:"policy,omitempty"`
}

// NewRPCError returns the JSON-RPC error for a call that d denied in scope.
func NewRPCError(d Decision, scope Scope) *RPCError {
	return &RPCError{
		Code:    CodeRateLimited,
		Message: Message,
		Data: RPCErrorData{
			RetryAfterMs: RetryAfterMillis(d.RetryAfter),
			Limit:        d.Limit,
			Scope:        scope,
			Policy:       d.Class.Name,
		},
	}
}

// Error implements error, so that the value can travel as one.
func (e *RPCError) Error() string {
	return fmt.Sprintf("%s (%s, retry after %d ms)", e.Message, e.Data.Scope, e.Data.RetryAfterMs)
}
