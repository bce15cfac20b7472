package catalog_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/toolwire/toolwire/edge/catalog"
	echov1 "github.com/toolwire/toolwire/gen/go/examples/echo/v1"
	searchv1 "github.com/toolwire/toolwire/gen/go/examples/search/v1"
	catalogtestv1 "github.com/toolwire/toolwire/gen/go/toolwire/catalogtest/v1"
	mcpv1 "github.com/toolwire/toolwire/gen/go/toolwire/mcp/v1"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.json")

func echoService() protoreflect.ServiceDescriptor {
	return echov1.File_examples_echo_v1_echo_proto.Services().ByName("EchoService")
}

func searchService() protoreflect.ServiceDescriptor {
	return searchv1.File_examples_search_v1_search_proto.Services().ByName("SearchService")
}

func kindsService() protoreflect.ServiceDescriptor {
	return catalogtestv1.File_toolwire_catalogtest_v1_kinds_proto.Services().ByName("KindsService")
}

func mustNew(t testing.TB, services ...protoreflect.ServiceDescriptor) *catalog.Catalog {
	t.Helper()
	c, err := catalog.New(services, nil)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

func mustLookup(t testing.TB, c *catalog.Catalog, name string) *catalog.Tool {
	t.Helper()
	tool, ok := c.Lookup(name)
	if !ok {
		t.Fatalf("Lookup(%q): no such tool", name)
	}
	return tool
}

// goldenCatalogs are the catalogs whose JSON is kept in testdata.
var goldenCatalogs = []struct {
	name     string
	services func() []protoreflect.ServiceDescriptor
}{
	{"examples", func() []protoreflect.ServiceDescriptor {
		return []protoreflect.ServiceDescriptor{echoService(), searchService()}
	}},
	{"kinds", func() []protoreflect.ServiceDescriptor {
		return []protoreflect.ServiceDescriptor{kindsService()}
	}},
}

func TestGolden(t *testing.T) {
	for _, tc := range goldenCatalogs {
		t.Run(tc.name, func(t *testing.T) {
			got, err := mustNew(t, tc.services()...).JSON()
			if err != nil {
				t.Fatalf("JSON: %v", err)
			}
			path := filepath.Join("testdata", tc.name+".golden.json")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), string(got)); diff != "" {
				t.Errorf("catalog JSON differs from %s (-want +got; go test -update rewrites it):\n%s", path, diff)
			}
		})
	}
}

// TestSchemasAreStrict checks every generated schema: it compiles as draft
// 2020-12 (which validates it against the metaschema), it is compact JSON,
// its root is an object, and no anyOf, oneOf, allOf or not appears anywhere.
func TestSchemasAreStrict(t *testing.T) {
	for _, tc := range goldenCatalogs {
		for _, tool := range mustNew(t, tc.services()...).Tools() {
			for dir, raw := range map[string]json.RawMessage{"input": tool.InputSchema, "output": tool.OutputSchema} {
				t.Run(tool.Name+"/"+dir, func(t *testing.T) {
					if raw == nil {
						t.Fatal("no schema")
					}
					var compact bytes.Buffer
					if err := json.Compact(&compact, raw); err != nil || compact.String() != string(raw) {
						t.Errorf("schema is not compact JSON (err %v)", err)
					}
					compileDraft2020(t, raw)
					var doc map[string]any
					if err := json.Unmarshal(raw, &doc); err != nil {
						t.Fatal(err)
					}
					if doc["type"] != "object" {
						t.Errorf("root type = %v, want object", doc["type"])
					}
					for _, kw := range []string{"anyOf", "oneOf", "allOf"} {
						if _, ok := doc[kw]; ok {
							t.Errorf("top-level %s", kw)
						}
					}
					walkSchemas(doc, "#", func(ptr string, s map[string]any) {
						for _, kw := range []string{"anyOf", "oneOf", "allOf", "not"} {
							if _, ok := s[kw]; ok {
								t.Errorf("%s at %s", kw, ptr)
							}
						}
					})
				})
			}
		}
	}
}

