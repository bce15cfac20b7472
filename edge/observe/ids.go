package observe

import (
	"crypto/rand"
	"encoding/hex"
	"regexp"
	"strconv"
	"sync/atomic"
)

// Metadata keys the edge sets on every backend call. They are lower case, as
// gRPC metadata keys must be.
const (
	MDRequestID   = "x-request-id"
	MDTraceparent = "traceparent"
	MDTracestate  = "tracestate"
)

// processPrefix makes request ids unique across edge processes; the counter
// makes them unique within one, without a random read per call.
var (
	processPrefix = rand.Text()[:10]
	counter       atomic.Uint64
)

// NewRequestID returns a fresh request id, such as "K3J9QX0ZPA-1f".
func NewRequestID() string {
	return processPrefix + "-" + strconv.FormatUint(counter.Add(1), 36)
}

// requestIDPattern bounds what a client may pass as its own request id, so
// that ids stay safe to log and to forward.
var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9._:/-]{1,128}$`)

// RequestID returns the client's id when it is well formed, or a new one.
func RequestID(fromClient string) string {
	if fromClient != "" && requestIDPattern.MatchString(fromClient) {
		return fromClient
	}
	return NewRequestID()
}

// traceparentPattern is the W3C Trace Context version 00 header:
// version-traceid-parentid-flags, with all-zero ids invalid.
var traceparentPattern = regexp.MustCompile(`^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$`)

// Traceparent returns the caller's traceparent when it is valid, or a new
// one that starts a trace, so that backend logs can always be correlated.
// Only the header format is handled here: spans are the business of an
// OpenTelemetry SDK in the processes that record them.
func Traceparent(fromClient string) string {
	if traceparentPattern.MatchString(fromClient) &&
		fromClient[3:35] != "00000000000000000000000000000000" &&
		fromClient[36:52] != "0000000000000000" {
		return fromClient
	}
	var b [24]byte
	_, _ = rand.Read(b[:])
	return "00-" + hex.EncodeToString(b[:16]) + "-" + hex.EncodeToString(b[16:]) + "-01"
}
