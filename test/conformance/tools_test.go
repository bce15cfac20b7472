package conformance_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// The fixtures' test data (services/conformance/content.go).
const (
	pngBase64 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
	wavBase64 = "UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAAB9AAACABAAZGF0YQIAAAA="
	pngBlock  = `{"type":"image","data":"` + pngBase64 + `","mimeType":"image/png"}`
)

// json202012Schema is json_schema_2020_12_tool's input schema as the
// suite's json-schema-2020-12 scenario defines it: it must reach the
// client verbatim.
const json202012Schema = `{
	"$schema": "https://json-schema.org/draft/2020-12/schema",
	"type": "object",
	"$defs": {"address": {"$anchor": "addressDef", "type": "object",
		"properties": {"street": {"type": "string"}, "city": {"type": "string"}}}},
	"properties": {
		"name": {"type": "string"},
		"address": {"$ref": "#/$defs/address"},
		"contactMethod": {"type": "string", "enum": ["phone", "email"]},
		"phone": {"type": "string"},
		"email": {"type": "string"}
	},
	"allOf": [{"anyOf": [{"required": ["phone"]}, {"required": ["email"]}]}],
	"if": {"properties": {"contactMethod": {"const": "phone"}}, "required": ["contactMethod"]},
	"then": {"required": ["phone"]},
	"else": {"required": ["email"]},
	"additionalProperties": false
}`

