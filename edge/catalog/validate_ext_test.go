package catalog_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/toolwire/toolwire/edge/catalog"
)

func TestValidateArgs(t *testing.T) {
	c := mustNew(t, echoService(), searchService(), kindsService())
	type v = catalog.Violation
	tests := []struct {
		name, tool, args string
		want             []v
	}{
		{"valid", "echo", `{"text":"hello"}`, nil},
		{"empty object", "stream", `{}`, nil},
		{"nil means {}", "stream", ``, nil},
		{"blank means {}", "stream", " \n\t", nil},
		{"bound values are valid", "stream", `{"n":100000,"interval_ms":0}`, nil},
		{"wrong type", "stream", `{"n":"5"}`, []v{
			{"/n", "must be integer, got string"},
		}},
		{"fraction for integer", "stream", `{"n":1.5}`, []v{
			{"/n", "must be integer, got number"},
		}},
		{"every error at once", "stream", `{"n":100001,"interval_ms":-1,"foo":1,"bar":true}`, []v{
			{"/bar", `unknown property "bar"`},
			{"/foo", `unknown property "foo"`},
			{"/interval_ms", "must be >= 0"},
			{"/n", "must be <= 100000"},
		}},
		{"unknown property", "echo", `{"text":"x","Text":"y"}`, []v{
			{"/Text", `unknown property "Text"`},
		}},
		{"unknown property needing escapes", "echo", `{"a/b~c":1}`, []v{
			{"/a~1b~0c", `unknown property "a/b~c"`},
		}},
		{"too long", "get_document", `{"id":"` + strings.Repeat("x", 65) + `"}`, []v{
			{"/id", "must be at most 64 characters long, got 65"},
		}},
		{"too short", "search_documents", `{"query":""}`, []v{
			{"/query", "must be at least 1 character long, got 0"},
		}},
		{"root must be an object", "echo", `["text"]`, []v{
			{"", "must be object, got array"},
		}},
		{"null is not an object", "echo", `null`, []v{
			{"", "must be object, got null"},
		}},

		// 64-bit integers: numbers or decimal strings, as protojson reads them.
		{"int64 as string", "all_kinds", `{"int64_field":"-9223372036854775808","sint64_field":"9223372036854775807"}`, nil},
		{"int64 as number", "all_kinds", `{"int64_field":-9223372036854775808,"sfixed64_field":9223372036854775807}`, nil},
		{"uint64 both ways", "all_kinds", `{"uint64_field":18446744073709551615,"fixed64_field":"18446744073709551615"}`, nil},
		{"int64 bad strings and signs", "all_kinds", `{"int64_field":"12a","uint64_field":-1,"fixed64_field":"-1","sint64_field":1.5}`, []v{
			{"/fixed64_field", `must match the pattern "^[0-9]+$"`},
			{"/int64_field", `must match the pattern "^-?[0-9]+$"`},
			{"/sint64_field", "must be integer or string, got number"},
			{"/uint64_field", "must be >= 0"},
		}},
		{"int32 range", "all_kinds", `{"int32_field":2147483648,"uint32_field":-1}`, []v{
			{"/int32_field", "must be <= 2147483647"},
			{"/uint32_field", "must be >= 0"},
		}},

		// Nested, repeated, maps, recursion, well-known types.
		{"nested and recursive", "all_kinds", `{
			"point":{"x":"1","z":0},
			"points":[{"x":1},{"y":true}],
			"tree":{"name":"root","children":[{"name":"a","children":[{"name":7}]}]},
			"expr":{"binary":{"op":"+","left":{"literal":1},"right":{"literal":"two"}}}
		}`, []v{
			{"/expr/binary/right/literal", "must be number, got string"},
			{"/point/x", "must be integer, got string"},
			{"/point/z", `unknown property "z"`},
			{"/points/1/y", "must be integer, got boolean"},
			{"/tree/children/0/children/0/name", "must be string, got number"},
		}},
		{"maps", "all_kinds", `{
			"counts":{"a":1,"b":"2","c":"x"},
			"points_by_id":{"1":{"x":1},"-2":{},"two":{}},
			"colors_by_id":{"5":"COLOR_RED","-5":"COLOR_BLUE","6":"PURPLE"},
			"flags":{"true":"yes","maybe":"no"}
		}`, []v{
			{"/colors_by_id/-5", `invalid key "-5": must match the pattern "^[0-9]+$"`},
			{"/colors_by_id/6", `must be one of "COLOR_UNSPECIFIED", "COLOR_RED", "COLOR_GREEN", "COLOR_BLUE"`},
			{"/counts/c", `must match the pattern "^-?[0-9]+$"`},
			{"/flags/maybe", `invalid key "maybe": must match the pattern "^(true|false)$"`},
			{"/points_by_id/two", `invalid key "two": must match the pattern "^-?[0-9]+$"`},
		}},
		{"well-known types", "all_kinds", `{
			"created_at":"2026-01-02T03:04:05.123Z",
			"timeout":"1.5s",
			"attributes":{"a":[1,{"b":null}]},
			"any_value":[1,"x",null],
			"list_value":[1,{}],
			"null_value":null,
			"update_mask":"a.b,c",
			"nothing":{},
			"detail":{"@type":"type.googleapis.com/google.protobuf.Empty"},
			"int64_value":"5","uint64_value":5,"bytes_value":"AAE=","string_value":"s","bool_value":false,
			"times":["2026-01-02T03:04:05Z"],
			"values":{"x":{"y":[true]}}
		}`, nil},
		{"well-known types, wrong", "all_kinds", `{
			"created_at":"yesterday",
			"timeout":"5m",
			"attributes":[],
			"list_value":{},
			"null_value":0,
			"nothing":{"x":1},
			"detail":{"value":1},
			"int32_value":"7",
			"update_mask":"display_name"
		}`, []v{
			{"/attributes", "must be object, got array"},
			{"/created_at", `must be a valid date-time: less than 20 characters long`},
			{"/detail", `missing required property "@type"`},
			{"/int32_value", "must be integer or null, got string"},
			{"/list_value", "must be array, got object"},
			{"/nothing/x", `unknown property "x"`},
			{"/null_value", "must be null, got number"},
			{"/timeout", `must match the pattern "^-?[0-9]+(\\.[0-9]{1,9})?s$"`},
			{"/update_mask", `must match the pattern "^([a-zA-Z][a-zA-Z0-9]*(\\.[a-zA-Z][a-zA-Z0-9]*)*(,[a-zA-Z][a-zA-Z0-9]*(\\.[a-zA-Z][a-zA-Z0-9]*)*)*)?$"`},
		}},
		// protojson reads null as "unset"; the schema asks the caller to
		// leave the field out instead.
		{"null for a field", "all_kinds", `{"point":null,"string_field":null}`, []v{
			{"/point", "must be object, got null"},
			{"/string_field", "must be string, got null"},
		}},
		{"enum and oneof members", "all_kinds", `{"color":"COLOR_PURPLE","colors":["COLOR_RED",2],"place_name":"x","place_number":1}`, []v{
			// The oneof is left to protojson and the backend: no anyOf.
			{"/color", `must be one of "COLOR_UNSPECIFIED", "COLOR_RED", "COLOR_GREEN", "COLOR_BLUE"`},
			{"/colors/1", "must be string, got number"},
		}},

		// protovalidate rules.
		{"rules satisfied", "create_account", `{
			"username":"ada_l","email":"ada@example.com","request_id":"0b5e6a2c-3c2f-4f7e-9d0e-2b7e0c6f1a11",
			"plan":"pro","api_version":"v1","code":"abc123","age":13,"quota_share":1,"budget_micros":"1000000000000",
			"seed":"2","ratio":2.5,"accept_terms":true,"color":"COLOR_BLUE","only_color":"COLOR_GREEN",
			"tags":["a","b"],"labels":{"team":"core"},"home":{"x":1,"y":2},"host":"not checked here",
			"referrer":"","phone":"+1234567","magic":-42,"port":65535
		}`, nil},
		{"rules broken", "create_account", `{
			"username":"Ada","email":"not-an-email","request_id":"nope",
			"plan":"gold","api_version":"v2","code":"abc","age":150,"quota_share":0,"budget_micros":0,
			"seed":4,"ratio":0.25,"accept_terms":false,"color":"COLOR_GREEN","only_color":"COLOR_RED",
			"tags":["a","a","` + strings.Repeat("t", 21) + `","d","e","f"],"labels":{"":"x"},
			"phone":"12","magic":"42","port":0
		}`, []v{
			{"", `missing required property "home"`},
			{"/accept_terms", "must be true"},
			{"/age", "must be < 150"},
			{"/api_version", `must be "v1"`},
			{"/budget_micros", "must be > 0"},
			{"/code", "must be at least 6 characters long, got 3"},
			{"/color", `must be one of "COLOR_RED", "COLOR_BLUE"`},
			{"/email", "must be a valid email: missing @"},
			{"/labels/", `invalid key "": must be at least 1 character long, got 0`},
			{"/magic", `must be one of -42, "-42"`},
			{"/only_color", `must be "COLOR_GREEN"`},
			{"/phone", `must match the pattern "^\\+[0-9]{6,15}$"`},
			{"/plan", `must be one of "free", "pro", "team"`},
			{"/port", "must be >= 1"},
			{"/quota_share", "must be > 0"},
			{"/ratio", "must be >= 0.5"},
			{"/request_id", "must be a valid uuid: must have 5 elements"},
			{"/seed", `must be one of 1, "1", 2, "2", 3, "3"`},
			{"/tags", "must have at most 5 items, got 6"},
			{"/tags", "must not repeat items: items 0 and 1 are equal"},
			{"/tags/2", "must be at most 20 characters long, got 21"},
			{"/username", `must match the pattern "^[a-z][a-z0-9_]*$"`},
		}},
		{"required on zero values, wrappers, pairs", "create_account", `{
			"home":{},"username":"abc","website":"not a uri, left to the backend","display_name":"cee","page_size":0,"quotas":{},
			"settings":{"notify":[],"tier":"COLOR_UNSPECIFIED","signature":"","confirmed":false,"consent":null,"labels":{}}
		}`, []v{
			{"/display_name", `must be one of "ace", "bee", null`},
			{"/page_size", "must be >= 1"},
			{"/quotas", "must have at least 1 entry, got 0"},
			{"/settings", `missing required property "weight"`},
			{"/settings/confirmed", "must be true"},
			{"/settings/consent", "must be boolean, got null"},
			{"/settings/labels", "must have at least 1 entry, got 0"},
			{"/settings/notify", "must have at least 1 item, got 0"},
			{"/settings/signature", "must be at least 1 character long, got 0"},
			{"/settings/tier", `must be one of "COLOR_RED", "COLOR_GREEN"`},
		}},
		{"wrappers take null", "create_account", `{
			"home":{},"username":"abc","display_name":null,"page_size":null,"quotas":{"cpu":1},
			"settings":{"notify":["a@example.com"],"tier":"COLOR_RED","signature":"AA==","confirmed":true,"consent":false,"labels":{"a":""},"weight":0}
		}`, nil},
		{"required and min items", "create_account", `{"tags":[],"username":""}`, []v{
			{"", `missing required property "home"`},
			{"/tags", "must have at least 1 item, got 0"},
			{"/username", "must be at least 3 characters long, got 0"},
			{"/username", `must match the pattern "^[a-z][a-z0-9_]*$"`},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mustLookup(t, c, tt.tool).ValidateArgs(json.RawMessage(tt.args))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ValidateArgs(%s) (-want +got):\n%s", tt.args, diff)
			}
		})
	}
}

