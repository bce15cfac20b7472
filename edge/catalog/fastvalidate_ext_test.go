package catalog_test

import (
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/toolwire/toolwire/edge/catalog"
	ctv1 "github.com/toolwire/toolwire/gen/go/toolwire/catalogtest/v1"
)

// fastCorpus holds arguments for the differential tests, by tool: valid and
// invalid, common and tricky.
var fastCorpus = map[string][]string{
	"echo": {
		`{"text":"hello"}`, `{}`, ` { "text" : "" } `, `{"text":"x","text":"y"}`,
		`{"text":"line\nbreak \"quoted\" \\ \/ \b\f\r\t \u00e9 \ud83d\ude00 \ud800 \udc00x \ud800\u0041"}`,
		`{"text":"héllo 😀"}`, `{"text":"` + strings.Repeat("x", 65536) + `"}`, `{"text":"` + strings.Repeat("x", 65537) + `"}`,
		`{"text":"` + strings.Repeat("é", 65536) + `"}`, `{"text":"` + strings.Repeat("é", 65537) + `"}`,
		`{"text":"` + strings.Repeat(`\n`, 65536) + `"}`, `{"text":"` + strings.Repeat(`\n`, 65537) + `"}`,
		`{"text":"` + strings.Repeat(`\ud83d\ude00`, 65536) + `"}`, `{"text":"` + strings.Repeat(`\ud83d\ude00`, 65537) + `"}`,
		`{"text":"` + strings.Repeat(`\ud83d`, 65537) + `"}`, `{"text":"` + strings.Repeat(`\ud83d`, 65536) + `"}`,
		`{"text":5}`, `{"text":null}`, `{"text":"x","Text":"y"}`, `{"a/b~c":1}`, `["text"]`, `null`, `"x"`, `5`,
		`{"text":"x"} {}`, `{"text":`, `{text:"x"}`, `{"text":"x",}`, `'x'`, `{"text":"\x"}`, `{"text":"\u12"}`,
		"{\"text\":\"tab\there\"}", "{\"text\":\"bad \xff utf8\"}", "{\"text\":\"bad \xc3\"}", `{"te\u0078t":"x"}`,
		"\t\n {\"text\":\"x\"}\r\n", ``, ` `, "\v", `{"text":"x"}x`, `{"text":"x"`, `{,}`, `{"text"}`, `{"text" "x"}`,
	},
	"stream": {
		`{"n":100000,"interval_ms":0}`, `{"n":100001}`, `{"n":-1}`, `{"n":0}`, `{"n":-0}`, `{"n":1.0}`, `{"n":1e2}`,
		`{"n":1.5}`, `{"n":"5"}`, `{"n":01}`, `{"n":-}`, `{"n":1.}`, `{"n":.5}`, `{"n":1e}`, `{"n":1E+2}`,
		`{"interval_ms":60000}`, `{"interval_ms":60001}`, `{"n":99999999999999999999999}`, `{"n":-99999999999999999999999}`,
		`{"n":100000.0000000000001}`, `{"n":4294967295}`, `{"n":true}`, `{"n":null}`, `{"n":[]}`, `{"n":{}}`,
	},
	"search_documents": {
		`{"query":"go","limit":10}`, `{"query":""}`, `{"query":"x","limit":1000}`, `{"query":"x","limit":1001}`,
		`{"query":"` + strings.Repeat("q", 256) + `"}`, `{"query":"` + strings.Repeat("q", 257) + `"}`, `{"limit":0}`,
	},
	"get_document": {`{"id":"d1"}`, `{"id":""}`, `{"id":"` + strings.Repeat("x", 65) + `"}`, `{"id":"\u0000"}`},
	"tree.get":     {`{"name":"t","depth":4294967295}`, `{"depth":4294967296}`, `{"depth":-1}`},
	"all_kinds": {
		`{"int64_field":"-9223372036854775808","sint64_field":"9223372036854775807"}`,
		`{"int64_field":-9223372036854775808,"sfixed64_field":9223372036854775807}`,
		`{"uint64_field":18446744073709551615,"fixed64_field":"18446744073709551615"}`,
		`{"int64_field":"12a","uint64_field":-1,"fixed64_field":"-1","sint64_field":1.5}`,
		`{"int32_field":2147483648,"uint32_field":-1}`, `{"int32_field":2147483647,"uint32_field":0}`,
		`{"int32_field":-2147483648}`, `{"int32_field":-2147483649}`, `{"int64_field":"1\u0032"}`,
		`{"uint64_field":-0}`, `{"uint64_field":-0.0}`, `{"uint64_field":0.0}`, `{"float_field":1e400}`,
		`{"point":{"x":"1","z":0},"points":[{"x":1},{"y":true}],"tree":{"name":"root","children":[{"name":"a","children":[{"name":7}]}]},"expr":{"binary":{"op":"+","left":{"literal":1},"right":{"literal":"two"}}}}`,
		`{"point":{"x":1},"points":[{"x":1},{"y":2}],"tree":{"name":"root","children":[{"name":"a","children":[{"name":"b"}]}]},"expr":{"binary":{"op":"+","left":{"literal":1},"right":{"literal":2}}}}`,
		`{"counts":{"a":1,"b":"2","c":"x"},"points_by_id":{"1":{"x":1},"-2":{},"two":{}},"colors_by_id":{"5":"COLOR_RED","-5":"COLOR_BLUE","6":"PURPLE"},"flags":{"true":"yes","maybe":"no"}}`,
		`{"counts":{"a":1,"b":"2"},"points_by_id":{"1":{"x":1},"-2":{}},"colors_by_id":{"5":"COLOR_RED"},"flags":{"true":"yes","false":"no"}}`,
		`{"counts":{"\u0061":1}}`, `{"flags":{"tru\u0065":"x"}}`,
		`{"created_at":"2026-01-02T03:04:05.123Z","timeout":"1.5s","attributes":{"a":[1,{"b":null}]},"any_value":[1,"x",null],"list_value":[1,{}],"null_value":null,"update_mask":"a.b,c","nothing":{},"detail":{"@type":"type.googleapis.com/google.protobuf.Empty"},"int64_value":"5","uint64_value":5,"bytes_value":"AAE=","string_value":"s","bool_value":false,"times":["2026-01-02T03:04:05Z"],"values":{"x":{"y":[true]}}}`,
		`{"timeout":"1.5s","attributes":{"a":[1,{"b":null}]},"any_value":[1,"x",null],"list_value":[1,{}],"null_value":null,"update_mask":"a.b,c","nothing":{},"detail":{"@type":"t"},"int64_value":"5","uint64_value":5,"bytes_value":"AAE=","string_value":"s","bool_value":false,"values":{"x":{"y":[true]}}}`,
		`{"created_at":"yesterday","timeout":"5m","attributes":[],"list_value":{},"null_value":0,"nothing":{"x":1},"detail":{"value":1},"int32_value":"7"}`,
		`{"int64_value":null,"string_value":null,"bool_value":null,"update_mask":""}`, `{"update_mask":"a.b_c"}`,
		`{"update_mask":"a,,b"}`, `{"double_value":"NaN"}`, `{"uint32_value":null,"uint32_value":1}`,
		`{"timeout":"1.5\u0073"}`, `{"detail":{"@type":5}}`, `{"detail":{}}`, `{"nothing":{"\u0078":1}}`,
		`{"point":null,"string_field":null}`, `{"color":"COLOR_PURPLE","colors":["COLOR_RED",2],"place_name":"x","place_number":1}`,
		`{"color":"COLOR_RED","colors":["COLOR_RED","COLOR_BLUE"]}`, `{"color":"COLOR_\u0052ED"}`,
		`{"tree":` + strings.Repeat(`{"children":[`, 40) + `{}` + strings.Repeat(`]}`, 40) + `}`,
		`{"attributes":` + strings.Repeat(`[`, 40) + strings.Repeat(`]`, 40) + `}`,
	},
	"create_account": {
		`{"username":"ada_l","email":"ada@example.com","request_id":"0b5e6a2c-3c2f-4f7e-9d0e-2b7e0c6f1a11","plan":"pro","api_version":"v1","code":"abc123","age":13,"quota_share":1,"budget_micros":"1000000000000","seed":"2","ratio":2.5,"accept_terms":true,"color":"COLOR_BLUE","only_color":"COLOR_GREEN","tags":["a","b"],"labels":{"team":"core"},"home":{"x":1,"y":2},"host":"not checked here","referrer":"","phone":"+1234567","magic":-42,"port":65535}`,
		`{"username":"ada_l","plan":"pro","api_version":"v1","code":"abc123","age":13,"quota_share":1,"budget_micros":"1000000000000","seed":"2","ratio":2.5,"accept_terms":true,"color":"COLOR_BLUE","home":{"x":1,"y":2},"host":"h","referrer":"","phone":"+1234567","magic":-42,"port":65535}`,
		`{"username":"Ada","email":"not-an-email","request_id":"nope","plan":"gold","api_version":"v2","code":"abc","age":150,"quota_share":0,"budget_micros":0,"seed":4,"ratio":0.25,"accept_terms":false,"color":"COLOR_GREEN","only_color":"COLOR_RED","tags":["a","a","` + strings.Repeat("t", 21) + `","d","e","f"],"labels":{"":"x"},"phone":"12","magic":"42","port":0}`,
		`{"tags":[],"username":""}`, `{"home":{}}`, `{"home":{},"age":149,"quota_share":1e-300,"ratio":0.5,"budget_micros":1000000000000}`,
		`{"home":{},"age":149.0,"quota_share":0.0,"ratio":2.5000000000000001,"budget_micros":1000000000001}`,
		`{"home":{},"seed":1,"magic":"-42","accept_terms":true,"api_version":"v1"}`, `{"home":{},"seed":1.0,"magic":-42.0}`,
		`{"home":{},"username":"a\u0062c","plan":"pr\u006f","api_version":"v\u0031","phone":"+123456\u0037"}`,
		`{"home":{},"budget_micros":"0","budget_micros":"1"}`, `{"home":{"x":1},"home":{}}`,
		`{"home":{},"display_name":null,"page_size":null,"website":"x","quotas":{"a":1},"settings":{"notify":["a@b.c"],"tier":"COLOR_RED","signature":"AA==","confirmed":true,"consent":false,"labels":{"a":""},"weight":0}}`,
		`{"home":{},"display_name":"cee","page_size":0,"quotas":{},"settings":{"notify":[],"tier":"COLOR_UNSPECIFIED","signature":"","confirmed":false,"consent":null,"labels":{}}}`,
		`{"home":{},"display_name":"ace","page_size":100,"settings":{"tier":"COLOR_BLUE","consent":true}}`,
	},
}

