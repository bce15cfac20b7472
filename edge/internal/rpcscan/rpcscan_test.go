package rpcscan

import (
	"bytes"
	"encoding/json"
	"strconv"
	"testing"
)

func TestScanAccepts(t *testing.T) {
	for _, tc := range []struct {
		name string
		body string
		want Message
	}{
		{"call", `{"jsonrpc":"2.0","id":42,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"}}}`,
			Message{ID: "42", Method: "tools/call", Name: "echo", Args: `{"text":"hi"}`}},
		{"string id, any order, spaces", ` { "params" : { "arguments" : null , "name" : "e\u0063ho" } , "id" : "a\"b" , "method" : "tools/call" , "jsonrpc" : "2.0" } `,
			Message{ID: `"a\"b"`, Method: "tools/call", Name: "echo", Args: "null"}},
		{"meta", `{"jsonrpc":"2.0","id":-1,"method":"tools/call","params":{"name":"x","_meta":{"io.github.toolwire/timeoutMs":1500,"traceparent":"tp","tracestate":"ts","progressToken":7,"other":[{}]}}}`,
			Message{ID: "-1", Method: "tools/call", Name: "x", Meta: Meta{TimeoutNum: 1500, HasTimeoutNum: true, Traceparent: "tp", Tracestate: "ts", HasTraceparent: true, ProgressToken: "7"}}},
		{"bad progress token", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","_meta":{"progressToken":{}}}}`,
			Message{ID: "1", Method: "tools/call", Name: "x", Meta: Meta{BadProgressToken: true}}},
		{"setLevel", `{"jsonrpc":"2.0","id":3,"method":"logging/setLevel","params":{"level":"debug"}}`,
			Message{ID: "3", Method: "logging/setLevel", Level: "debug"}},
		{"timeout as string", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","_meta":{"io.github.toolwire/timeoutMs":"25"}}}`,
			Message{ID: "1", Method: "tools/call", Name: "x", Meta: Meta{TimeoutStr: "25"}}},
		{"2026 meta", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{"sampling":{}},"io.modelcontextprotocol/clientInfo":{"name":"c","version":"1","extra":[1]},"io.modelcontextprotocol/logLevel":"info"}}}`,
			Message{ID: "1", Method: "tools/call", Name: "x", Meta: Meta{ProtocolVersion: "2026-07-28", ClientOK: true, LogLevel: "info"}}},
		{"cancelled", `{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"r1","reason":"user"}}`,
			Message{Method: "notifications/cancelled", CancelID: `"r1"`}},
		{"initialize", `{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{"roots":{"listChanged":true},"sampling":{}},"clientInfo":{"name":"c","version":"1.0","title":"C"},"_meta":{}}}`,
			Message{ID: "0", Method: "initialize", Version: "2025-06-18"}},
		{"initialized", `{"jsonrpc":"2.0","method":"notifications/initialized"}`,
			Message{Method: "notifications/initialized"}},
		{"initialized with meta", `{"jsonrpc":"2.0","method":"notifications/initialized","params":{"_meta":{"k":1}}}`,
			Message{Method: "notifications/initialized"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var m Message
			if !Scan([]byte(tc.body), &m) {
				t.Fatal("not accepted")
			}
			if m != tc.want {
				t.Errorf("got  %+v\nwant %+v", m, tc.want)
			}
		})
	}
}

func TestScanRefuses(t *testing.T) {
	for name, body := range map[string]string{
		"empty":                       ``,
		"invalid JSON":                `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x"}`,
		"trailing garbage":            `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x"}} x`,
		"batch":                       `[{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x"}}]`,
		"wrong version":               `{"jsonrpc":"1.0","id":1,"method":"tools/call","params":{"name":"x"}}`,
		"no version":                  `{"id":1,"method":"tools/call","params":{"name":"x"}}`,
		"float id":                    `{"jsonrpc":"2.0","id":1.0,"method":"tools/call","params":{"name":"x"}}`,
		"exponent id":                 `{"jsonrpc":"2.0","id":1e3,"method":"tools/call","params":{"name":"x"}}`,
		"huge id":                     `{"jsonrpc":"2.0","id":99999999999999999999,"method":"tools/call","params":{"name":"x"}}`,
		"null id":                     `{"jsonrpc":"2.0","id":null,"method":"tools/call","params":{"name":"x"}}`,
		"call without id":             `{"jsonrpc":"2.0","method":"tools/call","params":{"name":"x"}}`,
		"duplicate id":                `{"jsonrpc":"2.0","id":1,"id":2,"method":"tools/call","params":{"name":"x"}}`,
		"duplicate name":              `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","name":"y"}}`,
		"unknown member":              `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x"},"extra":1}`,
		"initialize without id":       `{"jsonrpc":"2.0","method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"c","version":"1"}}}`,
		"initialize, no clientInfo":   `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{}}}`,
		"initialize, no version":      `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"capabilities":{},"clientInfo":{"name":"c","version":"1"}}}`,
		"initialize, numeric version": `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":2025,"capabilities":{},"clientInfo":{"name":"c","version":"1"}}}`,
		"initialize, bad capability":  `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{"sampling":true},"clientInfo":{"name":"c","version":"1"}}}`,
		"initialize, icons":           `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"c","version":"1","icons":[]}}}`,
		"initialize, unnamed client":  `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"version":"1"}}}`,
		"initialize, extra param":     `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"c","version":"1"},"x":1}}`,
		"initialized with id":         `{"jsonrpc":"2.0","id":1,"method":"notifications/initialized"}`,
		"initialized, other params":   `{"jsonrpc":"2.0","method":"notifications/initialized","params":{"x":1}}`,
		"unknown param":               `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","task":{}}}`,
		"no name":                     `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"arguments":{}}}`,
		"empty name":                  `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":""}}`,
		"array arguments":             `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","arguments":[]}}`,
		"no params":                   `{"jsonrpc":"2.0","id":1,"method":"tools/call"}`,
		"other method":                `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`,
		"numeric protocol":            `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","_meta":{"io.modelcontextprotocol/protocolVersion":5}}}`,
		"meta not object":             `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","_meta":[]}}`,
		"cancelled with id":           `{"jsonrpc":"2.0","id":1,"method":"notifications/cancelled","params":{"requestId":1}}`,
		"cancelled no request":        `{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"reason":"x"}}`,
		"cancelled float":             `{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":1.5}}`,
		"cancelled extra param":       `{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":1,"x":1}}`,
		"setLevel as notice":          `{"jsonrpc":"2.0","method":"logging/setLevel","params":{"level":"debug"}}`,
		"setLevel number":             `{"jsonrpc":"2.0","id":1,"method":"logging/setLevel","params":{"level":1}}`,
	} {
		var m Message
		if Scan([]byte(body), &m) {
			t.Errorf("%s: accepted %+v", name, m)
		}
	}
}

