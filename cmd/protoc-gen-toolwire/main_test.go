package main

import (
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/compiler/protogen"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/pluginpb"

	echov1 "github.com/toolwire/toolwire/gen/go/examples/echo/v1"
	searchv1 "github.com/toolwire/toolwire/gen/go/examples/search/v1"
	mcpv1 "github.com/toolwire/toolwire/gen/go/toolwire/mcp/v1"
	"github.com/toolwire/toolwire/protodoc"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.json")

// request builds the CodeGeneratorRequest buf sends for files, with every
// file they import, dependencies first. Each file carries source info
// holding its leading comments, as buf sends it; the compiled-in
// descriptors have none, so it is rebuilt from the comments the generated
// code registered with protodoc.
func request(param string, files ...protoreflect.FileDescriptor) *pluginpb.CodeGeneratorRequest {
	req := &pluginpb.CodeGeneratorRequest{Parameter: proto.String(param)}
	seen := map[string]bool{}
	var add func(fd protoreflect.FileDescriptor)
	add = func(fd protoreflect.FileDescriptor) {
		if seen[fd.Path()] {
			return
		}
		seen[fd.Path()] = true
		imports := fd.Imports()
		for i := range imports.Len() {
			add(imports.Get(i).FileDescriptor)
		}
		fdp := protodesc.ToFileDescriptorProto(fd)
		fdp.SourceCodeInfo = sourceInfo(fd)
		req.ProtoFile = append(req.ProtoFile, fdp)
	}
	for _, fd := range files {
		add(fd)
		req.FileToGenerate = append(req.FileToGenerate, fd.Path())
	}
	return req
}

// sourceInfo makes source locations of the registered leading comments of
// fd's declarations.
func sourceInfo(fd protoreflect.FileDescriptor) *descriptorpb.SourceCodeInfo {
	info := &descriptorpb.SourceCodeInfo{}
	note := func(d protoreflect.Descriptor, path []int32) {
		text := protodoc.Leading(d)
		if text == "" {
			return
		}
		raw := " " + strings.ReplaceAll(text, "\n", "\n ") + "\n"
		info.Location = append(info.Location, &descriptorpb.SourceCodeInfo_Location{
			Path: slices.Clone(path), Span: []int32{0, 0, 0}, LeadingComments: proto.String(raw),
		})
	}
	var enum func(e protoreflect.EnumDescriptor, path []int32)
	enum = func(e protoreflect.EnumDescriptor, path []int32) {
		note(e, path)
		for i := range e.Values().Len() {
			note(e.Values().Get(i), append(path, 2, int32(i)))
		}
	}
	var message func(m protoreflect.MessageDescriptor, path []int32)
	message = func(m protoreflect.MessageDescriptor, path []int32) {
		note(m, path)
		for i := range m.Fields().Len() {
			note(m.Fields().Get(i), append(path, 2, int32(i)))
		}
		for i := range m.Messages().Len() {
			message(m.Messages().Get(i), append(path, 3, int32(i)))
		}
		for i := range m.Enums().Len() {
			enum(m.Enums().Get(i), append(path, 4, int32(i)))
		}
		for i := range m.Oneofs().Len() {
			note(m.Oneofs().Get(i), append(path, 8, int32(i)))
		}
	}
	for i := range fd.Messages().Len() {
		message(fd.Messages().Get(i), []int32{4, int32(i)})
	}
	for i := range fd.Enums().Len() {
		enum(fd.Enums().Get(i), []int32{5, int32(i)})
	}
	for i := range fd.Services().Len() {
		s := fd.Services().Get(i)
		path := []int32{6, int32(i)}
		note(s, path)
		for j := range s.Methods().Len() {
			note(s.Methods().Get(j), append(path, 2, int32(j)))
		}
	}
	return info
}

// generateFiles runs the plugin in process on req and returns its files by
// name, or its error.
func generateFiles(t *testing.T, req *pluginpb.CodeGeneratorRequest) (map[string]string, string) {
	t.Helper()
	var prm params
	p, err := protogen.Options{ParamFunc: prm.set}.New(req)
	if err != nil {
		t.Fatalf("protogen: %v", err)
	}
	if err := run(p, prm.manifest); err != nil {
		p.Error(err)
	}
	resp := p.Response()
	files := map[string]string{}
	for _, f := range resp.GetFile() {
		files[f.GetName()] = f.GetContent()
	}
	return files, resp.GetError()
}

// TestManifestGolden runs the plugin with manifest=true on the example
// contracts and compares each manifest with testdata/<name>.golden.json.
func TestManifestGolden(t *testing.T) {
	files, errText := generateFiles(t, request("manifest=true",
		echov1.File_examples_echo_v1_echo_proto, searchv1.File_examples_search_v1_search_proto))
	if errText != "" {
		t.Fatalf("plugin error: %s", errText)
	}
	var names []string
	for name := range files {
		names = append(names, name)
	}
	slices.Sort(names)
	// One manifest per generated file with services; none for imports or
	// for the Go comment tables.
	want := []string{"examples/echo/v1/echo.toolwire.json", "examples/search/v1/search.toolwire.json"}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Fatalf("files (-want +got):\n%s", diff)
	}
	for _, name := range names {
		golden := filepath.Join("testdata", strings.TrimSuffix(filepath.Base(name), ".toolwire.json")+".golden.json")
		got := files[name]
		if *update {
			if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		wantText, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (run go test -update to create it)", err)
		}
		if diff := cmp.Diff(string(wantText), got); diff != "" {
			t.Errorf("%s differs from %s (-want +got; go test -update rewrites it):\n%s", name, golden, diff)
		}
	}
}

