package edge

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/tidwall/gjson"

	"github.com/toolwire/toolwire/edge/catalog"
)

// A tool's input schema may ask for an argument to be mirrored into an
// Mcp-Param-{Name} header ("x-mcp-header": "Name", SEP-2243), so that
// intermediaries can route on it without reading the body. Whoever reads the
// body must then check that the two agree: a 2026-07-28 tools/call whose
// header is missing, repeated, malformed or different from its argument is
// answered with HTTP 400 and -32020 (header mismatch), and never reaches
// the tool.
//
// The SDK checks this for its own requests, but not the characters of a
// header that is not Base64-encoded, and the fast path (fastpath.go) does
// not check it at all; so the edge checks every such call itself, before
// either path (serveStreamable), and the SDK's check, on its path, only
// agrees.

const (
	paramHeaderPrefix = "Mcp-Param-"
	// base64Prefix and base64Suffix wrap a header value that is the Base64
	// of the argument's text (a value that is not plain visible ASCII).
	base64Prefix = "=?base64?"
	base64Suffix = "?="
	// maxParamBody bounds the body the edge reads to check a call's
	// Mcp-Param-* headers; a larger one has only its headers' characters
	// checked here, and the rest by the SDK, which answers it.
	maxParamBody = 1 << 20
	// maxSafeInteger is the largest integer an x-mcp-header argument may
	// carry, JavaScript's Number.MAX_SAFE_INTEGER.
	maxSafeInteger = 1<<53 - 1
)

// paramBinding is one argument that a tool's input schema mirrors into a
// header.
type paramBinding struct {
	// path is the chain of property names from the arguments object to the
	// argument.
	path []string
	// header is the canonical header name, "Mcp-Param-{Name}".
	header string
}

// paramHeaders maps the name of each tool that declares x-mcp-header
// properties to its bindings. It is swapped whole when the catalog changes.
type paramHeaders struct {
	byTool atomic.Pointer[map[string][]paramBinding]
}

// set makes tools, the catalog's, the ones whose calls are checked.
func (p *paramHeaders) set(tools []*catalog.Tool) {
	m := map[string][]paramBinding{}
	for _, t := range tools {
		if b := schemaParamBindings(t.InputSchema); len(b) > 0 {
			m[t.Name] = b
		}
	}
	p.byTool.Store(&m)
}

// of returns the bindings of the tool called name, nil if it has none.
func (p *paramHeaders) of(name string) []paramBinding {
	m := p.byTool.Load()
	if m == nil {
		return nil
	}
	return (*m)[name]
}

// schemaNode is the part of a JSON Schema that x-mcp-header lives in: an
// annotation may only be reached from the root through "properties".
type schemaNode struct {
	Header     json.RawMessage       `json:"x-mcp-header"`
	Properties map[string]schemaNode `json:"properties"`
}

// schemaParamBindings returns the x-mcp-header bindings of an input schema.
// Annotations that are not a non-empty string are ignored; the SDK refuses
// to register a tool whose annotations break SEP-2243's other rules.
func schemaParamBindings(schema json.RawMessage) []paramBinding {
	var root schemaNode
	if len(schema) == 0 || json.Unmarshal(schema, &root) != nil {
		return nil
	}
	var out []paramBinding
	var walk func(props map[string]schemaNode, prefix []string)
	walk = func(props map[string]schemaNode, prefix []string) {
		for name, prop := range props {
			path := append(prefix[:len(prefix):len(prefix)], name)
			var header string
			if json.Unmarshal(prop.Header, &header) == nil && header != "" {
				out = append(out, paramBinding{path: path, header: http.CanonicalHeaderKey(paramHeaderPrefix + header)})
			}
			walk(prop.Properties, path)
		}
	}
	walk(root.Properties, nil)
	return out
}

// checkParamHeaders checks the Mcp-Param-* headers of r, a 2026-07-28 POST,
// if it is a tools/call of a tool that declares some. It answers a request
// that fails with 400 and -32020 and reports false; it leaves r's body as
// it came.
//
// The tool is the one Mcp-Name names: every path rejects a call whose body
// names another.
func (e *Edge) checkParamHeaders(w http.ResponseWriter, r *http.Request) bool {
	if r.Header.Get("Mcp-Method") != "tools/call" {
		return true
	}
	binds := e.params.of(strings.TrimSpace(r.Header.Get("Mcp-Name")))
	if len(binds) == 0 {
		return true
	}
	detail := checkParamValues(r.Header, binds)
	var id string
	if detail == "" {
		body, err := io.ReadAll(io.LimitReader(r.Body, maxParamBody+1))
		r.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(body), r.Body), r.Body}
		if err != nil || len(body) > maxParamBody || !gjson.ValidBytes(body) {
			return true // the SDK's to answer
		}
		msg := gjson.ParseBytes(body)
		id = msg.Get("id").Raw
		args, dup := memberAt(msg, "params", "arguments")
		if dup != "" {
			detail = "header mismatch: repeated member " + strconv.Quote(dup) + " in the request"
		} else {
			detail = matchParams(r.Header, args, binds)
		}
	}
	if detail == "" {
		return true
	}
	if id == "" {
		id = "null"
	}
	writeRPCError(w, http.StatusBadRequest, id, mcp.CodeHeaderMismatch, detail)
	return false
}

