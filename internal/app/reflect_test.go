package app

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"maps"
	"net"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/reflection"
	reflectiongrpc "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go/buf/validate"

	mcpv1 "github.com/toolwire/toolwire/gen/go/toolwire/mcp/v1"
)

// notesFile is a contract this binary is not compiled with: it exists only
// as descriptors, which the backend in the test serves through reflection.
// It has a tool option, a protovalidate rule, comments (as source info), a
// well-known type, and a server stream with progress events.
func notesFile(t *testing.T) protoreflect.FileDescriptor {
	t.Helper()
	str := descriptorpb.FieldDescriptorProto_TYPE_STRING.Enum()
	msg := descriptorpb.FieldDescriptorProto_TYPE_MESSAGE.Enum()
	optional := descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum()
	field := func(name string, num int32, typ *descriptorpb.FieldDescriptorProto_Type, typeName string) *descriptorpb.FieldDescriptorProto {
		f := &descriptorpb.FieldDescriptorProto{Name: proto.String(name), JsonName: proto.String(name), Number: proto.Int32(num), Type: typ, Label: optional}
		if typeName != "" {
			f.TypeName = proto.String(typeName)
		}
		return f
	}
	text := field("text", 1, str, "")
	text.Options = &descriptorpb.FieldOptions{}
	proto.SetExtension(text.Options, validate.E_Field, &validate.FieldRules{
		Type: &validate.FieldRules_String_{String_: &validate.StringRules{MinLen: proto.Uint64(1)}},
	})
	addOpts := &descriptorpb.MethodOptions{}
	proto.SetExtension(addOpts, mcpv1.E_Tool, &mcpv1.ToolOptions{
		Name: "notes.add", Title: "Add note", DefaultTimeout: durationpb.New(5 * time.Second),
	})
	watchOpts := &descriptorpb.MethodOptions{}
	proto.SetExtension(watchOpts, mcpv1.E_Tool, &mcpv1.ToolOptions{
		StreamResult: &mcpv1.StreamResult{Mode: mcpv1.StreamResult_MODE_COLLECT},
	})
	oneof := proto.Int32(0)
	progress, note := field("progress", 1, msg, ".toolwire.mcp.v1.Progress"), field("note", 2, str, "")
	progress.OneofIndex, note.OneofIndex = oneof, oneof

	fdp := &descriptorpb.FileDescriptorProto{
		Name:    proto.String("reflected/notes/v1/notes.proto"),
		Package: proto.String("reflected.notes.v1"),
		Syntax:  proto.String("proto3"),
		Dependency: []string{
			"buf/validate/validate.proto", "google/protobuf/timestamp.proto",
			"toolwire/mcp/v1/events.proto", "toolwire/mcp/v1/options.proto",
		},
		MessageType: []*descriptorpb.DescriptorProto{
			{Name: proto.String("AddNoteRequest"), Field: []*descriptorpb.FieldDescriptorProto{
				text, field("priority", 2, descriptorpb.FieldDescriptorProto_TYPE_INT64.Enum(), ""),
			}},
			{Name: proto.String("AddNoteResponse"), Field: []*descriptorpb.FieldDescriptorProto{
				field("id", 1, str, ""), field("created_at", 2, msg, ".google.protobuf.Timestamp"),
				field("priority", 3, descriptorpb.FieldDescriptorProto_TYPE_INT64.Enum(), ""),
			}},
			{Name: proto.String("WatchNotesRequest"), Field: []*descriptorpb.FieldDescriptorProto{
				field("n", 1, descriptorpb.FieldDescriptorProto_TYPE_INT32.Enum(), ""),
			}},
			{
				Name:      proto.String("WatchNotesResponse"),
				Field:     []*descriptorpb.FieldDescriptorProto{progress, note},
				OneofDecl: []*descriptorpb.OneofDescriptorProto{{Name: proto.String("event")}},
			},
		},
		Service: []*descriptorpb.ServiceDescriptorProto{{
			Name: proto.String("NotesService"),
			Method: []*descriptorpb.MethodDescriptorProto{
				{Name: proto.String("AddNote"), InputType: proto.String(".reflected.notes.v1.AddNoteRequest"),
					OutputType: proto.String(".reflected.notes.v1.AddNoteResponse"), Options: addOpts},
				{Name: proto.String("WatchNotes"), InputType: proto.String(".reflected.notes.v1.WatchNotesRequest"),
					OutputType: proto.String(".reflected.notes.v1.WatchNotesResponse"), Options: watchOpts,
					ServerStreaming: proto.Bool(true)},
			},
		}},
		SourceCodeInfo: &descriptorpb.SourceCodeInfo{Location: []*descriptorpb.SourceCodeInfo_Location{
			{Path: []int32{6, 0, 2, 0}, Span: []int32{0, 0, 0}, LeadingComments: proto.String(" Adds a note.\n")},
			{Path: []int32{4, 0, 2, 0}, Span: []int32{0, 0, 0}, LeadingComments: proto.String(" The note's text.\n")},
		}},
	}
	fd, err := protodesc.NewFile(fdp, protoregistry.GlobalFiles)
	if err != nil {
		t.Fatalf("building the test contract: %v", err)
	}
	if _, err := protoregistry.GlobalFiles.FindFileByPath(fd.Path()); err == nil {
		t.Fatal("the test contract is compiled in")
	}
	return fd
}

