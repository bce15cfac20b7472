package bridge

import (
	"errors"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/toolwire/toolwire/edge/observe"
)

func TestStatusTable(t *testing.T) {
	for _, tc := range []struct {
		code    codes.Code
		rpcCode int64  // non-zero: a JSON-RPC error with this code
		text    string // for tool errors: what the text must contain
	}{
		{codes.Canceled, 0, "sleep failed (CANCELED): boom — the call was cancelled"},
		{codes.Unknown, 0, "(UNKNOWN): boom — the backend failed"},
		{codes.InvalidArgument, 0, "(INVALID_ARGUMENT): boom — fix the arguments"},
		{codes.DeadlineExceeded, 0, "(DEADLINE_EXCEEDED): boom — the backend ran out of time"},
		{codes.NotFound, 0, "(NOT_FOUND): boom — nothing matches"},
		{codes.AlreadyExists, 0, "(ALREADY_EXISTS)"},
		{codes.PermissionDenied, CodePermissionDenied, ""},
		{codes.ResourceExhausted, 0, "(RESOURCE_EXHAUSTED): boom — a limit was reached; retry later"},
		{codes.FailedPrecondition, 0, "(FAILED_PRECONDITION)"},
		{codes.Aborted, 0, "(ABORTED)"},
		{codes.OutOfRange, 0, "(OUT_OF_RANGE)"},
		{codes.Unimplemented, 0, "(UNIMPLEMENTED): boom — the backend does not implement this tool"},
		{codes.Internal, 0, "(INTERNAL)"},
		{codes.Unavailable, 0, "(UNAVAILABLE): boom — the backend is unavailable; retry later"},
		{codes.DataLoss, 0, "(DATA_LOSS)"},
		{codes.Unauthenticated, CodeUnauthenticated, ""},
		{codes.Code(99), 0, "the backend failed"},
	} {
		t.Run(tc.code.String(), func(t *testing.T) {
			res, err, outcome := fromStatus("sleep", status.New(tc.code, "boom"))
			if tc.rpcCode != 0 {
				var je *jsonrpc.Error
				if !errors.As(err, &je) || je.Code != tc.rpcCode || res != nil {
					t.Fatalf("want JSON-RPC error %d, got res=%v err=%v", tc.rpcCode, res, err)
				}
				if je.Message != "sleep: boom" || outcome != observe.OutcomeRPCError {
					t.Errorf("message %q outcome %q", je.Message, outcome)
				}
				return
			}
			if err != nil || res == nil || !res.IsError {
				t.Fatalf("want an isError result, got res=%v err=%v", res, err)
			}
			if outcome != observe.OutcomeToolError {
				t.Errorf("outcome %q", outcome)
			}
			if got := text(res.Content); !strings.Contains(got, tc.text) {
				t.Errorf("text %q does not contain %q", got, tc.text)
			}
		})
	}
}

func TestEveryCodeIsMapped(t *testing.T) {
	for c := codes.OK + 1; c <= codes.Unauthenticated; c++ {
		if _, ok := statusTable[c]; !ok {
			t.Errorf("%v has no row in statusTable", c)
		}
	}
}

func text(cs []mcp.Content) string {
	var b strings.Builder
	for _, c := range cs {
		if tc, ok := c.(*mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String()
}
