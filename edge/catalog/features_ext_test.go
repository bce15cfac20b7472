package catalog_test

import (
	"encoding/json"
	"strings"
	"testing"

	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/toolwire/toolwire/edge/catalog"
	conformancev1 "github.com/toolwire/toolwire/gen/go/examples/conformance/v1"
)

// conformanceCatalog is the catalog of the conformance fixtures, which use
// every feature option.
func conformanceCatalog(t *testing.T) *catalog.Catalog {
	t.Helper()
	c, err := catalog.New([]protoreflect.ServiceDescriptor{
		conformancev1.File_examples_conformance_v1_conformance_proto.Services().Get(0),
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestResources(t *testing.T) {
	c := conformanceCatalog(t)
	var got []string
	for _, r := range c.Resources() {
		got = append(got, r.URITemplate)
		if r.Description == "" {
			t.Errorf("%s: empty description", r.URITemplate)
		}
	}
	want := []string{"test://static-binary", "test://static-text", "test://watched-resource", "test://template/{id}/data"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("resources = %v, want fixed URIs first, then templates, each in URI order: %v", got, want)
	}
	// Resources are no tools.
	for _, u := range []string{"read_static_text", "read_template", "watch_resources", "complete", "test_simple_prompt"} {
		if _, ok := c.Lookup(u); ok {
			t.Errorf("%s is a tool; a feature RPC must not be", u)
		}
	}

	for _, tc := range []struct {
		uri, id string
		ok      bool
	}{
		{"test://template/42/data", "42", true},
		{"test://template/a%20b/data", "a b", true},
		{"test://template/a/b/data", "", false},
		{"test://template//data", "", false},
		{"test://template/42/data/x", "", false},
		{"test://other", "", false},
	} {
		r, req, ok := c.ReadRequest(tc.uri)
		if ok != tc.ok {
			t.Errorf("ReadRequest(%q) ok = %v, want %v", tc.uri, ok, tc.ok)
			continue
		}
		if !ok {
			continue
		}
		if !r.IsTemplate() || strings.Join(r.Vars, ",") != "id" {
			t.Errorf("ReadRequest(%q) = %s vars %v, want the template with {id}", tc.uri, r.URITemplate, r.Vars)
		}
		if got := req.(*conformancev1.ReadTemplateRequest).GetId(); got != tc.id {
			t.Errorf("ReadRequest(%q) id = %q, want %q", tc.uri, got, tc.id)
		}
	}
	if r, _, ok := c.ReadRequest("test://static-text"); !ok || r.IsTemplate() || r.MIMEType != "text/plain" {
		t.Errorf("test://static-text: got %+v, %v", r, ok)
	}
	if len(c.ResourceWatches()) != 1 {
		t.Errorf("resource watches = %d, want 1", len(c.ResourceWatches()))
	}
}

func TestPrompts(t *testing.T) {
	c := conformanceCatalog(t)
	p := c.Prompt("test_prompt_with_arguments")
	if p == nil {
		t.Fatal("no prompt test_prompt_with_arguments")
	}
	args, _ := json.Marshal(p.Arguments)
	if want := `[{"Name":"arg1","Description":"First test argument.","Required":true},{"Name":"arg2","Description":"Second test argument.","Required":true}]`; string(args) != want {
		t.Errorf("arguments = %s\nwant %s", args, want)
	}
	if _, err := p.Request(map[string]string{"arg1": "a"}); err == nil || !strings.Contains(err.Error(), `"arg2" is required`) {
		t.Errorf("missing arg2: %v, want an error naming it", err)
	}
	if _, err := p.Request(map[string]string{"arg1": "a", "arg2": "b", "arg3": "c"}); err == nil || !strings.Contains(err.Error(), `no argument "arg3"`) {
		t.Errorf("unknown arg3: %v, want an error naming it", err)
	}
	req, err := p.Request(map[string]string{"arg1": "a", "arg2": "b"})
	if err != nil {
		t.Fatal(err)
	}
	if r := req.(*conformancev1.TestPromptWithArgumentsRequest); r.GetArg1() != "a" || r.GetArg2() != "b" {
		t.Errorf("request = %v", r)
	}
	if ip := c.Prompt("test_input_required_result_prompt"); ip == nil || ip.Kind != catalog.BidiStream || ip.Asks == nil || ip.Answers == nil || ip.Result == nil {
		t.Errorf("the bidi prompt lacks its asks, answers or result field: %+v", ip)
	}
	svc := p.Desc.Parent().FullName()
	if c.Completion(svc) == nil || !c.HasCompletions() {
		t.Error("the conformance service's completion RPC is missing")
	}
}

func TestContentAndBidiTools(t *testing.T) {
	c := conformanceCatalog(t)
	simple, ok := c.Lookup("test_simple_text")
	if !ok {
		t.Fatal("no test_simple_text")
	}
	if simple.Content == nil || simple.Structured || simple.OutputSchema != nil {
		t.Errorf("a content-only tool: Content %v, Structured %v, OutputSchema %s; want content, no structured output", simple.Content, simple.Structured, simple.OutputSchema)
	}
	sampling, ok := c.Lookup("test_sampling")
	if !ok {
		t.Fatal("no test_sampling")
	}
	if sampling.Kind != catalog.BidiStream || sampling.Asks == nil || sampling.Answers == nil {
		t.Fatalf("test_sampling: kind %v asks %v answers %v", sampling.Kind, sampling.Asks, sampling.Answers)
	}
	if strings.Contains(string(sampling.InputSchema), "input_responses") {
		t.Errorf("the answers field is in the input schema: %s", sampling.InputSchema)
	}
	missing, _ := c.Lookup("test_missing_capability")
	if strings.Join(missing.RequiredClientCapabilities, ",") != "sampling" {
		t.Errorf("test_missing_capability requires %v, want [sampling]", missing.RequiredClientCapabilities)
	}
	js, _ := c.Lookup("json_schema_2020_12_tool")
	for _, k := range []string{`"$anchor":"addressDef"`, `"if":`, `"then":`, `"else":`, `"allOf":`} {
		if !strings.Contains(string(js.InputSchema), k) {
			t.Errorf("the verbatim schema lost %s: %s", k, js.InputSchema)
		}
	}
	if v := js.ValidateArgs(json.RawMessage(`{"name":"x","contactMethod":"phone"}`)); len(v) == 0 {
		t.Error("a verbatim schema is not enforced: phone is required by if/then and was missing")
	}
	if v := js.ValidateArgs(json.RawMessage(`{"name":"x","contactMethod":"phone","phone":"1"}`)); len(v) != 0 {
		t.Errorf("valid arguments refused: %v", v)
	}
}
