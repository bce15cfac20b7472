package bridge

import (
	"math"
	"strconv"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// MetaTimeoutMs is the request _meta key by which a client asks for a shorter
// deadline, in milliseconds. A number or a decimal string is accepted.
const MetaTimeoutMs = "io.github.toolwire/timeoutMs"

// deadline is the smallest of the tool's default (itself capped by the tool's
// maximum), the client's hint (zero: none), and the edge's maximum. A client
// can shorten a call, never lengthen it.
func (bt *boundTool) deadline(hint time.Duration) time.Duration {
	if hint > 0 && hint < bt.defaultTimeout {
		return hint
	}
	return bt.defaultTimeout
}

// timeoutHint reads the client's hint from a decoded _meta.
func timeoutHint(meta mcp.Meta) (time.Duration, bool) {
	switch v := meta[MetaTimeoutMs].(type) {
	case float64:
		return TimeoutHintMs(v)
	case string:
		return TimeoutHintString(v)
	}
	return 0, false
}

// TimeoutHintString reads a hint given as a decimal string.
func TimeoutHintString(v string) (time.Duration, bool) {
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return 0, false
	}
	return TimeoutHintMs(f)
}

// TimeoutHintMs reads a hint given as a number of milliseconds; zero,
// negative and absurd values are no hint.
func TimeoutHintMs(ms float64) (time.Duration, bool) {
	if !(ms > 0) || ms > float64(math.MaxInt64/int64(time.Millisecond)) {
		return 0, false
	}
	return time.Duration(ms * float64(time.Millisecond)), true
}