// allFastTools is every tool the corpus names, in one catalog.
func allFastTools(t testing.TB) map[string]*catalog.Tool {
	c := mustNew(t, echoService(), searchService(), kindsService())
	tools := map[string]*catalog.Tool{}
	for _, tool := range c.Tools() {
		tools[tool.Name] = tool
	}
	return tools
}

// checkFast fails when the fast path accepts what the schema validator
// rejects, or when ValidateArgs answers differently from the schema
// validator alone.
func checkFast(t *testing.T, tool *catalog.Tool, raw string) {
	t.Helper()
	slow := tool.ValidateArgsSlow(json.RawMessage(raw))
	if catalog.FastAccepts(tool, json.RawMessage(raw)) && slow != nil {
		t.Errorf("%s: the fast path accepts %.200s, which breaks the schema: %q", tool.Name, raw, slow)
	}
	if diff := cmp.Diff(slow, tool.ValidateArgs(json.RawMessage(raw))); diff != "" {
		t.Errorf("%s: ValidateArgs(%.200s) differs from the schema validator (-slow +ValidateArgs):\n%s", tool.Name, raw, diff)
	}
}

// TestFastPathAgreesWithSchemaValidator is the differential test of the
// fast path: on every corpus entry, and on every entry against every tool,
// it never accepts what the schema validator rejects.
func TestFastPathAgreesWithSchemaValidator(t *testing.T) {
	tools := allFastTools(t)
	for _, tool := range tools {
		for _, args := range fastCorpus {
			for _, raw := range args {
				checkFast(t, tool, raw)
			}
		}
	}
	// protojson's own encodings of full requests.
	for _, place := range []func(*ctv1.AllKindsRequest){
		nil,
		func(m *ctv1.AllKindsRequest) { m.Place = &ctv1.AllKindsRequest_PlaceName{PlaceName: "x"} },
	} {
		b, err := encode.Marshal(fullKinds(t, place))
		if err != nil {
			t.Fatal(err)
		}
		checkFast(t, tools["all_kinds"], string(b))
	}
}

