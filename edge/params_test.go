package edge

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tidwall/gjson"
)

func TestSchemaParamBindings(t *testing.T) {
	schema := json.RawMessage(`{"type":"object","properties":{
		"region":{"type":"string","x-mcp-header":"Region"},
		"plain":{"type":"string"},
		"spec":{"type":"object","properties":{"tenant":{"type":"integer","x-mcp-header":"tenant-id"}}},
		"list":{"type":"array","items":{"properties":{"x":{"x-mcp-header":"Ignored"}}}}}}`)
	got := map[string][]string{}
	for _, b := range schemaParamBindings(schema) {
		got[b.header] = b.path
	}
	want := map[string][]string{"Mcp-Param-Region": {"region"}, "Mcp-Param-Tenant-Id": {"spec", "tenant"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("bindings (-want +got):\n%s", diff)
	}
	if b := schemaParamBindings(json.RawMessage(`{"type":"object"}`)); b != nil {
		t.Errorf("a schema without annotations: %v, want none", b)
	}
}

// TestMatchParams covers the types and paths the conformance fixture does
// not: integers, booleans and nested arguments.
func TestMatchParams(t *testing.T) {
	binds := []paramBinding{
		{path: []string{"n"}, header: "Mcp-Param-N"},
		{path: []string{"flag"}, header: "Mcp-Param-Flag"},
		{path: []string{"spec", "tenant"}, header: "Mcp-Param-Tenant"},
	}
	tests := []struct {
		args    string
		headers map[string]string
		ok      bool
	}{
		{`{"n":42,"flag":true,"spec":{"tenant":"acme"}}`, map[string]string{"Mcp-Param-N": "42", "Mcp-Param-Flag": "true", "Mcp-Param-Tenant": "acme"}, true},
		{`{"n":42}`, map[string]string{"Mcp-Param-N": "42.0"}, true},
		{`{"n":-7}`, map[string]string{"Mcp-Param-N": "=?base64?LTc=?="}, true},
		{`{"n":4.2e1}`, map[string]string{"Mcp-Param-N": "42"}, true},
		{`{"flag":false}`, map[string]string{"Mcp-Param-Flag": "false"}, true},
		{`{"spec":{}}`, nil, true},
		{`{"spec":"acme"}`, nil, true},
		{`{}`, nil, true},

		{`{"n":42}`, map[string]string{"Mcp-Param-N": "43"}, false},
		{`{"n":42}`, map[string]string{"Mcp-Param-N": "0x2a"}, false},
		{`{"n":42}`, map[string]string{"Mcp-Param-N": "4_2"}, false},
		{`{"n":1.5}`, map[string]string{"Mcp-Param-N": "1.5"}, false},
		{`{"n":9007199254740993}`, map[string]string{"Mcp-Param-N": "9007199254740993"}, false},
		{`{"n":"42"}`, map[string]string{"Mcp-Param-N": "42"}, true},
		{`{"flag":true}`, map[string]string{"Mcp-Param-Flag": "True"}, false},
		{`{"flag":true}`, map[string]string{"Mcp-Param-Flag": "1"}, false},
		{`{"spec":{"tenant":"acme"}}`, nil, false},
		{`{"spec":{"tenant":"acme"}}`, map[string]string{"Mcp-Param-Tenant": "other"}, false},
		{`{"spec":{"tenant":"acme","tenant":"other"}}`, map[string]string{"Mcp-Param-Tenant": "acme"}, false},
		{`{"n":1,"n":2}`, map[string]string{"Mcp-Param-N": "1"}, false},
	}
	for _, tt := range tests {
		h := http.Header{}
		for k, v := range tt.headers {
			h.Set(k, v)
		}
		got := matchParams(h, gjson.Parse(tt.args), binds)
		if (got == "") != tt.ok {
			t.Errorf("matchParams(%s, %v) = %q, want ok %v", tt.args, tt.headers, got, tt.ok)
		}
	}
}

func TestCheckParamValues(t *testing.T) {
	binds := []paramBinding{{path: []string{"a"}, header: "Mcp-Param-A"}}
	for _, tt := range []struct {
		values []string
		ok     bool
	}{
		{nil, true},
		{[]string{"plain value\twith tab"}, true},
		{[]string{"=?base64?w6k=?="}, true},
		{[]string{"é"}, false},
		{[]string{"a\x7f"}, false},
		{[]string{"a", "a"}, false},
	} {
		got := checkParamValues(http.Header{"Mcp-Param-A": tt.values}, binds)
		if (got == "") != tt.ok {
			t.Errorf("checkParamValues(%q) = %q, want ok %v", tt.values, got, tt.ok)
		}
	}
}
