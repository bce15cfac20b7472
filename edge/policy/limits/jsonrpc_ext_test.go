package limits_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/toolwire/toolwire/edge/policy/limits"
)

func TestNewRPCError(t *testing.T) {
	for _, tc := range []struct {
		err        *limits.LimitError
		retryAfter time.Duration
		want       string
	}{
		{&limits.LimitError{Scope: limits.ScopePrincipal, Err: limits.ErrQueueFull}, time.Second,
			`{"code":-32030,"message":"too many calls in flight","data":{"scope":"principal","reason":"queue_full","retryAfterMs":1000}}`},
		{&limits.LimitError{Scope: limits.ScopeTool, Err: limits.ErrWaitTimeout}, 1500 * time.Microsecond,
			`{"code":-32030,"message":"too many calls in flight","data":{"scope":"tool","reason":"wait_timeout","retryAfterMs":2}}`},
		{&limits.LimitError{Scope: limits.ScopeGlobal, Err: limits.ErrQueueFull}, 0,
			`{"code":-32030,"message":"too many calls in flight","data":{"scope":"global","reason":"queue_full","retryAfterMs":1}}`},
	} {
		b, err := json.Marshal(limits.NewRPCError(tc.err, tc.retryAfter))
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != tc.want {
			t.Errorf("NewRPCError(%v, %v):\n got %s\nwant %s", tc.err, tc.retryAfter, b, tc.want)
		}
	}
}