func TestValidateArgsMalformed(t *testing.T) {
	echo := mustLookup(t, mustNew(t, echoService()), "echo")
	for _, raw := range []string{`{"text":`, `{"text":"x"} {}`, `{text:"x"}`, `{"text":"x",}`, `'x'`} {
		got := echo.ValidateArgs(json.RawMessage(raw))
		if len(got) != 1 || got[0].Field != "" || !strings.HasPrefix(got[0].Message, "malformed JSON: ") {
			t.Errorf("ValidateArgs(%s) = %q, want one root violation about malformed JSON", raw, got)
		}
	}
}

// TestValidArgsDecode checks that what the input schema accepts, protojson
// decodes into the request, including both forms of 64-bit integers.
func TestValidArgsDecode(t *testing.T) {
	c := mustNew(t, echoService(), kindsService())
	for _, tc := range []struct{ tool, args string }{
		{"echo", `{"text":"hi"}`},
		{"all_kinds", `{"int64_field":"-9223372036854775808","uint64_field":18446744073709551615,"counts":{"a":"1","b":2},
			"colors_by_id":{"7":"COLOR_RED"},"flags":{"true":"t"},"points_by_id":{"-1":{"x":1}},"timeout":"-0.000000001s",
			"created_at":"2026-01-02T03:04:05+01:00","detail":{"@type":"type.googleapis.com/toolwire.catalogtest.v1.Point","x":3},
			"tree":{"children":[{"name":"leaf"}]},"bytes_field":"aGk=","null_value":null,"float_value":1.5,
			"string_value":null,"int64_value":null,"update_mask":"displayName,a.bC,X1"}`},
	} {
		tool := mustLookup(t, c, tc.tool)
		if vs := tool.ValidateArgs(json.RawMessage(tc.args)); vs != nil {
			t.Errorf("%s: ValidateArgs(%s) = %q, want none", tc.tool, tc.args, vs)
			continue
		}
		req := tool.NewRequest()
		if err := protojson.Unmarshal([]byte(tc.args), req); err != nil {
			t.Errorf("%s: protojson rejects arguments the schema accepts: %v", tc.tool, err)
		}
	}
}

func TestValidateArgsConcurrent(t *testing.T) {
	stream := mustLookup(t, mustNew(t, echoService()), "stream")
	done := make(chan []catalog.Violation)
	for range 8 {
		go func() {
			var last []catalog.Violation
			for range 50 {
				last = stream.ValidateArgs(json.RawMessage(`{"n":-1,"interval_ms":"x","zz":{}}`))
			}
			done <- last
		}()
	}
	want := []catalog.Violation{
		{Field: "/interval_ms", Message: "must be integer, got string"},
		{Field: "/n", Message: "must be >= 0"},
		{Field: "/zz", Message: `unknown property "zz"`},
	}
	for range 8 {
		if diff := cmp.Diff(want, <-done); diff != "" {
			t.Errorf("concurrent ValidateArgs (-want +got):\n%s", diff)
		}
	}
}

func BenchmarkValidateArgs(b *testing.B) {
	echo := mustLookup(b, mustNew(b, echoService()), "echo")
	for _, bc := range []struct{ name, args string }{
		{"valid", `{"text":"hello, world"}`},
		{"invalid", `{"text":5,"extra":true}`},
	} {
		raw := json.RawMessage(bc.args)
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				echo.ValidateArgs(raw)
			}
		})
	}
}
