package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"google.golang.org/grpc"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
)

// Contracts read through gRPC reflection.
//
// A backend may serve a service this binary was not compiled with. Its
// contract is then read from the backend: the file declaring the service,
// and every file it imports that is not compiled in here, are fetched as
// FileDescriptorProtos and built into a private registry. Imports that are
// compiled in (the well-known types, toolwire.mcp.v1, buf.validate, shared
// contracts) are taken from this binary, so that the edge sees one
// definition of each. The options in the fetched files, (toolwire.mcp.v1.tool)
// and (buf.validate.field) among them, decode as the compiled-in extensions,
// as this binary links them. The messages have no Go types here: the catalog
// and the bridge work with dynamic messages. Comments survive only when the
// backend serves its descriptors with source info, which protoc-gen-go's
// output does not carry; without them, tools get default descriptions.

// reflectTimeout bounds the reflection exchange with one backend.
const reflectTimeout = 10 * time.Second

// reflectServices reads the contracts of services from the backend at conn
// through gRPC reflection. It returns the services it could build; err
// says, for each of the others, why not.
func reflectServices(ctx context.Context, conn grpc.ClientConnInterface, services []string) (found map[string]protoreflect.ServiceDescriptor, err error) {
	ctx, cancel := context.WithTimeout(ctx, reflectTimeout)
	defer cancel()
	stream, err := reflectionpb.NewServerReflectionClient(conn).ServerReflectionInfo(ctx, grpc.WaitForReady(true))
	if err != nil {
		return nil, err
	}
	defer func() { _ = stream.CloseSend() }()
	f := &fetcher{stream: stream, files: map[string]*descriptorpb.FileDescriptorProto{}}

	// The file declaring each service, fetched with its imports.
	declaring := map[string]string{} // service → file path
	var errs []error
	for _, svc := range services {
		path, err := f.fileContaining(svc)
		if err != nil {
			errs = append(errs, fmt.Errorf("service %s: %w", svc, err))
			continue
		}
		declaring[svc] = path
	}

	// Private files resolve their imports here first, then among the
	// compiled-in files. A service's own file is always the backend's: a
	// compiled-in file of the same path is an older or newer version of it.
	own := map[string]bool{}
	for _, path := range declaring {
		own[path] = true
	}
	b := &builder{fetch: f, own: own, files: new(protoregistry.Files), building: map[string]bool{}}
	found = map[string]protoreflect.ServiceDescriptor{}
	for _, svc := range services {
		path, ok := declaring[svc]
		if !ok {
			continue
		}
		if err := b.build(path); err != nil {
			errs = append(errs, fmt.Errorf("service %s: %w", svc, err))
			continue
		}
		d, err := b.files.FindDescriptorByName(protoreflect.FullName(svc))
		sd, ok := d.(protoreflect.ServiceDescriptor)
		if err != nil || !ok {
			errs = append(errs, fmt.Errorf("service %s: not declared in %s, which the backend says declares it", svc, path))
			continue
		}
		found[svc] = sd
	}
	return found, errors.Join(errs...)
}

// fetcher asks a backend's reflection service for files, on one stream,
// keeping every file it is sent.
type fetcher struct {
	stream grpc.BidiStreamingClient[reflectionpb.ServerReflectionRequest, reflectionpb.ServerReflectionResponse]
	files  map[string]*descriptorpb.FileDescriptorProto // by path
}

// fileContaining fetches the file declaring symbol, and returns its path.
func (f *fetcher) fileContaining(symbol string) (string, error) {
	got, err := f.ask(&reflectionpb.ServerReflectionRequest{
		MessageRequest: &reflectionpb.ServerReflectionRequest_FileContainingSymbol{FileContainingSymbol: symbol},
	})
	if err != nil {
		return "", err
	}
	// The server sends the file declaring the symbol first, then the
	// imports it has not sent on this stream yet.
	return got[0], nil
}

