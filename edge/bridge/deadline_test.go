package bridge

import (
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

func TestDeadline(t *testing.T) {
	bt := &boundTool{defaultTimeout: 30 * time.Second}
	for _, tc := range []struct {
		name string
		meta mcp.Meta
		want time.Duration
	}{
		{"no hint", nil, 30 * time.Second},
		{"shorter hint", mcp.Meta{MetaTimeoutMs: float64(1500)}, 1500 * time.Millisecond},
		{"hint as string", mcp.Meta{MetaTimeoutMs: "250"}, 250 * time.Millisecond},
		{"longer hint cannot extend", mcp.Meta{MetaTimeoutMs: float64(3_600_000)}, 30 * time.Second},
		{"zero hint ignored", mcp.Meta{MetaTimeoutMs: float64(0)}, 30 * time.Second},
		{"garbage ignored", mcp.Meta{MetaTimeoutMs: "soon"}, 30 * time.Second},
		{"negative ignored", mcp.Meta{MetaTimeoutMs: float64(-5)}, 30 * time.Second},
		{"overflowing ignored", mcp.Meta{MetaTimeoutMs: 1e300}, 30 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hint, _ := timeoutHint(tc.meta)
			if got := bt.deadline(hint); got != tc.want {
				t.Errorf("deadline = %v, want %v", got, tc.want)
			}
		})
	}
}