// checkParamValues checks what can be checked of binds' headers without the
// body: each appears at most once, in visible ASCII, spaces and tabs (the
// values that need more travel Base64-encoded). It returns what is wrong,
// or "".
func checkParamValues(h http.Header, binds []paramBinding) string {
	for _, b := range binds {
		vs := h[b.header]
		if len(vs) > 1 {
			return "header mismatch: repeated " + b.header + " header"
		}
		if len(vs) == 1 && !headerSafe(vs[0]) {
			return "header mismatch: " + b.header + " header contains invalid characters"
		}
	}
	return ""
}

// headerSafe reports whether v holds only visible ASCII, spaces and tabs.
func headerSafe(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < 0x20 && c != '\t') || c > 0x7e {
			return false
		}
	}
	return true
}

// matchParams checks binds' headers against args, the call's arguments:
// an argument that is present and not null needs its header, equal to it
// once decoded; an absent or null one must have none. It returns what is
// wrong, or "".
func matchParams(h http.Header, args gjson.Result, binds []paramBinding) string {
	for _, b := range binds {
		vs := h[b.header]
		arg, dup := memberAt(args, b.path...)
		name := strconv.Quote(strings.Join(b.path, "."))
		switch {
		case dup != "":
			return "header mismatch: repeated member " + strconv.Quote(dup) + " in the arguments"
		case !arg.Exists() || arg.Type == gjson.Null:
			if len(vs) > 0 {
				return "header mismatch: unexpected " + b.header + " header for absent or null argument " + name
			}
			continue
		case len(vs) == 0:
			return "header mismatch: missing " + b.header + " header for argument " + name
		}
		v, ok := decodeParam(vs[0])
		if !ok {
			return "header mismatch: " + b.header + " header contains invalid Base64"
		}
		if !paramEqual(v, arg) {
			return "header mismatch: " + b.header + " header does not match argument " + name
		}
	}
	return ""
}

// memberAt returns the value at path in v, a JSON object, and nothing if a
// step is absent or not an object. Keys are compared unescaped, and a key
// that appears twice on the way is reported, since parsers disagree on
// which one counts.
func memberAt(v gjson.Result, path ...string) (found gjson.Result, repeated string) {
	for _, key := range path {
		if !v.IsObject() {
			return gjson.Result{}, ""
		}
		var next gjson.Result
		n := 0
		v.ForEach(func(k, x gjson.Result) bool {
			if k.String() == key {
				next = x
				n++
			}
			return n < 2
		})
		if n > 1 {
			return gjson.Result{}, key
		}
		if n == 0 {
			return gjson.Result{}, ""
		}
		v = next
	}
	return v, ""
}

// decodeParam returns the text a header value carries: the value itself,
// or, wrapped in =?base64?...?=, its strict Base64 decoding. It reports
// false for a wrapped value that is not valid Base64.
func decodeParam(v string) (string, bool) {
	if len(v) < len(base64Prefix)+len(base64Suffix) || !strings.HasPrefix(v, base64Prefix) || !strings.HasSuffix(v, base64Suffix) {
		return v, true
	}
	d, err := base64.StdEncoding.Strict().DecodeString(v[len(base64Prefix) : len(v)-len(base64Suffix)])
	if err != nil {
		return "", false
	}
	return string(d), true
}

// paramEqual reports whether header text v carries arg: a string as is, a
// boolean as true or false, and an integer in the safe range by its value
// (so "42.0" carries 42). Other arguments may not be mirrored.
func paramEqual(v string, arg gjson.Result) bool {
	switch arg.Type {
	case gjson.String:
		return v == arg.Str
	case gjson.True:
		return v == "true"
	case gjson.False:
		return v == "false"
	case gjson.Number:
		n := arg.Num
		if n != math.Trunc(n) || math.Abs(n) > maxSafeInteger || strings.IndexFunc(v, notDecimal) >= 0 {
			return false
		}
		f, err := strconv.ParseFloat(v, 64)
		return err == nil && f == n
	}
	return false
}

// notDecimal reports whether c cannot appear in a JSON number.
func notDecimal(c rune) bool {
	return (c < '0' || c > '9') && c != '-' && c != '+' && c != '.' && c != 'e' && c != 'E'
}