// TestSchemaCheckFails makes sure the strictness checks can fail.
func TestSchemaCheckFails(t *testing.T) {
	doc := map[string]any{"type": "object", "properties": map[string]any{
		"a": map[string]any{"items": map[string]any{"oneOf": []any{}}},
	}}
	var found []string
	walkSchemas(doc, "#", func(ptr string, s map[string]any) {
		if _, ok := s["oneOf"]; ok {
			found = append(found, ptr)
		}
	})
	if diff := cmp.Diff([]string{"#/properties/a/items"}, found); diff != "" {
		t.Errorf("walk (-want +got):\n%s", diff)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	if err := c.AddResource("mem:///bad.json", map[string]any{"type": 5}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Compile("mem:///bad.json"); err == nil {
		t.Error("compiling an invalid schema succeeded")
	}
}

// compileDraft2020 compiles raw with a fresh compiler, as a client would.
func compileDraft2020(t testing.TB, raw json.RawMessage) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(strings.NewReader(string(raw)))
	if err != nil {
		t.Fatalf("schema is not JSON: %v", err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	if err := c.AddResource("mem:///schema.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("mem:///schema.json")
	if err != nil {
		t.Fatalf("schema does not compile as draft 2020-12: %v", err)
	}
	return s
}

// walkSchemas calls fn on every subschema of s reachable through the
// keywords the catalog emits.
func walkSchemas(s map[string]any, ptr string, fn func(string, map[string]any)) {
	fn(ptr, s)
	for _, kw := range []string{"items", "additionalProperties", "propertyNames"} {
		if sub, ok := s[kw].(map[string]any); ok {
			walkSchemas(sub, ptr+"/"+kw, fn)
		}
	}
	for _, kw := range []string{"properties", "$defs"} {
		if m, ok := s[kw].(map[string]any); ok {
			for name, sub := range m {
				if sub, ok := sub.(map[string]any); ok {
					walkSchemas(sub, ptr+"/"+kw+"/"+name, fn)
				}
			}
		}
	}
}

func TestTools(t *testing.T) {
	c := mustNew(t, kindsService(), echoService(), searchService())
	var names []string
	for _, tool := range c.Tools() {
		names = append(names, tool.Name)
	}
	want := []string{
		"all_kinds", "converse", "create_account", "echo", "get_document",
		"search_documents", "sleep", "stream", "tree.get", "watch_tree",
	}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("tool names (-want +got):\n%s", diff)
	}
	for _, excluded := range []string{"upload", "reset"} {
		if _, ok := c.Lookup(excluded); ok {
			t.Errorf("Lookup(%q) found an excluded tool", excluded)
		}
	}
}

func TestToolFields(t *testing.T) {
	c := mustNew(t, kindsService(), echoService(), searchService())
	type summary struct {
		Title, Description, FullMethod string
		Kind                           catalog.Kind
		StreamMode                     catalog.StreamMode
		DefaultTimeout, MaxTimeout     time.Duration
		Events                         map[protoreflect.FieldNumber]catalog.EventKind
	}
	tests := []struct {
		name string
		want summary
	}{
		{"echo", summary{
			Title: "Echo", Description: "Returns the text it is given.",
			FullMethod: "/examples.echo.v1.EchoService/Echo", Kind: catalog.Unary,
			Events: map[protoreflect.FieldNumber]catalog.EventKind{},
		}},
		{"stream", summary{
			Title:       "Stream progress",
			Description: "Sends n progress notifications, one every interval_ms milliseconds, then\nreturns \"done\".",
			FullMethod:  "/examples.echo.v1.EchoService/Stream", Kind: catalog.ServerStream, StreamMode: catalog.StreamLast,
			DefaultTimeout: 2 * time.Minute, MaxTimeout: 10 * time.Minute,
			Events: map[protoreflect.FieldNumber]catalog.EventKind{1: catalog.EventProgress},
		}},
		{"search_documents", summary{
			Title:       "Search documents",
			Description: "Searches the corpus for documents that contain every word of the query,\nand streams the matches in id order, with progress as the search goes.",
			FullMethod:  "/examples.search.v1.SearchService/SearchDocuments", Kind: catalog.ServerStream,
			StreamMode: catalog.StreamCollect, DefaultTimeout: 30 * time.Second, MaxTimeout: 5 * time.Minute,
			Events: map[protoreflect.FieldNumber]catalog.EventKind{1: catalog.EventProgress},
		}},
		// No comment: the title is the description.
		{"tree.get", summary{
			Title: "Get tree", Description: "Get tree",
			FullMethod: "/toolwire.catalogtest.v1.KindsService/GetTree", Kind: catalog.Unary,
			Events: map[protoreflect.FieldNumber]catalog.EventKind{},
		}},
		// No comment, no title: the fallback.
		{"watch_tree", summary{
			Description: "Calls KindsService.WatchTree.",
			FullMethod:  "/toolwire.catalogtest.v1.KindsService/WatchTree", Kind: catalog.ServerStream,
			StreamMode: catalog.StreamCollect, DefaultTimeout: 10 * time.Second, MaxTimeout: 90*time.Second + 500*time.Millisecond,
			Events: map[protoreflect.FieldNumber]catalog.EventKind{1: catalog.EventProgress, 2: catalog.EventLog},
		}},
		{"converse", summary{
			Description: "Asks the caller questions on the stream and answers with the last word.",
			FullMethod:  "/toolwire.catalogtest.v1.KindsService/Converse", Kind: catalog.BidiStream,
			StreamMode: catalog.StreamLast,
			Events:     map[protoreflect.FieldNumber]catalog.EventKind{1: catalog.EventProgress},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tool := mustLookup(t, c, tt.name)
			got := summary{
				tool.Title, tool.Description, tool.FullMethod, tool.Kind, tool.StreamMode,
				tool.DefaultTimeout, tool.MaxTimeout, tool.Events,
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("tool (-want +got):\n%s", diff)
			}
			if tool.Method.FullName() != protoreflect.FullName(strings.ReplaceAll(strings.TrimPrefix(tool.FullMethod, "/"), "/", ".")) {
				t.Errorf("Method %s does not match FullMethod %s", tool.Method.FullName(), tool.FullMethod)
			}
		})
	}
}

// TestGovernanceOptions reads rate_class, rate_cost and max_concurrency, and
// their defaults: the "default" class, a cost of 1, and no bound of the
// tool's own.
func TestGovernanceOptions(t *testing.T) {
	c := mustNew(t, kindsService(), echoService(), searchService())
	type governance struct {
		Class          string
		Cost           int
		MaxConcurrency int
	}
	for name, want := range map[string]governance{
		"tree.get":         {"trees", 3, 8},
		"watch_tree":       {catalog.DefaultRateClass, 1, 0},
		"echo":             {"default", 1, 0},
		"sleep":            {"default", 1, 64},
		"search_documents": {"search", 2, 32},
		"get_document":     {"search", 1, 0},
	} {
		tool := mustLookup(t, c, name)
		if got := (governance{tool.RateClass, tool.RateCost, tool.MaxConcurrency}); got != want {
			t.Errorf("%s: got %+v, want %+v", name, got, want)
		}
	}
}

func TestAnnotations(t *testing.T) {
	c := mustNew(t, kindsService(), echoService())
	yes, no := ptr(true), ptr(false)
	tests := []struct {
		name string
		want catalog.Annotations
	}{
		// NO_SIDE_EFFECTS, no hints in the option.
		{"echo", catalog.Annotations{ReadOnly: yes, Destructive: no, Idempotent: yes}},
		// IDEMPOTENT.
		{"all_kinds", catalog.Annotations{Idempotent: yes}},
		// NO_SIDE_EFFECTS, but the option says read_only false: the option wins.
		{"tree.get", catalog.Annotations{ReadOnly: no, Destructive: no, Idempotent: yes}},
		// No level; hints from the option only.
		{"create_account", catalog.Annotations{Destructive: no, OpenWorld: yes}},
		{"converse", catalog.Annotations{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, mustLookup(t, c, tt.name).Annotations); diff != "" {
				t.Errorf("annotations (-want +got):\n%s", diff)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestNewRequestResponse(t *testing.T) {
	c := mustNew(t, echoService())
	echo := mustLookup(t, c, "echo")
	if _, ok := echo.NewRequest().(*echov1.EchoRequest); !ok {
		t.Errorf("NewRequest() = %T, want *echov1.EchoRequest", echo.NewRequest())
	}
	if _, ok := echo.NewResponse().(*echov1.EchoResponse); !ok {
		t.Errorf("NewResponse() = %T, want *echov1.EchoResponse", echo.NewResponse())
	}
	if echo.NewRequest() == echo.NewRequest() {
		t.Error("NewRequest returned the same message twice")
	}

	// A message no Go type is linked in for is dynamic.
	svc := testService(t, &descriptorpb.FileDescriptorProto{
		MessageType: []*descriptorpb.DescriptorProto{{
			Name: proto.String("PingRequest"),
			Field: []*descriptorpb.FieldDescriptorProto{{
				Name: proto.String("count"), JsonName: proto.String("count"), Number: proto.Int32(1),
				Type:  descriptorpb.FieldDescriptorProto_TYPE_INT64.Enum(),
				Label: descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum(),
			}},
		}},
	}, method("Ping", ".test.v1.PingRequest", nil))
	dyn := mustLookup(t, mustNew(t, svc), "ping")
	req, ok := dyn.NewRequest().(*dynamicpb.Message)
	if !ok {
		t.Fatalf("NewRequest() = %T, want *dynamicpb.Message", dyn.NewRequest())
	}
	if req.Descriptor().FullName() != "test.v1.PingRequest" {
		t.Errorf("dynamic request is a %s", req.Descriptor().FullName())
	}
	if _, ok := dyn.NewResponse().(*echov1.EchoResponse); !ok {
		t.Errorf("NewResponse() = %T, want *echov1.EchoResponse", dyn.NewResponse())
	}
	if got, want := dyn.Description, "Calls TestService.Ping."; got != want {
		t.Errorf("Description = %q, want %q", got, want)
	}
	if got, want := string(dyn.InputSchema), `{"type":"object","properties":{"count":{"type":["integer","string"],"pattern":"^-?[0-9]+$"}},"additionalProperties":false}`; got != want {
		t.Errorf("InputSchema = %s, want %s", got, want)
	}
}

var testFileSeq int

// testService builds a service test.v1.TestService in a new file, holding
// fdp's messages and the methods. Requests and responses default to the echo
// example's messages.
func testService(t testing.TB, fdp *descriptorpb.FileDescriptorProto, methods ...*descriptorpb.MethodDescriptorProto) protoreflect.ServiceDescriptor {
	t.Helper()
	testFileSeq++
	fdp.Name = proto.String(strings.ReplaceAll(t.Name(), "/", "_") + "_" + string(rune('a'+testFileSeq%26)) + ".proto")
	fdp.Package = proto.String("test.v1")
	fdp.Syntax = proto.String("proto3")
	fdp.Dependency = append(fdp.Dependency, "examples/echo/v1/echo.proto", "google/protobuf/wrappers.proto")
	fdp.Service = []*descriptorpb.ServiceDescriptorProto{{Name: proto.String("TestService"), Method: methods}}
	fd, err := protodesc.NewFile(fdp, protoregistry.GlobalFiles)
	if err != nil {
		t.Fatalf("building test descriptors: %v", err)
	}
	return fd.Services().Get(0)
}

// method declares an RPC from input to the echo response, with a tool option
// when opt is not nil.
func method(name, input string, opt *mcpv1.ToolOptions) *descriptorpb.MethodDescriptorProto {
	if input == "" {
		input = ".examples.echo.v1.EchoRequest"
	}
	m := &descriptorpb.MethodDescriptorProto{
		Name:       proto.String(name),
		InputType:  proto.String(input),
		OutputType: proto.String(".examples.echo.v1.EchoResponse"),
		Options:    &descriptorpb.MethodOptions{},
	}
	if opt != nil {
		proto.SetExtension(m.Options, mcpv1.E_Tool, opt)
	}
	return m
}

func TestDefaultNames(t *testing.T) {
	svc := testService(t, &descriptorpb.FileDescriptorProto{},
		method("SearchDocuments", "", nil),
		method("GetHTTPStatus", "", nil),
		method("Echo", "", nil),
		method("ListV2Items", "", nil),
		method("already_snake", "", nil),
	)
	var names []string
	for _, tool := range mustNew(t, svc).Tools() {
		names = append(names, tool.Name)
	}
	want := []string{"already_snake", "echo", "get_http_status", "list_v2_items", "search_documents"}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("default names (-want +got):\n%s", diff)
	}
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		name     string
		services func(t *testing.T) []protoreflect.ServiceDescriptor
		want     []string // substrings of the error
	}{
		{"name collision with an option", func(t *testing.T) []protoreflect.ServiceDescriptor {
			return []protoreflect.ServiceDescriptor{echoService(), testService(t, &descriptorpb.FileDescriptorProto{},
				method("Repeat", "", &mcpv1.ToolOptions{Name: "echo"}))}
		}, []string{`"echo"`, "examples.echo.v1.EchoService.Echo", "test.v1.TestService.Repeat"}},
		{"name collision with a default", func(t *testing.T) []protoreflect.ServiceDescriptor {
			return []protoreflect.ServiceDescriptor{testService(t, &descriptorpb.FileDescriptorProto{},
				method("GetThing", "", nil),
				method("Other", "", &mcpv1.ToolOptions{Name: "get_thing"}))}
		}, []string{`"get_thing"`, "test.v1.TestService.GetThing", "test.v1.TestService.Other"}},
		{"invalid name", func(t *testing.T) []protoreflect.ServiceDescriptor {
			return []protoreflect.ServiceDescriptor{testService(t, &descriptorpb.FileDescriptorProto{},
				method("Bad", "", &mcpv1.ToolOptions{Name: "not allowed!"}))}
		}, []string{"test.v1.TestService.Bad", `"not allowed!"`}},
		{"name too long", func(t *testing.T) []protoreflect.ServiceDescriptor {
			return []protoreflect.ServiceDescriptor{testService(t, &descriptorpb.FileDescriptorProto{},
				method("Long", "", &mcpv1.ToolOptions{Name: strings.Repeat("x", 129)}))}
		}, []string{"test.v1.TestService.Long", "does not match"}},
		{"client stream", func(t *testing.T) []protoreflect.ServiceDescriptor {
			m := method("Upload", "", nil)
			m.ClientStreaming = proto.Bool(true)
			return []protoreflect.ServiceDescriptor{testService(t, &descriptorpb.FileDescriptorProto{}, m)}
		}, []string{"test.v1.TestService.Upload", "client-streaming", "exclude"}},
		{"request not an object", func(t *testing.T) []protoreflect.ServiceDescriptor {
			return []protoreflect.ServiceDescriptor{testService(t, &descriptorpb.FileDescriptorProto{},
				method("Wrapped", ".google.protobuf.StringValue", nil))}
		}, []string{"test.v1.TestService.Wrapped", "must be an object"}},
		{"default over max timeout", func(t *testing.T) []protoreflect.ServiceDescriptor {
			return []protoreflect.ServiceDescriptor{testService(t, &descriptorpb.FileDescriptorProto{},
				method("Slow", "", &mcpv1.ToolOptions{
					DefaultTimeout: durationpb.New(time.Minute), MaxTimeout: durationpb.New(time.Second),
				}))}
		}, []string{"test.v1.TestService.Slow", "default_timeout 1m0s exceeds max_timeout 1s"}},
		{"negative timeout", func(t *testing.T) []protoreflect.ServiceDescriptor {
			return []protoreflect.ServiceDescriptor{testService(t, &descriptorpb.FileDescriptorProto{},
				method("Neg", "", &mcpv1.ToolOptions{MaxTimeout: durationpb.New(-time.Second)}))}
		}, []string{"test.v1.TestService.Neg", "max_timeout", "negative"}},
		{"invalid rate class", func(t *testing.T) []protoreflect.ServiceDescriptor {
			return []protoreflect.ServiceDescriptor{testService(t, &descriptorpb.FileDescriptorProto{},
				method("Costly", "", &mcpv1.ToolOptions{RateClass: "no spaces"}))}
		}, []string{"test.v1.TestService.Costly", `rate_class "no spaces"`}},
		{"rate class too long", func(t *testing.T) []protoreflect.ServiceDescriptor {
			return []protoreflect.ServiceDescriptor{testService(t, &descriptorpb.FileDescriptorProto{},
				method("Costly", "", &mcpv1.ToolOptions{RateClass: strings.Repeat("c", 65)}))}
		}, []string{"test.v1.TestService.Costly", "rate_class", "does not match"}},
		{"rate cost too large", func(t *testing.T) []protoreflect.ServiceDescriptor {
			return []protoreflect.ServiceDescriptor{testService(t, &descriptorpb.FileDescriptorProto{},
				method("Costly", "", &mcpv1.ToolOptions{RateCost: 2_000_000}))}
		}, []string{"test.v1.TestService.Costly", "rate_cost 2000000 exceeds"}},
		{"max concurrency too large", func(t *testing.T) []protoreflect.ServiceDescriptor {
			return []protoreflect.ServiceDescriptor{testService(t, &descriptorpb.FileDescriptorProto{},
				method("Pool", "", &mcpv1.ToolOptions{MaxConcurrency: 1 << 31}))}
		}, []string{"test.v1.TestService.Pool", "max_concurrency 2147483648 is too large"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := catalog.New(tt.services(t), nil)
			if err == nil {
				t.Fatalf("New succeeded with %d tools, want an error", len(c.Tools()))
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestOptionsInclude(t *testing.T) {
	client := method("Upload", "", nil)
	client.ClientStreaming = proto.Bool(true)
	svc := testService(t, &descriptorpb.FileDescriptorProto{}, method("Keep", "", nil), client)
	c, err := catalog.New([]protoreflect.ServiceDescriptor{svc}, &catalog.Options{
		Include: func(m protoreflect.MethodDescriptor) bool { return !m.IsStreamingClient() },
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if got := len(c.Tools()); got != 1 {
		t.Errorf("%d tools, want 1", got)
	}
	if _, ok := c.Lookup("keep"); !ok {
		t.Error("keep is missing")
	}
}

func TestNonObjectResponse(t *testing.T) {
	m := method("Name", "", nil)
	m.OutputType = proto.String(".google.protobuf.StringValue")
	tool := mustLookup(t, mustNew(t, testService(t, &descriptorpb.FileDescriptorProto{}, m)), "name")
	if tool.OutputSchema != nil {
		t.Errorf("OutputSchema = %s, want none for a non-object result", tool.OutputSchema)
	}
}

func TestToolsIsACopy(t *testing.T) {
	c := mustNew(t, echoService())
	tools := c.Tools()
	tools[0] = nil
	if c.Tools()[0] == nil {
		t.Error("Tools returned the catalog's own slice")
	}
}

func TestKindStrings(t *testing.T) {
	got := []string{
		catalog.Unary.String(), catalog.ServerStream.String(), catalog.BidiStream.String(), catalog.Kind(9).String(),
		catalog.StreamLast.String(), catalog.StreamCollect.String(), catalog.StreamMode(9).String(),
	}
	want := []string{"unary", "server_stream", "bidi_stream", "Kind(9)", "last", "collect", "StreamMode(9)"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("strings (-want +got):\n%s", diff)
	}
}