// toolScenarios runs the suites' tools-call-*, elicitation-* and
// json-schema-2020-12 scenarios.
func (s *session) toolScenarios(t *testing.T) {
	for _, sc := range []struct {
		scenario, tool string
		content        string // the result's content, as JSON
	}{
		{"tools-call-simple-text", "test_simple_text",
			`[{"type":"text","text":"This is a simple text response for testing."}]`},
		{"tools-call-image", "test_image_content", `[` + pngBlock + `]`},
		{"tools-call-audio", "test_audio_content",
			`[{"type":"audio","data":"` + wavBase64 + `","mimeType":"audio/wav"}]`},
		{"tools-call-embedded-resource", "test_embedded_resource",
			`[{"type":"resource","resource":{"uri":"test://embedded-resource","mimeType":"text/plain","text":"This is an embedded resource content."}}]`},
		{"tools-call-mixed-content", "test_multiple_content_types",
			`[{"type":"text","text":"Multiple content types test:"},` + pngBlock + `,` +
				`{"type":"resource","resource":{"uri":"test://mixed-content-resource","mimeType":"application/json","text":"{\"test\":\"data\",\"value\":123}"}}]`},
	} {
		t.Run(sc.scenario, func(t *testing.T) {
			res := s.call(t, &mcp.CallToolParams{Name: sc.tool, Arguments: map[string]any{}})
			if res.IsError {
				t.Errorf("isError result")
			}
			wantJSON(t, "content", res.Content, sc.content)
		})
	}

	// A tool failure is an isError result, not a JSON-RPC error; its text
	// carries the backend's message (with the edge's code and hint around
	// it, edge/bridge/errors.go).
	t.Run("tools-call-error", func(t *testing.T) {
		res := s.call(t, &mcp.CallToolParams{Name: "test_error_handling", Arguments: map[string]any{}})
		if !res.IsError {
			t.Error("isError not set")
		}
		const msg = "This tool intentionally returns an error for testing"
		if len(res.Content) != 1 {
			t.Fatalf("content = %s, want one text block", mustJSON(t, res.Content))
		}
		if text, ok := res.Content[0].(*mcp.TextContent); !ok || !strings.Contains(text.Text, msg) {
			t.Errorf("content = %s, want a text block carrying %q", mustJSON(t, res.Content), msg)
		}
	})

	t.Run("tools-call-with-logging", func(t *testing.T) {
		if err := s.cs.SetLoggingLevel(callCtx(t), &mcp.SetLoggingLevelParams{Level: "info"}); err != nil {
			t.Fatal(err)
		}
		res := s.call(t, &mcp.CallToolParams{Name: "test_tool_with_logging", Arguments: map[string]any{}})
		wantText(t, res, "Tool with logging executed successfully")
		for _, line := range []string{"Tool execution started", "Tool processing data", "Tool execution completed"} {
			got := receive(t, s.logs, "notifications/message "+line)
			want := &mcp.LoggingMessageParams{Level: "info", Logger: "test_tool_with_logging", Data: line}
			wantJSON(t, "notifications/message", got, mustJSON(t, want))
		}
	})

	t.Run("tools-call-with-progress", func(t *testing.T) {
		const token = "progress-test-1"
		params := &mcp.CallToolParams{Name: "test_tool_with_progress", Arguments: map[string]any{}}
		params.SetProgressToken(token)
		res := s.call(t, params)
		wantText(t, res, "Tool with progress executed successfully")
		// At least three, increasing: the fixture reports 0, 50 and 100.
		for _, done := range []float64{0, 50, 100} {
			got := s.nextProgress(t, token)
			if got.Progress != done || got.Total != 100 {
				t.Errorf("progress = %v of %v, want %v of 100", got.Progress, got.Total, done)
			}
		}
	})

	t.Run("tools-call-sampling", func(t *testing.T) {
		res := s.call(t, &mcp.CallToolParams{Name: "test_sampling", Arguments: map[string]any{"prompt": "Test prompt for sampling"}})
		req := receive(t, s.sampled, "sampling/createMessage")
		wantText(t, res, "LLM response: "+samplingAnswer)
		if req.MaxTokens != 100 {
			t.Errorf("maxTokens = %d, want 100", req.MaxTokens)
		}
		wantJSON(t, "sampling messages", req.Messages,
			`[{"role":"user","content":{"type":"text","text":"Test prompt for sampling"}}]`)
	})

	t.Run("tools-call-elicitation", func(t *testing.T) {
		res := s.call(t, &mcp.CallToolParams{Name: "test_elicitation", Arguments: map[string]any{"message": "Please provide your information"}})
		req := receive(t, s.elicited, "elicitation/create")
		wantText(t, res, `User response: action=accept, content={"email":"test@example.com","username":"testuser"}`)
		if req.Message != "Please provide your information" {
			t.Errorf("message = %q", req.Message)
		}
		wantJSON(t, "requestedSchema", req.RequestedSchema, `{"type":"object","properties":{`+
			`"username":{"type":"string","description":"User's response"},`+
			`"email":{"type":"string","description":"User's email address"}},`+
			`"required":["username","email"]}`)
	})

	t.Run("elicitation-sep1034-defaults", func(t *testing.T) {
		res := s.call(t, &mcp.CallToolParams{Name: "test_elicitation_sep1034_defaults", Arguments: map[string]any{}})
		req := receive(t, s.elicited, "elicitation/create")
		wantText(t, res, `Elicitation completed: action=accept, content={"age":25,"name":"Jane Smith","score":88,"status":"inactive","verified":false}`)
		wantProperties(t, req, []property{
			{"elicitation-sep1034-string-default", "name", `{"type":"string","description":"User name","default":"John Doe"}`},
			{"elicitation-sep1034-integer-default", "age", `{"type":"integer","description":"User age","default":30}`},
			{"elicitation-sep1034-number-default", "score", `{"type":"number","description":"User score","default":95.5}`},
			{"elicitation-sep1034-enum-default", "status", `{"type":"string","description":"User status","enum":["active","inactive","pending"],"default":"active"}`},
			{"elicitation-sep1034-boolean-default", "verified", `{"type":"boolean","description":"Verification status","default":true}`},
		})
	})

	t.Run("elicitation-sep1330-enums", func(t *testing.T) {
		res := s.call(t, &mcp.CallToolParams{Name: "test_elicitation_sep1330_enums", Arguments: map[string]any{}})
		req := receive(t, s.elicited, "elicitation/create")
		wantText(t, res, `Elicitation completed: action=accept, content={"legacyEnum":"opt1","titledMulti":["value1","value2"],`+
			`"titledSingle":"value1","untitledMulti":["option1","option2"],"untitledSingle":"option1"}`)
		const titled = `[{"const":"value1","title":"First Option"},{"const":"value2","title":"Second Option"},{"const":"value3","title":"Third Option"}]`
		wantProperties(t, req, []property{
			{"elicitation-sep1330-untitled-single", "untitledSingle", `{"type":"string","enum":["option1","option2","option3"]}`},
			{"elicitation-sep1330-titled-single", "titledSingle", `{"type":"string","oneOf":` + titled + `}`},
			{"elicitation-sep1330-legacy-enumnames", "legacyEnum",
				`{"type":"string","enum":["opt1","opt2","opt3"],"enumNames":["Option One","Option Two","Option Three"]}`},
			{"elicitation-sep1330-untitled-multi", "untitledMulti",
				`{"type":"array","minItems":1,"maxItems":3,"items":{"type":"string","enum":["option1","option2","option3"]}}`},
			{"elicitation-sep1330-titled-multi", "titledMulti",
				`{"type":"array","minItems":1,"maxItems":3,"items":{"anyOf":` + titled + `}}`},
		})
	})

	t.Run("json-schema-2020-12", func(t *testing.T) {
		tools := all(t, s.cs.Tools(callCtx(t), nil))
		i := slices.IndexFunc(tools, func(tl *mcp.Tool) bool { return tl.Name == "json_schema_2020_12_tool" })
		if i < 0 {
			t.Fatal("json_schema_2020_12_tool not listed")
		}
		tool := tools[i]
		wantJSON(t, "inputSchema", tool.InputSchema, json202012Schema)
		res := s.call(t, &mcp.CallToolParams{Name: tool.Name, Arguments: map[string]any{
			"name": "Ada", "contactMethod": "email", "email": "ada@example.com",
		}})
		wantText(t, res, `JSON Schema 2020-12 tool called with: {"contactMethod":"email","email":"ada@example.com","name":"Ada"}`)
	})

	// The other side of sep-2575-server-rejects-undeclared-capability (see
	// TestStdioBareClient): a client that declared sampling gets the tool.
	t.Run("missing-capability-declared", func(t *testing.T) {
		res := s.call(t, &mcp.CallToolParams{Name: "test_missing_capability", Arguments: map[string]any{}})
		wantText(t, res, "Client declared the sampling capability; tool executed.")
	})
}

