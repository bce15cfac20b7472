// Package rpcscan reads the few JSON-RPC messages the edge answers without
// the SDK (see edge/fastpath.go), and only those: it reports anything else,
// or anything unusual about them, as not understood, and the edge hands the
// body to the SDK as it came.
//
// It validates and walks the body with gjson, which finds values in place
// without building a tree; the SDK's decoder allocates a 32 KiB buffer per
// message (see MCP-NOTES.md), which is the cost the fast path avoids.
package rpcscan

import (
	"strconv"
	"unsafe"

	"github.com/tidwall/gjson"
)

// Message is what Scan found. Its strings point into the scanned body.
type Message struct {
	// ID is the request id as raw JSON: a string, or an integer without
	// fraction or exponent. Empty for a notification.
	ID string
	// Method is the JSON-RPC method.
	Method string

	// Name and Args are a tools/call's tool name and raw arguments (empty
	// when absent).
	Name, Args string
	// Meta is a request's _meta, as far as the edge uses it.
	Meta Meta

	// CancelID is notifications/cancelled's requestId, as raw JSON like ID.
	CancelID string
	// Level is logging/setLevel's level.
	Level string
	// Version is initialize's protocolVersion.
	Version string
}

// Meta holds the _meta members the edge reads.
type Meta struct {
	// TimeoutMs is io.github.toolwire/timeoutMs, as a number (TimeoutNum) or
	// a string (TimeoutStr).
	TimeoutNum    float64
	HasTimeoutNum bool
	TimeoutStr    string

	// Traceparent and Tracestate are W3C trace context; HasTraceparent says
	// whether a traceparent string was present.
	Traceparent, Tracestate string
	HasTraceparent          bool

	// ProtocolVersion is io.modelcontextprotocol/protocolVersion, empty when
	// absent.
	ProtocolVersion string
	// ProgressToken is progressToken as raw JSON (a string or an integer),
	// empty when absent. BadProgressToken says it was there, of another kind.
	ProgressToken    string
	BadProgressToken bool
	// LogLevel is 2026-07-28's io.modelcontextprotocol/logLevel.
	LogLevel string

	// ClientOK says that the 2026-07-28 client members are there and of the
	// shapes the SDK accepts: clientCapabilities an object of objects, and
	// clientInfo absent or an object whose known members are strings.
	ClientOK bool
}

// The _meta keys read here.
const (
	keyTimeoutMs          = "io.github.toolwire/timeoutMs"
	keyProtocolVersion    = "io.modelcontextprotocol/protocolVersion"
	keyClientCapabilities = "io.modelcontextprotocol/clientCapabilities"
	keyClientInfo         = "io.modelcontextprotocol/clientInfo"
	keyLogLevel           = "io.modelcontextprotocol/logLevel"
)

// Scan reads body as one JSON-RPC message of a method the edge may answer
// itself (tools/call, notifications/cancelled, initialize,
// notifications/initialized) or one it must know of (logging/setLevel). It reports false for anything else, including invalid
// JSON, batches, duplicate or unknown members, and ids the edge would not
// echo exactly.
func Scan(body []byte, m *Message) bool {
	*m = Message{}
	if len(body) == 0 || !gjson.ValidBytes(body) {
		return false
	}
	root := gjson.Parse(unsafe.String(unsafe.SliceData(body), len(body)))
	if !root.IsObject() {
		return false
	}
	var params gjson.Result
	var seen uint8
	ok := true
	root.ForEach(func(k, v gjson.Result) bool {
		var bit uint8
		switch k.Str {
		case "jsonrpc":
			bit = 1
			ok = v.Type == gjson.String && v.Str == "2.0"
		case "id":
			bit = 2
			ok = plainID(v)
			m.ID = v.Raw
		case "method":
			bit = 4
			ok = v.Type == gjson.String
			m.Method = v.Str
		case "params":
			bit = 8
			params = v
		default:
			ok = false
		}
		ok = ok && seen&bit == 0
		seen |= bit
		return ok
	})
	if !ok || seen&5 != 5 {
		return false
	}
	switch m.Method {
	case "tools/call":
		return m.ID != "" && params.IsObject() && m.scanCall(params)
	case "notifications/cancelled":
		return m.ID == "" && params.IsObject() && m.scanCancelled(params)
	case "logging/setLevel":
		if m.ID == "" || !params.IsObject() {
			return false
		}
		lv := params.Get("level")
		m.Level = lv.Str
		return lv.Type == gjson.String
	case "initialize":
		return m.ID != "" && params.IsObject() && m.scanInitialize(params)
	case "notifications/initialized":
		return m.ID == "" && (seen&8 == 0 || onlyMeta(params))
	}
	return false
}