// TestFastPathMutations checks the differential property on random edits of
// the corpus: bytes changed, dropped, doubled, and characters inserted that
// matter to JSON and to the schemas.
func TestFastPathMutations(t *testing.T) {
	tools := allFastTools(t)
	r := rand.New(rand.NewPCG(1, 2))
	const alphabet = "{}[]\",:\\/ 0123456789-+.eEtrufalsn\x00\x1f\x7f\xc3\xa9\xff\u00e9uU"
	rounds := 30
	if testing.Short() {
		rounds = 3
	}
	for name, args := range fastCorpus {
		tool := tools[name]
		for _, raw := range args {
			if len(raw) > 2000 || len(raw) == 0 {
				continue
			}
			for range rounds {
				b := []byte(raw)
				for range 1 + r.IntN(3) {
					i := r.IntN(len(b) + 1)
					switch r.IntN(4) {
					case 0: // replace
						if i < len(b) {
							b[i] = alphabet[r.IntN(len(alphabet))]
						}
					case 1: // delete
						if i < len(b) {
							b = append(b[:i:i], b[i+1:]...)
						}
					case 2: // insert
						b = append(b[:i:i], append([]byte{alphabet[r.IntN(len(alphabet))]}, b[i:]...)...)
					case 3: // duplicate a span
						j := min(len(b), i+1+r.IntN(8))
						b = append(b[:j:j], append(append([]byte{}, b[i:j]...), b[j:]...)...)
					}
				}
				checkFast(t, tool, string(b))
			}
		}
	}
}

