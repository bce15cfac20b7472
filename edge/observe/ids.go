package observe

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	mrand "math/rand/v2"
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
	var b [32]byte
	return string(appendRequestID(b[:0]))
}

func appendRequestID(b []byte) []byte {
	b = append(append(b, processPrefix...), '-')
	return strconv.AppendUint(b, counter.Add(1), 36)
}

// IDs returns [RequestID] and [Traceparent] of what the client sent, in one
// allocation when both are new.
func IDs(clientID, clientTraceparent string) (requestID, traceparent string) {
	newID, newTP := !validRequestID(clientID), !validTraceparent(clientTraceparent)
	switch {
	case newID && newTP:
		var b [96]byte
		buf := appendTraceparent(b[:0])
		buf = appendRequestID(buf)
		all := string(buf)
		return all[55:], all[:55]
	case newID:
		return NewRequestID(), clientTraceparent
	case newTP:
		return clientID, newTraceparent()
	}
	return clientID, clientTraceparent
}

// RequestID returns the client's id when it is well formed, or a new one.
// A well-formed id is 1 to 128 characters of A-Z, a-z, 0-9 and ._:/- , so
// that ids stay safe to log and to forward.
func RequestID(fromClient string) string {
	if validRequestID(fromClient) {
		return fromClient
	}
	return NewRequestID()
}

func validRequestID(id string) bool {
	if len(id) == 0 || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		switch c := id[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			c == '.', c == '_', c == ':', c == '/', c == '-':
		default:
			return false
		}
	}
	return true
}

// Traceparent returns the caller's traceparent when it is valid, or a new
// one that starts a trace, so that backend logs can always be correlated.
// Only the header format is handled here: spans are the business of an
// OpenTelemetry SDK in the processes that record them.
func Traceparent(fromClient string) string {
	if validTraceparent(fromClient) {
		return fromClient
	}
	return newTraceparent()
}

// validTraceparent checks the W3C Trace Context version 00 header,
// version-traceid-parentid-flags in lower-case hex, with all-zero ids
// invalid.
func validTraceparent(tp string) bool {
	if len(tp) != 55 || tp[:3] != "00-" || tp[35] != '-' || tp[52] != '-' ||
		!lowerHex(tp[3:35]) || !lowerHex(tp[36:52]) || !lowerHex(tp[53:55]) {
		return false
	}
	return tp[3:35] != "00000000000000000000000000000000" && tp[36:52] != "0000000000000000"
}

func lowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// newTraceparent starts a trace: random ids from the runtime's ChaCha8
// generator, which is seeded by the OS and per thread, so that no call waits
// on a system call or a lock. W3C Trace Context asks for random ids, not for
// secret ones.
func newTraceparent() string {
	var b [55]byte
	return string(appendTraceparent(b[:0]))
}

func appendTraceparent(b []byte) []byte {
	var ids [24]byte
	for {
		binary.LittleEndian.PutUint64(ids[0:], mrand.Uint64())
		binary.LittleEndian.PutUint64(ids[8:], mrand.Uint64())
		binary.LittleEndian.PutUint64(ids[16:], mrand.Uint64())
		if !allZero(ids[:16]) && !allZero(ids[16:]) {
			break
		}
	}
	b = append(b, "00-"...)
	b = hex.AppendEncode(b, ids[:16])
	b = append(b, '-')
	b = hex.AppendEncode(b, ids[16:])
	return append(b, "-01"...)
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
