// Command protoc-gen-toolwire is a buf/protoc plugin with two outputs.
//
// By default, for each proto file it writes a <name>_toolwire.pb.go beside
// protoc-gen-go's output that registers the file's leading comments with
// package protodoc, so that tool descriptions and schema descriptions survive
// compilation. Use it from buf.gen.yaml as a local plugin, with
// paths=source_relative and the same out directory as protoc-gen-go.
//
// With the option manifest=true it writes, instead, for each proto file that
// declares services, a tool manifest <path>/<name>.toolwire.json: the
// catalog the edge builds from the file's services (edge/catalog's
// [catalog.Catalog.JSON], as `toolwire tools` prints it), with each tool's
// description, annotations, schemas, scopes, timeouts and rate class, so
// that a change to a contract shows in review as a change to what agents
// see. Point that invocation at its own out directory (gen/manifest). A
// contract the edge would refuse (a client-streaming RPC left in, a duplicate
// or invalid tool name, a bad timeout) fails generation.
//
// The manifest is built with the options and the edge/catalog compiled into
// this plugin: after a change to toolwire/mcp/v1/options.proto, generate
// twice to see the new options in the manifests.
package main

import (
	"cmp"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"google.golang.org/protobuf/compiler/protogen"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/pluginpb"

	"github.com/toolwire/toolwire/edge/catalog"
	"github.com/toolwire/toolwire/protodoc"
)

const protodocPkg = protogen.GoImportPath("github.com/toolwire/toolwire/protodoc")

func main() {
	var prm params
	protogen.Options{ParamFunc: prm.set}.Run(func(p *protogen.Plugin) error {
		return run(p, prm.manifest)
	})
}

// params are the plugin's own options; protogen handles paths and M.
type params struct {
	// manifest selects the tool manifests instead of the comment tables.
	manifest bool
}

func (o *params) set(name, value string) error {
	switch name {
	case "manifest":
		v, err := strconv.ParseBool(cmp.Or(value, "true"))
		if err != nil {
			return fmt.Errorf("option manifest=%q: want true or false", value)
		}
		o.manifest = v
		return nil
	}
	return fmt.Errorf("unknown option %q", name)
}

// run writes the plugin's output for every file to generate: manifests, or
// comment tables.
func run(p *protogen.Plugin, manifest bool) error {
	p.SupportedFeatures = uint64(pluginpb.CodeGeneratorResponse_FEATURE_PROTO3_OPTIONAL)
	for _, f := range p.Files {
		if !f.Generate {
			continue
		}
		if !manifest {
			generate(p, f)
			continue
		}
		if err := generateManifest(p, f); err != nil {
			return err
		}
	}
	return nil
}

// generateManifest writes the tool manifest of one file, if it declares
// services. The descriptors come from the request, with its source info, so
// descriptions come from the proto comments.
func generateManifest(p *protogen.Plugin, f *protogen.File) error {
	services := f.Desc.Services()
	if services.Len() == 0 {
		return nil
	}
	svcs := make([]protoreflect.ServiceDescriptor, services.Len())
	for i := range services.Len() {
		svcs[i] = services.Get(i)
	}
	c, err := catalog.New(svcs, nil)
	if err != nil {
		return fmt.Errorf("%s: %w", f.Desc.Path(), err)
	}
	js, err := c.JSON()
	if err != nil {
		return fmt.Errorf("%s: %w", f.Desc.Path(), err)
	}
	g := p.NewGeneratedFile(manifestName(f.Desc.Path()), "")
	_, err = g.Write(js)
	return err
}

// manifestName is the manifest's path for a proto file's path:
// examples/echo/v1/echo.proto gives examples/echo/v1/echo.toolwire.json.
func manifestName(protoPath string) string {
	return strings.TrimSuffix(protoPath, ".proto") + ".toolwire.json"
}

// generate writes one file's comment table. A file with no comments gets no
// output, so nothing empty is checked in.
func generate(p *protogen.Plugin, f *protogen.File) {
	comments := map[string]string{}
	add := func(name string, c protogen.Comments) {
		if text := protodoc.Clean(string(c)); text != "" {
			comments[name] = text
		}
	}
	var walkMsg func(m *protogen.Message)
	walkEnum := func(e *protogen.Enum) {
		add(string(e.Desc.FullName()), e.Comments.Leading)
		for _, v := range e.Values {
			add(string(v.Desc.FullName()), v.Comments.Leading)
		}
	}
	walkMsg = func(m *protogen.Message) {
		add(string(m.Desc.FullName()), m.Comments.Leading)
		for _, fl := range m.Fields {
			add(string(fl.Desc.FullName()), fl.Comments.Leading)
		}
		for _, o := range m.Oneofs {
			add(string(o.Desc.FullName()), o.Comments.Leading)
		}
		for _, e := range m.Enums {
			walkEnum(e)
		}
		for _, n := range m.Messages {
			walkMsg(n)
		}
	}
	for _, s := range f.Services {
		add(string(s.Desc.FullName()), s.Comments.Leading)
		for _, m := range s.Methods {
			add(string(m.Desc.FullName()), m.Comments.Leading)
		}
	}
	for _, m := range f.Messages {
		walkMsg(m)
	}
	for _, e := range f.Enums {
		walkEnum(e)
	}
	if len(comments) == 0 {
		return
	}
	names := make([]string, 0, len(comments))
	for n := range comments {
		names = append(names, n)
	}
	sort.Strings(names)

	g := p.NewGeneratedFile(f.GeneratedFilenamePrefix+"_toolwire.pb.go", f.GoImportPath)
	g.P("// Code generated by protoc-gen-toolwire. DO NOT EDIT.")
	g.P("// source: ", f.Desc.Path())
	g.P()
	g.P("package ", f.GoPackageName)
	g.P()
	g.P("func init() {")
	g.P(protodocPkg.Ident("Register"), "(map[string]string{")
	for _, n := range names {
		g.P(strconv.Quote(n), ": ", strconv.Quote(comments[n]), ",")
	}
	g.P("})")
	g.P("}")
}