// notesFile is a contract no Go code is compiled for: the plugin sees it
// only as descriptors, as for any file it generates.
func notesFile(opt *mcpv1.ToolOptions, clientStream bool) *descriptorpb.FileDescriptorProto {
	mo := &descriptorpb.MethodOptions{}
	if opt != nil {
		proto.SetExtension(mo, mcpv1.E_Tool, opt)
	}
	str := descriptorpb.FieldDescriptorProto_TYPE_STRING.Enum()
	optional := descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum()
	return &descriptorpb.FileDescriptorProto{
		Name:       proto.String("notes/v1/notes.proto"),
		Package:    proto.String("notes.v1"),
		Syntax:     proto.String("proto3"),
		Dependency: []string{"toolwire/mcp/v1/options.proto"},
		Options:    &descriptorpb.FileOptions{GoPackage: proto.String("example.com/notes/v1;notesv1")},
		MessageType: []*descriptorpb.DescriptorProto{
			{Name: proto.String("AddNoteRequest"), Field: []*descriptorpb.FieldDescriptorProto{
				{Name: proto.String("text"), JsonName: proto.String("text"), Number: proto.Int32(1), Type: str, Label: optional},
			}},
			{Name: proto.String("AddNoteResponse"), Field: []*descriptorpb.FieldDescriptorProto{
				{Name: proto.String("id"), JsonName: proto.String("id"), Number: proto.Int32(1), Type: str, Label: optional},
			}},
		},
		Service: []*descriptorpb.ServiceDescriptorProto{{
			Name: proto.String("NotesService"),
			Method: []*descriptorpb.MethodDescriptorProto{{
				Name: proto.String("AddNote"), InputType: proto.String(".notes.v1.AddNoteRequest"),
				OutputType: proto.String(".notes.v1.AddNoteResponse"), Options: mo,
				ClientStreaming: proto.Bool(clientStream),
			}},
		}},
		SourceCodeInfo: &descriptorpb.SourceCodeInfo{Location: []*descriptorpb.SourceCodeInfo_Location{
			{Path: []int32{6, 0, 2, 0}, Span: []int32{0, 0, 0}, LeadingComments: proto.String(" Adds a note.\n Notes are short.\n")},
			{Path: []int32{4, 0, 2, 0}, Span: []int32{0, 0, 0}, LeadingComments: proto.String(" The note's text.\n")},
		}},
	}
}