// TestFastPathTakesCommonCalls checks that the fast path, not the schema
// validator, answers for common valid arguments, so that a valid call
// allocates nothing in ValidateArgs.
func TestFastPathTakesCommonCalls(t *testing.T) {
	tools := allFastTools(t)
	for _, tc := range []struct{ tool, args string }{
		{"echo", `{"text":"hello, world"}`},
		{"echo", `{}`},
		{"echo", `{"text":"line\nbreak \"quoted\" \u00e9 \ud83d\ude00 héllo"}`},
		{"echo", `{"text":"` + strings.Repeat("x", 65536) + `"}`},
		{"stream", `{"n":100000,"interval_ms":0}`},
		{"search_documents", `{"query":"go","limit":10}`},
		{"tree.get", `{"name":"t","depth":4294967295}`},
		{"all_kinds", `{"int64_field":"-9223372036854775808","uint64_field":18446744073709551615,"int32_field":-2147483648}`},
		{"all_kinds", `{"point":{"x":1},"points":[{"x":1},{"y":2}],"tree":{"name":"root","children":[{"name":"a","children":[{"name":"b"}]}]},"expr":{"binary":{"op":"+","left":{"literal":1},"right":{"literal":2}}}}`},
		{"all_kinds", `{"counts":{"a":1,"b":"2"},"points_by_id":{"1":{"x":1},"-2":{}},"colors_by_id":{"5":"COLOR_RED"},"flags":{"true":"yes","false":"no"}}`},
		{"all_kinds", `{"color":"COLOR_RED","colors":["COLOR_RED","COLOR_BLUE"],"timeout":"1.5s","attributes":{"a":[1,{"b":null}]},"null_value":null,"detail":{"@type":"t"}}`},
		{"create_account", `{"username":"ada_l","plan":"pro","api_version":"v1","code":"abc123","age":13,"quota_share":1,"budget_micros":"1000000000000","seed":"2","ratio":2.5,"accept_terms":true,"color":"COLOR_BLUE","home":{"x":1,"y":2},"host":"h","referrer":"","phone":"+1234567","magic":-42,"port":65535}`},
	} {
		tool := tools[tc.tool]
		if vs := tool.ValidateArgsSlow(json.RawMessage(tc.args)); vs != nil {
			t.Fatalf("%s: %.100s is invalid: %q", tc.tool, tc.args, vs)
		}
		if !catalog.FastAccepts(tool, json.RawMessage(tc.args)) {
			t.Errorf("%s: the fast path leaves %.100s to the schema validator", tc.tool, tc.args)
		}
	}
	echo := tools["echo"]
	raw := json.RawMessage(`{"text":"hello, world"}`)
	if n := testing.AllocsPerRun(100, func() { echo.ValidateArgs(raw) }); n != 0 {
		t.Errorf("ValidateArgs of a valid echo call allocates %v times, want 0", n)
	}
}

// FuzzFastPath looks for arguments the fast path accepts and the schema
// validator rejects:
//
//	go test -run '^$' -fuzz FuzzFastPath ./edge/catalog/
func FuzzFastPath(f *testing.F) {
	tools := allFastTools(f)
	names := []string{"echo", "stream", "all_kinds", "create_account", "search_documents"}
	for i, name := range names {
		for _, raw := range fastCorpus[name] {
			if len(raw) < 4000 {
				f.Add(uint8(i), raw)
			}
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, raw string) {
		tool := tools[names[int(which)%len(names)]]
		if catalog.FastAccepts(tool, json.RawMessage(raw)) {
			if vs := tool.ValidateArgsSlow(json.RawMessage(raw)); vs != nil {
				t.Errorf("%s: the fast path accepts %q, which breaks the schema: %q", tool.Name, raw, vs)
			}
		}
	})
}
