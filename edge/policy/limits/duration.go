package limits

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ErrMaxDuration is wrapped by the cause of a context that [WithMaxDuration]
// ended.
var ErrMaxDuration = errors.New("limits: stream reached its maximum duration")

// WithMaxDuration returns a context that ends d from now, with a cause
// wrapping [ErrMaxDuration] (read it with context.Cause), so that whoever
// ends the stream can tell "too long" from a client's cancel or the call's
// own deadline. A parent that ends first keeps its own cause. d <= 0 means
// no maximum. Call cancel when the stream ends.
func WithMaxDuration(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if d <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeoutCause(ctx, d, fmt.Errorf("%w of %v", ErrMaxDuration, d))
}