// serviceList is what the reflection service lists.
type serviceList []string

func (l serviceList) GetServiceInfo() map[string]grpc.ServiceInfo {
	m := map[string]grpc.ServiceInfo{}
	for _, s := range l {
		m[s] = grpc.ServiceInfo{}
	}
	return m
}

// startNotesBackend serves the notes contract with dynamic messages, and
// reflection over a registry holding only that contract, on a free port.
// The reflection service lists extra services too, whose contracts it
// cannot give.
func startNotesBackend(t *testing.T, fd protoreflect.FileDescriptor, extra ...string) string {
	t.Helper()
	sd := fd.Services().Get(0)
	handler := func(_ any, stream grpc.ServerStream) error {
		full, _ := grpc.MethodFromServerStream(stream)
		md := sd.Methods().ByName(protoreflect.Name(path.Base(full)))
		if md == nil || !strings.HasPrefix(full, "/"+string(sd.FullName())+"/") {
			return status.Errorf(codes.Unimplemented, "no method %s", full)
		}
		req := dynamicpb.NewMessage(md.Input())
		if err := stream.RecvMsg(req); err != nil {
			return err
		}
		in, out := md.Input().Fields(), md.Output().Fields()
		switch md.Name() {
		case "AddNote":
			resp := dynamicpb.NewMessage(md.Output())
			resp.Set(out.ByName("id"), protoreflect.ValueOfString("note-"+req.Get(in.ByName("text")).String()))
			created := timestamppb.New(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
			resp.Set(out.ByName("created_at"), protoreflect.ValueOfMessage(created.ProtoReflect()))
			resp.Set(out.ByName("priority"), req.Get(in.ByName("priority")))
			return stream.SendMsg(resp)
		case "WatchNotes":
			n := req.Get(in.ByName("n")).Int()
			for i := range n {
				ev := dynamicpb.NewMessage(md.Output())
				ev.Set(out.ByName("progress"), protoreflect.ValueOfMessage((&mcpv1.Progress{Progress: float64(i + 1), Total: proto.Float64(float64(n))}).ProtoReflect()))
				if err := stream.SendMsg(ev); err != nil {
					return err
				}
				msg := dynamicpb.NewMessage(md.Output())
				msg.Set(out.ByName("note"), protoreflect.ValueOfString(strconv.Itoa(int(i+1))))
				if err := stream.SendMsg(msg); err != nil {
					return err
				}
			}
			return nil
		}
		return status.Errorf(codes.Unimplemented, "no method %s", full)
	}
	s := grpc.NewServer(grpc.UnknownServiceHandler(handler))
	files := new(protoregistry.Files)
	if err := files.RegisterFile(fd); err != nil {
		t.Fatal(err)
	}
	reflectiongrpc.RegisterServerReflectionServer(s, reflection.NewServerV1(reflection.ServerOptions{
		Services:           append(serviceList{string(sd.FullName()), "grpc.reflection.v1.ServerReflection"}, extra...),
		DescriptorResolver: files,
	}))
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.Serve(lis) }()
	t.Cleanup(s.Stop)
	return lis.Addr().String()
}