// call calls a tool, failing the test on a protocol error.
func (s *session) call(t *testing.T, params *mcp.CallToolParams) *mcp.CallToolResult {
	t.Helper()
	res, err := s.cs.CallTool(callCtx(t), params)
	if err != nil {
		t.Fatalf("tools/call %s: %v", params.Name, err)
	}
	return res
}

// wantText checks that res succeeded with one text block, text.
func wantText(t *testing.T, res *mcp.CallToolResult, text string) {
	t.Helper()
	if res.IsError {
		t.Errorf("isError result: %s", mustJSON(t, res.Content))
	}
	wantJSON(t, "content", res.Content, mustJSON(t, []mcp.Content{&mcp.TextContent{Text: text}}))
}

// property is one property of an elicitation's requested schema, as the
// suite's check id looks at it.
type property struct {
	check, name, schema string
}

// wantProperties checks the requested schema's properties, each exactly.
func wantProperties(t *testing.T, req *mcp.ElicitParams, props []property) {
	t.Helper()
	var schema struct {
		Properties map[string]json.RawMessage `json:"properties"`
	}
	if err := json.Unmarshal([]byte(mustJSON(t, req.RequestedSchema)), &schema); err != nil {
		t.Fatalf("requestedSchema: %v", err)
	}
	for _, p := range props {
		got, ok := schema.Properties[p.name]
		if !ok {
			t.Errorf("%s: no property %q in the requested schema", p.check, p.name)
			continue
		}
		wantJSON(t, p.check+": property "+p.name, got, p.schema)
	}
	if len(schema.Properties) != len(props) {
		t.Errorf("requested schema has %d properties, want %d", len(schema.Properties), len(props))
	}
}

// mustJSON marshals v.
func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