func notesRequest(param string, fdp *descriptorpb.FileDescriptorProto) *pluginpb.CodeGeneratorRequest {
	req := request(param, mcpv1.File_toolwire_mcp_v1_options_proto)
	req.FileToGenerate = []string{fdp.GetName()}
	req.ProtoFile = append(req.ProtoFile, fdp)
	return req
}

// TestManifestFromSourceInfo checks a contract the plugin has only as
// descriptors: messages without Go types, options read from the request,
// and descriptions from the request's source info.
func TestManifestFromSourceInfo(t *testing.T) {
	fdp := notesFile(&mcpv1.ToolOptions{Name: "notes.add", Scopes: []string{"notes:write"}, RateClass: "writes"}, false)
	files, errText := generateFiles(t, notesRequest("manifest=true", fdp))
	if errText != "" {
		t.Fatalf("plugin error: %s", errText)
	}
	want := `[
  {
    "name": "notes.add",
    "description": "Adds a note.\nNotes are short.",
    "method": "/notes.v1.NotesService/AddNote",
    "kind": "unary",
    "inputSchema": {
      "type": "object",
      "properties": {
        "text": {
          "type": "string",
          "description": "The note's text."
        }
      },
      "additionalProperties": false
    },
    "outputSchema": {
      "type": "object",
      "properties": {
        "id": {
          "type": "string"
        }
      }
    },
    "scopes": [
      "notes:write"
    ],
    "rateClass": "writes",
    "rateCost": 1
  }
]
`
	if diff := cmp.Diff(want, files["notes/v1/notes.toolwire.json"]); diff != "" {
		t.Errorf("manifest (-want +got):\n%s", diff)
	}
}

// TestManifestRefusesBadContracts checks that a contract the edge would
// refuse fails generation, naming the file.
func TestManifestRefusesBadContracts(t *testing.T) {
	_, errText := generateFiles(t, notesRequest("manifest=true", notesFile(nil, true)))
	if !strings.Contains(errText, "notes/v1/notes.proto") || !strings.Contains(errText, "client-streaming") {
		t.Errorf("plugin error = %q, want one naming the file and the client-streaming method", errText)
	}
	// Excluded, the method is no tool, and the manifest is empty.
	files, errText := generateFiles(t, notesRequest("manifest=true", notesFile(&mcpv1.ToolOptions{Exclude: true}, true)))
	if errText != "" {
		t.Fatalf("plugin error: %s", errText)
	}
	if got := files["notes/v1/notes.toolwire.json"]; got != "[]\n" {
		t.Errorf("manifest = %q, want an empty list", got)
	}
}

// TestCommentTables checks the default output: a Go file of comments per
// proto file, registered with protodoc, and no manifest.
func TestCommentTables(t *testing.T) {
	files, errText := generateFiles(t, notesRequest("paths=source_relative", notesFile(nil, false)))
	if errText != "" {
		t.Fatalf("plugin error: %s", errText)
	}
	want := map[string]string{"notes/v1/notes_toolwire.pb.go": `// Code generated by protoc-gen-toolwire. DO NOT EDIT.
// source: notes/v1/notes.proto

package notesv1

import (
	protodoc "github.com/toolwire/toolwire/protodoc"
)

func init() {
	protodoc.Register(map[string]string{
		"notes.v1.AddNoteRequest.text":  "The note's text.",
		"notes.v1.NotesService.AddNote": "Adds a note.\nNotes are short.",
	})
}
`}
	if diff := cmp.Diff(want, files); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
}

func TestParams(t *testing.T) {
	for _, param := range []string{"manifest=maybe", "colour=blue"} {
		var prm params
		if _, err := (protogen.Options{ParamFunc: prm.set}).New(request(param, mcpv1.File_toolwire_mcp_v1_options_proto)); err == nil {
			t.Errorf("parameter %q: no error", param)
		}
	}
}