// The fast path allocates nothing to read a call.
func TestScanDoesNotAllocate(t *testing.T) {
	body := []byte(`{"jsonrpc":"2.0","id":42,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"},"_meta":{"progressToken":1}}}`)
	var m Message
	if n := testing.AllocsPerRun(100, func() { Scan(body, &m) }); n > 0 {
		t.Errorf("Scan allocates %.0f times per call", n)
	}
}

// FuzzScan: whatever Scan accepts, encoding/json reads the same way.
func FuzzScan(f *testing.F) {
	f.Add([]byte(`{"jsonrpc":"2.0","id":42,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"}}}`))
	f.Add([]byte(`{"jsonrpc":"2.0","id":"x","method":"tools/call","params":{"name":"e","_meta":{"io.github.toolwire/timeoutMs":"1"}}}`))
	f.Add([]byte(`{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"r1"}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var m Message
		if !Scan(body, &m) {
			return
		}
		var v struct {
			JSONRPC string          `json:"jsonrpc"`
			ID      json.RawMessage `json:"id"`
			Method  string          `json:"method"`
			Params  struct {
				Name      string          `json:"name"`
				Arguments json.RawMessage `json:"arguments"`
				RequestID json.RawMessage `json:"requestId"`
			} `json:"params"`
		}
		if err := json.Unmarshal(body, &v); err != nil {
			t.Fatalf("accepted what encoding/json rejects (%v): %q", err, body)
		}
		if v.JSONRPC != "2.0" || v.Method != m.Method || v.Params.Name != m.Name {
			t.Fatalf("read differently: %+v vs %+v", v, m)
		}
		same := func(a string, b json.RawMessage) bool {
			if a == "" {
				return len(b) == 0
			}
			var x, y any
			return json.Unmarshal([]byte(a), &x) == nil && json.Unmarshal(b, &y) == nil && jsonEqual(x, y)
		}
		if !same(m.ID, v.ID) || !same(m.Args, v.Params.Arguments) || !same(m.CancelID, v.Params.RequestID) {
			t.Fatalf("values differ: %+v vs %s %s %s", m, v.ID, v.Params.Arguments, v.Params.RequestID)
		}
		if m.ID != "" && m.ID[0] != '"' {
			if _, err := strconv.ParseInt(m.ID, 10, 64); err != nil {
				t.Fatalf("id %s is not an int64", m.ID)
			}
		}
	})
}

func jsonEqual(x, y any) bool {
	a, _ := json.Marshal(x)
	b, _ := json.Marshal(y)
	return bytes.Equal(a, b)
}