// syncBuffer is a log sink for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestServeFrontsReflectedContract runs Serve against a backend whose
// contract is not compiled in, as `toolwire serve --backend ADDR` does: the
// edge reads the contract through gRPC reflection and serves its tools over
// MCP, with dynamic messages end to end.
func TestServeFrontsReflectedContract(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	backend := startNotesBackend(t, notesFile(t))
	edgeAddr := freeAddr(t)
	var logs syncBuffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	served := make(chan error, 1)
	go func() { served <- Serve(ctx, Config{Addr: edgeAddr, Backends: []string{backend}, Logger: logger}) }()

	var cs *mcp.ClientSession
	var err error
	progress := make(chan float64, 10)
	c := mcp.NewClient(&mcp.Implementation{Name: "t", Version: "1"}, &mcp.ClientOptions{
		ProgressNotificationHandler: func(_ context.Context, req *mcp.ProgressNotificationClientRequest) {
			progress <- req.Params.Progress
		},
	})
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if cs, err = c.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: "http://" + edgeAddr + "/mcp"}, nil); err == nil {
			break
		}
		select {
		case err := <-served:
			t.Fatalf("Serve ended: %v\n%s", err, logs.String())
		default:
		}
	}
	if err != nil {
		t.Fatalf("edge never came up: %v\n%s", err, logs.String())
	}
	defer cs.Close()

	if !strings.Contains(logs.String(), `msg="serving services whose contracts came from gRPC reflection"`) ||
		!strings.Contains(logs.String(), "services=[reflected.notes.v1.NotesService]") {
		t.Errorf("no log of the reflected services:\n%s", logs.String())
	}

	tools, err := cs.ListTools(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]*mcp.Tool{}
	var names []string
	for _, tool := range tools.Tools {
		byName[tool.Name] = tool
		names = append(names, tool.Name)
	}
	if diff := cmp.Diff([]string{"notes.add", "watch_notes"}, names); diff != "" {
		t.Fatalf("tools (-want +got):\n%s", diff)
	}
	add := byName["notes.add"]
	if add.Title != "Add note" || add.Description != "Adds a note." {
		t.Errorf("notes.add: title %q, description %q; want the option's title and the RPC's comment", add.Title, add.Description)
	}
	// The option's name and title, the comment and the protovalidate rule
	// all came through reflection.
	checkSchema(t, "notes.add input", add.InputSchema, `{"type":"object","properties":{
		"text":{"type":"string","description":"The note's text.","minLength":1},
		"priority":{"type":["integer","string"],"pattern":"^-?[0-9]+$"}},"additionalProperties":false}`)
	checkSchema(t, "notes.add output", add.OutputSchema, `{"type":"object","properties":{
		"id":{"type":"string"},"created_at":{"type":"string","format":"date-time"},
		"priority":{"type":"string","pattern":"^-?[0-9]+$"}}}`)

	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "notes.add", Arguments: map[string]any{"text": "hi", "priority": 7}})
	if err != nil || res.IsError {
		t.Fatalf("notes.add: %v %+v", err, res)
	}
	if diff := cmp.Diff(map[string]any{"id": "note-hi", "created_at": "2026-01-02T03:04:05Z", "priority": "7"}, res.StructuredContent); diff != "" {
		t.Errorf("notes.add result (-want +got):\n%s", diff)
	}
	res, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: "notes.add", Arguments: map[string]any{"text": ""}})
	if err != nil || !res.IsError {
		t.Fatalf("notes.add with empty text: want isError from the schema's minLength, got %v %+v", err, res)
	}

	// A stream of dynamic messages: progress events become notifications,
	// the notes the result.
	watch := &mcp.CallToolParams{Name: "watch_notes", Arguments: map[string]any{"n": 2}}
	watch.SetProgressToken("watch")
	res, err = cs.CallTool(ctx, watch)
	if err != nil || res.IsError {
		t.Fatalf("watch_notes: %v %+v", err, res)
	}
	want := map[string]any{"items": []any{map[string]any{"note": "1"}, map[string]any{"note": "2"}}}
	if diff := cmp.Diff(want, res.StructuredContent); diff != "" {
		t.Errorf("watch_notes result (-want +got):\n%s", diff)
	}
	var got []float64
	for len(got) < 2 {
		select {
		case p := <-progress:
			got = append(got, p)
		case <-time.After(5 * time.Second):
			t.Fatalf("progress notifications: got %v, want 1 and 2", got)
		}
	}
	if diff := cmp.Diff([]float64{1, 2}, got); diff != "" {
		t.Errorf("progress (-want +got):\n%s", diff)
	}

	cancel()
	if err := <-served; err != nil {
		t.Errorf("Serve: %v", err)
	}
}

// checkSchema compares a schema with the JSON want, as values.
func checkSchema(t *testing.T, what string, got any, want string) {
	t.Helper()
	raw, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	var g, w any
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(w, g); diff != "" {
		t.Errorf("%s schema (-want +got):\n%s", what, diff)
	}
}

// TestReflectionSkipsUnreadableContracts checks that a service whose
// contract reflection cannot give is skipped with a warning, and that a
// backend left with no service is an error.
func TestReflectionSkipsUnreadableContracts(t *testing.T) {
	ctx := context.Background()
	addr := startNotesBackend(t, notesFile(t), "reflected.ghost.v1.GhostService")
	var logs syncBuffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	b, err := dialBackends(ctx, []string{addr}, insecure.NewCredentials(), 5*time.Second, logger)
	if err != nil {
		t.Fatal(err)
	}
	defer b.close()
	if diff := cmp.Diff([]string{"reflected.notes.v1.NotesService"}, slices.Sorted(maps.Keys(b.conns))); diff != "" {
		t.Errorf("services (-want +got):\n%s", diff)
	}
	if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "reflected.ghost.v1.GhostService") {
		t.Errorf("no warning about the ghost service:\n%s", logs.String())
	}
	cat, err := b.catalog()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := cat.Lookup("notes.add"); !ok {
		t.Error("no notes.add tool")
	}

	// A backend whose only service cannot be read fronts nothing.
	ghost := grpc.NewServer()
	reflectiongrpc.RegisterServerReflectionServer(ghost, reflection.NewServerV1(reflection.ServerOptions{
		Services: serviceList{"reflected.ghost.v1.GhostService"}, DescriptorResolver: new(protoregistry.Files),
	}))
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = ghost.Serve(lis) }()
	defer ghost.Stop()
	if b, err := dialBackends(ctx, []string{lis.Addr().String()}, insecure.NewCredentials(), 5*time.Second, logger); err == nil {
		b.close()
		t.Error("dialBackends fronts a backend with no readable contract")
	} else if !strings.Contains(err.Error(), "serves no known tool service") {
		t.Errorf("error = %v", err)
	}
}
