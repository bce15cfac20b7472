// Package protodoc keeps the comments of proto declarations for use at run
// time.
//
// protoc-gen-go strips source code info from the descriptors it compiles into
// Go, so an RPC's leading comment (a tool's description) and a field's comment
// (a schema property's description) are gone by the time a program runs.
// protoc-gen-toolwire writes them into a *_toolwire.pb.go file beside each
// generated file, which registers them here from an init function.
//
// No library keeps these comments for compiled-in descriptors, which is why
// this package exists.
package protodoc

import (
	"strings"
	"sync"

	"google.golang.org/protobuf/reflect/protoreflect"
)

var (
	mu   sync.RWMutex
	docs = map[protoreflect.FullName]string{}
)

// Register records leading comments by the full name of the declaration they
// document. Generated code calls it; a later registration of a name wins.
func Register(comments map[string]string) {
	mu.Lock()
	defer mu.Unlock()
	for name, text := range comments {
		docs[protoreflect.FullName(name)] = text
	}
}

// Leading returns the leading comment of d, cleaned of comment markers and
// indentation, or "" when d has none. Source locations carried by d's file
// (as with descriptors read through gRPC reflection of a file built with
// source info) take precedence over registered comments.
func Leading(d protoreflect.Descriptor) string {
	if f := d.ParentFile(); f != nil {
		if loc := f.SourceLocations().ByDescriptor(d); loc.LeadingComments != "" {
			return Clean(loc.LeadingComments)
		}
	}
	mu.RLock()
	defer mu.RUnlock()
	return docs[d.FullName()]
}

// Clean turns a raw proto comment (each line with its leading space) into
// plain text: lines are unindented by one space and the whole is trimmed.
func Clean(raw string) string {
	lines := strings.Split(strings.TrimRight(raw, "\n"), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(strings.TrimPrefix(l, " "), " \t")
	}
	return strings.TrimSpace(strings.Join(lines, "\n"))
}
