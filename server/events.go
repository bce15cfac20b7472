package server

import (
	"context"

	mcpv1 "github.com/toolwire/toolwire/gen/go/toolwire/mcp/v1"
	"google.golang.org/grpc/status"
)

// Progress returns a progress event for a stream message's oneof: done units
// of work out of total, with an optional message. A total of 0 or less means
// the total is unknown and is left unset.
func Progress(done, total float64, message string) *mcpv1.Progress {
	p := &mcpv1.Progress{Progress: done, Message: message}
	if total > 0 {
		p.Total = &total
	}
	return p
}

// ContextError returns nil while ctx is live, and once it is done a status
// error for the reason: codes.Canceled or codes.DeadlineExceeded. Handlers
// return it when they stop because the call ended.
func ContextError(ctx context.Context) error {
	err := ctx.Err()
	if err == nil {
		return nil
	}
	return status.FromContextError(err).Err()
}