// scanInitialize reads initialize's params: protocolVersion a non-empty
// string, capabilities an object of objects, clientInfo an implementation,
// and nothing else but _meta. The SDK judges any other shape.
func (m *Message) scanInitialize(params gjson.Result) bool {
	var seen uint8
	ok := true
	params.ForEach(func(k, v gjson.Result) bool {
		var bit uint8
		switch k.Str {
		case "protocolVersion":
			bit = 1
			ok = v.Type == gjson.String && v.Str != ""
			m.Version = v.Str
		case "capabilities":
			bit = 2
			ok = objectOfObjects(v)
		case "clientInfo":
			bit = 4
			ok = implementation(v) && v.Get("name").Type == gjson.String && v.Get("version").Type == gjson.String
		case "_meta":
			bit = 8
			ok = v.IsObject()
		default:
			ok = false
		}
		ok = ok && seen&bit == 0
		seen |= bit
		return ok
	})
	return ok && seen&7 == 7
}

// onlyMeta reports whether params is an object with no member but _meta,
// itself an object.
func onlyMeta(params gjson.Result) bool {
	if !params.IsObject() {
		return false
	}
	ok := true
	params.ForEach(func(k, v gjson.Result) bool {
		ok = k.Str == "_meta" && v.IsObject()
		return ok
	})
	return ok
}

// plainID reports whether v is an id the edge echoes byte for byte as the
// SDK would re-encode it: a string, or an integer that fits an int64.
func plainID(v gjson.Result) bool {
	switch v.Type {
	case gjson.String:
		return true
	case gjson.Number:
		_, err := strconv.ParseInt(v.Raw, 10, 64)
		return err == nil
	}
	return false
}

func (m *Message) scanCall(params gjson.Result) bool {
	var seen uint8
	ok := true
	var meta gjson.Result
	params.ForEach(func(k, v gjson.Result) bool {
		var bit uint8
		switch k.Str {
		case "name":
			bit = 1
			ok = v.Type == gjson.String
			m.Name = v.Str
		case "arguments":
			bit = 2
			ok = v.IsObject() || v.Type == gjson.Null
			m.Args = v.Raw
		case "_meta":
			bit = 4
			ok = v.IsObject()
			meta = v
		default:
			ok = false
		}
		ok = ok && seen&bit == 0
		seen |= bit
		return ok
	})
	if !ok || seen&1 == 0 || m.Name == "" {
		return false
	}
	if seen&4 != 0 {
		return m.Meta.scan(meta)
	}
	return true
}

func (mt *Meta) scan(meta gjson.Result) bool {
	ok := true
	caps, info := false, true
	meta.ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case keyTimeoutMs:
			switch v.Type {
			case gjson.Number:
				mt.TimeoutNum, mt.HasTimeoutNum = v.Num, true
			case gjson.String:
				mt.TimeoutStr = v.Str
			}
		case "traceparent":
			if v.Type == gjson.String {
				mt.Traceparent, mt.HasTraceparent = v.Str, true
			}
		case "tracestate":
			if v.Type == gjson.String {
				mt.Tracestate = v.Str
			}
		case "progressToken":
			if plainID(v) {
				mt.ProgressToken = v.Raw
			} else {
				mt.BadProgressToken = true
			}
		case keyLogLevel:
			if v.Type == gjson.String {
				mt.LogLevel = v.Str
			}
		case keyProtocolVersion:
			// Anything but a string would be the SDK's to judge.
			ok = v.Type == gjson.String && v.Str != ""
			mt.ProtocolVersion = v.Str
		case keyClientCapabilities:
			caps = objectOfObjects(v)
		case keyClientInfo:
			info = implementation(v)
		}
		return ok
	})
	mt.ClientOK = caps && info
	return ok
}

// objectOfObjects reports whether v is an object whose members are objects,
// as client capabilities are.
func objectOfObjects(v gjson.Result) bool {
	if !v.IsObject() {
		return false
	}
	ok := true
	v.ForEach(func(_, c gjson.Result) bool {
		ok = c.IsObject()
		return ok
	})
	return ok
}

// implementation reports whether v is an object whose members that the
// SDK's Implementation knows as strings are strings; icons, which it decodes
// as a list of objects, are left to the SDK.
func implementation(v gjson.Result) bool {
	if !v.IsObject() {
		return false
	}
	ok := true
	v.ForEach(func(k, c gjson.Result) bool {
		switch k.Str {
		case "name", "title", "version", "websiteUrl", "description":
			ok = c.Type == gjson.String
		case "icons":
			ok = false
		}
		return ok
	})
	return ok
}

func (m *Message) scanCancelled(params gjson.Result) bool {
	ok := true
	params.ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "requestId":
			ok = m.CancelID == "" && plainID(v)
			m.CancelID = v.Raw
		case "reason":
			ok = v.Type == gjson.String
		case "_meta":
			ok = v.IsObject()
		default:
			ok = false
		}
		return ok
	})
	return ok && m.CancelID != ""
}
