package edge

import (
	"unsafe"

	"github.com/tidwall/gjson"

	"github.com/toolwire/toolwire/edge/bridge"
)

// The MCP client capabilities of the fast path's calls, which the bridge
// passes to backends (server.MDClientCapabilities), as the SDK's handler
// does for the calls it serves: a session's come from its initialize, a
// 2026-07-28 request's from its own _meta. Neither allocates.

// The _meta key of a 2026-07-28 request's client capabilities, and the
// extension key of tasks. They are looked up by hand: a gjson path with an
// escaped dot allocates.
const (
	keyClientCapabilities = "io.modelcontextprotocol/clientCapabilities"
	keyTasks              = "io.modelcontextprotocol/tasks"
)

// clientCaps returns the capabilities the client of session s declared at
// initialize: its SDK session's, or those of the initialize body the edge
// kept (lazysession.go).
func (s *liveSession) clientCaps() bridge.Capabilities {
	s.mu.Lock()
	ss, lazy := s.ss, s.lazy
	s.mu.Unlock()
	switch {
	case ss != nil:
		if p := ss.InitializeParams(); p != nil {
			return bridge.CapabilitiesOf(p.Capabilities)
		}
	case lazy != nil:
		return capsOfJSON(gjson.Get(unsafe.String(unsafe.SliceData(lazy.body), len(lazy.body)), "params.capabilities"))
	}
	return bridge.CapsKnown
}

// requestCaps returns the capabilities in a 2026-07-28 request's _meta.
func requestCaps(body []byte) bridge.Capabilities {
	return capsOfJSON(member(gjson.Get(unsafe.String(unsafe.SliceData(body), len(body)), "params._meta"), keyClientCapabilities))
}

// member returns the member of object v called key.
func member(v gjson.Result, key string) gjson.Result {
	var out gjson.Result
	if v.IsObject() {
		v.ForEach(func(k, value gjson.Result) bool {
			if k.Str == key {
				out = value
				return false
			}
			return true
		})
	}
	return out
}

// capsOfJSON reads a ClientCapabilities object as bridge.CapabilitiesOf
// reads the SDK's.
func capsOfJSON(v gjson.Result) bridge.Capabilities {
	caps := bridge.CapsKnown
	if !v.IsObject() {
		return caps
	}
	v.ForEach(func(key, value gjson.Result) bool {
		switch key.Str {
		case "elicitation":
			caps |= bridge.CapElicitation
		case "sampling":
			caps |= bridge.CapSampling
		case "roots":
			caps |= bridge.CapRoots
		case "extensions":
			if member(value, keyTasks).Exists() {
				caps |= bridge.CapTasks
			}
		}
		return true
	})
	return caps
}