// file returns the file at path, fetching it if it was not sent yet.
func (f *fetcher) file(path string) (*descriptorpb.FileDescriptorProto, error) {
	if fdp, ok := f.files[path]; ok {
		return fdp, nil
	}
	if _, err := f.ask(&reflectionpb.ServerReflectionRequest{
		MessageRequest: &reflectionpb.ServerReflectionRequest_FileByFilename{FileByFilename: path},
	}); err != nil {
		return nil, fmt.Errorf("file %s: %w", path, err)
	}
	fdp, ok := f.files[path]
	if !ok {
		return nil, fmt.Errorf("file %s: the backend sent other files", path)
	}
	return fdp, nil
}

// ask sends one request and keeps the files of the answer, returning their
// paths in the order sent.
func (f *fetcher) ask(req *reflectionpb.ServerReflectionRequest) ([]string, error) {
	if err := f.stream.Send(req); err != nil {
		return nil, err
	}
	resp, err := f.stream.Recv()
	if err != nil {
		return nil, err
	}
	if e := resp.GetErrorResponse(); e != nil {
		return nil, fmt.Errorf("reflection: %s", e.GetErrorMessage())
	}
	raw := resp.GetFileDescriptorResponse().GetFileDescriptorProto()
	if len(raw) == 0 {
		return nil, errors.New("reflection: no file in the answer")
	}
	paths := make([]string, 0, len(raw))
	for _, b := range raw {
		// Options decode with the extensions linked into this binary.
		fdp := &descriptorpb.FileDescriptorProto{}
		if err := proto.Unmarshal(b, fdp); err != nil {
			return nil, fmt.Errorf("reflection: decoding a file descriptor: %w", err)
		}
		if _, ok := f.files[fdp.GetName()]; !ok {
			f.files[fdp.GetName()] = fdp
		}
		paths = append(paths, fdp.GetName())
	}
	return paths, nil
}

// builder builds fetched files into a private registry, imports first.
type builder struct {
	fetch    *fetcher
	own      map[string]bool // paths always taken from the backend
	files    *protoregistry.Files
	building map[string]bool
}

// compiledIn reports whether the import at path is taken from this binary.
func (b *builder) compiledIn(path string) bool {
	if b.own[path] {
		return false
	}
	_, err := protoregistry.GlobalFiles.FindFileByPath(path)
	return err == nil
}

func (b *builder) build(path string) error {
	if _, err := b.files.FindFileByPath(path); err == nil {
		return nil
	}
	if b.building[path] {
		return fmt.Errorf("file %s imports itself", path)
	}
	b.building[path] = true
	defer delete(b.building, path)
	fdp, err := b.fetch.file(path)
	if err != nil {
		return err
	}
	for _, dep := range fdp.GetDependency() {
		if b.compiledIn(dep) {
			continue
		}
		if err := b.build(dep); err != nil {
			return err
		}
	}
	fd, err := protodesc.NewFile(fdp, resolver{b})
	if err != nil {
		return fmt.Errorf("file %s: %w", path, err)
	}
	if err := b.files.RegisterFile(fd); err != nil {
		return fmt.Errorf("file %s: %w", path, err)
	}
	return nil
}

// resolver finds files and declarations among the private files first, then
// among the compiled-in ones, leaving out the compiled-in versions of the
// backend's own files.
type resolver struct{ b *builder }

func (r resolver) FindFileByPath(path string) (protoreflect.FileDescriptor, error) {
	if fd, err := r.b.files.FindFileByPath(path); err == nil {
		return fd, nil
	}
	if r.b.own[path] {
		return nil, protoregistry.NotFound
	}
	return protoregistry.GlobalFiles.FindFileByPath(path)
}

func (r resolver) FindDescriptorByName(name protoreflect.FullName) (protoreflect.Descriptor, error) {
	if d, err := r.b.files.FindDescriptorByName(name); err == nil {
		return d, nil
	}
	d, err := protoregistry.GlobalFiles.FindDescriptorByName(name)
	if err != nil {
		return nil, err
	}
	if r.b.own[d.ParentFile().Path()] {
		return nil, protoregistry.NotFound
	}
	return d, nil
}
