package bridge

import (
	"strconv"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// MetaTimeoutMs is the request _meta key by which a client asks for a shorter
// deadline, in milliseconds. A number or a decimal string is accepted.
const MetaTimeoutMs = "io.github.toolwire/timeoutMs"

// deadline is the smallest of the tool's default (itself capped by the tool's
// maximum), the client's hint, and the edge's maximum. A client can shorten a
// call, never lengthen it.
func (bt *boundTool) deadline(meta mcp.Meta) time.Duration {
	d := bt.defaultTimeout
	if hint, ok := timeoutHint(meta); ok && hint < d {
		d = hint
	}
	return d
}

func timeoutHint(meta mcp.Meta) (time.Duration, bool) {
	if meta == nil {
		return 0, false
	}
	var ms float64
	switch v := meta[MetaTimeoutMs].(type) {
	case float64:
		ms = v
	case string:
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return 0, false
		}
		ms = f
	default:
		return 0, false
	}
	if ms <= 0 {
		return 0, false
	}
	return time.Duration(ms * float64(time.Millisecond)), true
}
