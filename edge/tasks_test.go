package edge_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/toolwire/toolwire/edge"
	"github.com/toolwire/toolwire/edge/catalog"
	"github.com/toolwire/toolwire/edge/observe"
	mcpv1 "github.com/toolwire/toolwire/gen/go/toolwire/mcp/v1"
)

// The task backend is a service built by hand (no .proto of its own):
//
//	service TaskService {
//	  rpc Work(WorkRequest) returns (stream WorkResponse);  // task_support: OPTIONAL
//	  rpc Must(WorkRequest) returns (WorkResponse);         // task_support: REQUIRED
//	  rpc Ask(stream AskRequest) returns (stream AskResponse); // OPTIONAL, bidi
//	}
//	message WorkRequest { uint32 ms = 1; string mode = 2; }
//	message WorkResponse { oneof kind { toolwire.mcp.v1.Progress progress = 1; string text = 2; } }
//	message AskRequest { string plan = 1; toolwire.mcp.v1.InputResponses answers = 2; }
//	message AskResponse { oneof kind { toolwire.mcp.v1.InputRequests asks = 1;
//	  toolwire.mcp.v1.Progress progress = 2; string text = 3; } }
func taskFile(t testing.TB) protoreflect.FileDescriptor {
	t.Helper()
	msg := func(name string, oneof bool, fields ...*descriptorpb.FieldDescriptorProto) *descriptorpb.DescriptorProto {
		m := &descriptorpb.DescriptorProto{Name: proto.String(name), Field: fields}
		if oneof {
			m.OneofDecl = []*descriptorpb.OneofDescriptorProto{{Name: proto.String("kind")}}
			for _, f := range fields {
				f.OneofIndex = proto.Int32(0)
			}
		}
		return m
	}
	field := func(name string, num int32, typ descriptorpb.FieldDescriptorProto_Type, typeName string) *descriptorpb.FieldDescriptorProto {
		f := &descriptorpb.FieldDescriptorProto{
			Name: proto.String(name), Number: proto.Int32(num), Type: typ.Enum(),
			Label: descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum(), JsonName: proto.String(name),
		}
		if typeName != "" {
			f.TypeName = proto.String(typeName)
		}
		return f
	}
	const (
		str  = descriptorpb.FieldDescriptorProto_TYPE_STRING
		u32  = descriptorpb.FieldDescriptorProto_TYPE_UINT32
		msgT = descriptorpb.FieldDescriptorProto_TYPE_MESSAGE
	)
	method := func(name, in, out string, cs, ss bool, support mcpv1.TaskSupport) *descriptorpb.MethodDescriptorProto {
		opts := &descriptorpb.MethodOptions{}
		proto.SetExtension(opts, mcpv1.E_Tool, &mcpv1.ToolOptions{TaskSupport: support})
		return &descriptorpb.MethodDescriptorProto{
			Name: proto.String(name), InputType: proto.String(".tasktest.v1." + in), OutputType: proto.String(".tasktest.v1." + out),
			ClientStreaming: proto.Bool(cs), ServerStreaming: proto.Bool(ss), Options: opts,
		}
	}
	fdp := &descriptorpb.FileDescriptorProto{
		Name:       proto.String("tasktest/v1/tasks.proto"),
		Package:    proto.String("tasktest.v1"),
		Syntax:     proto.String("proto3"),
		Dependency: []string{"toolwire/mcp/v1/events.proto", "toolwire/mcp/v1/options.proto"},
		MessageType: []*descriptorpb.DescriptorProto{
			msg("WorkRequest", false, field("ms", 1, u32, ""), field("mode", 2, str, "")),
			msg("WorkResponse", true, field("progress", 1, msgT, ".toolwire.mcp.v1.Progress"), field("text", 2, str, "")),
			msg("AskRequest", false, field("plan", 1, str, ""), field("answers", 2, msgT, ".toolwire.mcp.v1.InputResponses")),
			msg("AskResponse", true, field("asks", 1, msgT, ".toolwire.mcp.v1.InputRequests"),
				field("progress", 2, msgT, ".toolwire.mcp.v1.Progress"), field("text", 3, str, "")),
		},
		Service: []*descriptorpb.ServiceDescriptorProto{{
			Name: proto.String("TaskService"),
			Method: []*descriptorpb.MethodDescriptorProto{
				method("Work", "WorkRequest", "WorkResponse", false, true, mcpv1.TaskSupport_TASK_SUPPORT_OPTIONAL),
				method("Must", "WorkRequest", "WorkResponse", false, false, mcpv1.TaskSupport_TASK_SUPPORT_REQUIRED),
				method("Ask", "AskRequest", "AskResponse", true, true, mcpv1.TaskSupport_TASK_SUPPORT_OPTIONAL),
			},
		}},
	}
	fd, err := protodesc.NewFile(fdp, protoregistry.GlobalFiles)
	if err != nil {
		t.Fatal(err)
	}
	return fd
}

// taskBackend implements TaskService with dynamic messages.
type taskBackend struct {
	fd protoreflect.FileDescriptor
	// started receives a value when a call that waits starts; ended when
	// its context ends.
	started, ended chan struct{}
	// release lets a "progress" Work call end.
	release chan struct{}
	calls   atomic.Int64
}

func (b *taskBackend) msg(name string) *dynamicpb.Message {
	return dynamicpb.NewMessage(b.fd.Messages().ByName(protoreflect.Name(name)))
}

func (b *taskBackend) set(m *dynamicpb.Message, field string, v protoreflect.Value) *dynamicpb.Message {
	m.Set(m.Descriptor().Fields().ByName(protoreflect.Name(field)), v)
	return m
}

func (b *taskBackend) setMsg(m *dynamicpb.Message, field string, v proto.Message) *dynamicpb.Message {
	fd := m.Descriptor().Fields().ByName(protoreflect.Name(field))
	target := m.NewField(fd).Message()
	raw, _ := proto.Marshal(v)
	if err := proto.Unmarshal(raw, target.Interface()); err != nil {
		panic(err)
	}
	m.Set(fd, protoreflect.ValueOfMessage(target))
	return m
}

func (b *taskBackend) get(m *dynamicpb.Message, field string) protoreflect.Value {
	return m.Get(m.Descriptor().Fields().ByName(protoreflect.Name(field)))
}

// work serves Work and Must: it waits ms (or, with mode "wait", until
// cancelled), then ends as mode says.
func (b *taskBackend) work(ctx context.Context, in *dynamicpb.Message, send func(proto.Message) error) (proto.Message, error) {
	b.calls.Add(1)
	mode := b.get(in, "mode").String()
	switch mode {
	case "wait":
		b.started <- struct{}{}
		<-ctx.Done()
		b.ended <- struct{}{}
		return nil, status.FromContextError(ctx.Err()).Err()
	case "progress":
		p := &mcpv1.Progress{Progress: 1, Message: "half way"}
		if err := send(b.setMsg(b.msg("WorkResponse"), "progress", p)); err != nil {
			return nil, err
		}
		select {
		case <-b.release:
		case <-ctx.Done():
			return nil, status.FromContextError(ctx.Err()).Err()
		}
	}
	select {
	case <-time.After(time.Duration(b.get(in, "ms").Uint()) * time.Millisecond):
	case <-ctx.Done():
		return nil, status.FromContextError(ctx.Err()).Err()
	}
	switch mode {
	case "tool_error":
		return nil, status.Error(codes.FailedPrecondition, "the job cannot run")
	case "internal":
		return nil, status.Error(codes.Internal, "boom")
	}
	return b.set(b.msg("WorkResponse"), "text", protoreflect.ValueOfString("worked "+mode)), nil
}

// ask serves Ask: each step of its comma-separated plan is "ask" (one
// elicitation, key "q"), "ask2" (two, keys "a" and "b"), or "progress";
// then it answers with the answers it got.
func (b *taskBackend) ask(stream grpc.ServerStream) error {
	b.calls.Add(1)
	in := b.msg("AskRequest")
	if err := stream.RecvMsg(in); err != nil {
		return err
	}
	var got []string
	for _, step := range strings.Split(b.get(in, "plan").String(), ",") {
		var keys []string
		switch step {
		case "ask":
			keys = []string{"q"}
		case "ask2":
			keys = []string{"a", "b"}
		case "progress":
			if err := stream.SendMsg(b.setMsg(b.msg("AskResponse"), "progress", &mcpv1.Progress{Progress: 1, Message: "thinking"})); err != nil {
				return err
			}
			continue
		default:
			continue
		}
		reqs := &mcpv1.InputRequests{Requests: map[string]*mcpv1.InputRequest{}}
		for _, k := range keys {
			schema, _ := structpb.NewStruct(map[string]any{"type": "object", "properties": map[string]any{"name": map[string]any{"type": "string"}}})
			reqs.Requests[k] = &mcpv1.InputRequest{Kind: &mcpv1.InputRequest_Elicit{Elicit: &mcpv1.ElicitRequest{Message: "name " + k, RequestedSchema: schema}}}
		}
		if err := stream.SendMsg(b.setMsg(b.msg("AskResponse"), "asks", reqs)); err != nil {
			return err
		}
		ans := b.msg("AskRequest")
		if err := stream.RecvMsg(ans); err != nil {
			return err
		}
		raw, _ := proto.Marshal(b.get(ans, "answers").Message().Interface())
		var resp mcpv1.InputResponses
		_ = proto.Unmarshal(raw, &resp)
		for _, k := range keys {
			got = append(got, k+"="+resp.GetResponses()[k].GetElicit().GetContent().GetFields()["name"].GetStringValue())
		}
	}
	return stream.SendMsg(b.set(b.msg("AskResponse"), "text", protoreflect.ValueOfString("answers: "+strings.Join(got, " "))))
}

func (b *taskBackend) serviceDesc() *grpc.ServiceDesc {
	return &grpc.ServiceDesc{
		ServiceName: "tasktest.v1.TaskService",
		HandlerType: (*any)(nil),
		Methods: []grpc.MethodDesc{{
			MethodName: "Must",
			Handler: func(_ any, ctx context.Context, dec func(any) error, _ grpc.UnaryServerInterceptor) (any, error) {
				in := b.msg("WorkRequest")
				if err := dec(in); err != nil {
					return nil, err
				}
				return b.work(ctx, in, func(proto.Message) error { return nil })
			},
		}},
		Streams: []grpc.StreamDesc{{
			StreamName:    "Work",
			ServerStreams: true,
			Handler: func(_ any, stream grpc.ServerStream) error {
				in := b.msg("WorkRequest")
				if err := stream.RecvMsg(in); err != nil {
					return err
				}
				out, err := b.work(stream.Context(), in, func(m proto.Message) error { return stream.SendMsg(m) })
				if err != nil {
					return err
				}
				return stream.SendMsg(out)
			},
		}, {
			StreamName:    "Ask",
			ServerStreams: true,
			ClientStreams: true,
			Handler:       func(_ any, stream grpc.ServerStream) error { return b.ask(stream) },
		}},
	}
}

type taskFixture struct {
	backend *taskBackend
	url     string
	// headers go on every request, before the request's own.
	headers []string
}

func newTaskFixture(t *testing.T, opts *edge.TaskOptions) *taskFixture {
	t.Helper()
	b, resolve, cat := startTaskBackend(t)
	return &taskFixture{backend: b, url: newTaskEdge(t, cat, resolve, &edge.Options{Tasks: opts})}
}

// startTaskBackend serves a taskBackend on an in-memory connection, and
// returns it, the resolver of its service, and its catalog.
func startTaskBackend(t *testing.T) (*taskBackend, func(protoreflect.FullName) (grpc.ClientConnInterface, bool), *catalog.Catalog) {
	t.Helper()
	fd := taskFile(t)
	b := &taskBackend{fd: fd, started: make(chan struct{}, 8), ended: make(chan struct{}, 8), release: make(chan struct{})}
	lis := bufconn.Listen(1 << 20)
	gs := grpc.NewServer()
	gs.RegisterService(b.serviceDesc(), struct{}{})
	go func() { _ = gs.Serve(lis) }()
	t.Cleanup(gs.Stop)
	conn, err := grpc.NewClient("passthrough:///bufconn",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	svc := fd.Services().Get(0)
	cat, err := catalog.New([]protoreflect.ServiceDescriptor{svc}, nil)
	if err != nil {
		t.Fatal(err)
	}
	resolve := func(name protoreflect.FullName) (grpc.ClientConnInterface, bool) {
		return conn, name == svc.FullName()
	}
	return b, resolve, cat
}

// newTaskEdge serves an edge of cat with opts (metrics and a quiet logger
// added), closed when the test ends, and returns its /mcp URL.
func newTaskEdge(t *testing.T, cat *catalog.Catalog, resolve func(protoreflect.FullName) (grpc.ClientConnInterface, bool), opts *edge.Options) string {
	t.Helper()
	o := *opts
	o.Metrics = observe.NewMetrics(nil)
	o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	e, err := edge.New(cat, resolve, &o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	srv := httptest.NewServer(e.Handler())
	t.Cleanup(srv.Close)
	return srv.URL + "/mcp"
}

// rpcReply is a JSON-RPC response, with the HTTP status it came with.
type rpcReply struct {
	HTTP   int
	Result map[string]any `json:"result"`
	Error  *struct {
		Code    int             `json:"code"`
		Message string          `json:"message"`
		Data    json.RawMessage `json:"data"`
	} `json:"error"`
}

var tasksExt = map[string]any{"extensions": map[string]any{"io.modelcontextprotocol/tasks": map[string]any{}}}

var rpcID atomic.Int64

// rpc sends a 2026-07-28 request as the conformance suite does, with caps
// as the client capabilities, and headers overriding the routing headers.
func (f *taskFixture) rpc(t *testing.T, method string, params map[string]any, caps map[string]any, headers ...string) rpcReply {
	t.Helper()
	if params == nil {
		params = map[string]any{}
	}
	if caps == nil {
		caps = map[string]any{}
	}
	params["_meta"] = map[string]any{
		"io.modelcontextprotocol/protocolVersion":    "2026-07-28",
		"io.modelcontextprotocol/clientCapabilities": caps,
		"io.modelcontextprotocol/clientInfo":         map[string]any{"name": "tasks-test", "version": "1"},
	}
	id := rpcID.Add(1)
	body, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": id, "method": method, "params": params})
	req, _ := http.NewRequest(http.MethodPost, f.url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("MCP-Protocol-Version", "2026-07-28")
	req.Header.Set("Mcp-Method", method)
	if name, ok := params["name"].(string); ok {
		req.Header.Set("Mcp-Name", name)
	}
	if id, ok := params["taskId"].(string); ok {
		req.Header.Set("Mcp-Name", id)
	}
	headers = append(slices.Clip(f.headers), headers...)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	msg := raw
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		msg = nil
		sc := bufio.NewScanner(bytes.NewReader(raw))
		for sc.Scan() {
			if d, ok := strings.CutPrefix(sc.Text(), "data:"); ok && strings.Contains(d, fmt.Sprintf(`"id":%d`, id)) {
				msg = []byte(d)
			}
		}
	}
	var r rpcReply
	if err := json.Unmarshal(msg, &r); err != nil {
		t.Fatalf("%s: response %d %q: %v", method, resp.StatusCode, raw, err)
	}
	r.HTTP = resp.StatusCode
	return r
}

// ok fails the test unless r is a result, and returns it.
func (r rpcReply) ok(t *testing.T) map[string]any {
	t.Helper()
	if r.Error != nil || r.Result == nil {
		t.Fatalf("want a result, got HTTP %d error %+v", r.HTTP, r.Error)
	}
	return r.Result
}

// code fails the test unless r is an error of code, and returns its data.
func (r rpcReply) code(t *testing.T, code, httpStatus int) json.RawMessage {
	t.Helper()
	if r.Error == nil {
		t.Fatalf("want error %d, got result %v", code, r.Result)
	}
	if r.Error.Code != code || r.HTTP != httpStatus {
		t.Fatalf("got error %d %q (HTTP %d), want %d (HTTP %d)", r.Error.Code, r.Error.Message, r.HTTP, code, httpStatus)
	}
	return r.Error.Data
}

func (f *taskFixture) call(t *testing.T, tool string, args map[string]any, caps map[string]any) map[string]any {
	t.Helper()
	return f.rpc(t, "tools/call", map[string]any{"name": tool, "arguments": args}, caps).ok(t)
}

// create calls tool as a task and returns the task id.
func (f *taskFixture) create(t *testing.T, tool string, args map[string]any) string {
	t.Helper()
	res := f.call(t, tool, args, tasksExt)
	checkCreated(t, res)
	return res["taskId"].(string)
}

func checkCreated(t *testing.T, res map[string]any) {
	t.Helper()
	if res["resultType"] != "task" {
		t.Fatalf("resultType = %v, want task: %v", res["resultType"], res)
	}
	for _, k := range []string{"taskId", "status", "createdAt", "lastUpdatedAt"} {
		if s, _ := res[k].(string); s == "" {
			t.Errorf("CreateTaskResult has no %s: %v", k, res)
		}
	}
	for _, k := range []string{"ttlMs", "pollIntervalMs"} {
		if n, ok := res[k].(float64); !ok || n <= 0 || n != float64(int64(n)) {
			t.Errorf("%s = %v, want a positive integer", k, res[k])
		}
	}
	for _, k := range []string{"task", "result", "error", "inputRequests", "requestState", "ttl", "pollInterval"} {
		if _, ok := res[k]; ok {
			t.Errorf("CreateTaskResult carries %s: %v", k, res)
		}
	}
}

func (f *taskFixture) get(t *testing.T, id string) map[string]any {
	t.Helper()
	res := f.rpc(t, "tasks/get", map[string]any{"taskId": id}, tasksExt).ok(t)
	if res["taskId"] != id || res["resultType"] != "complete" {
		t.Fatalf("tasks/get %s = %v", id, res)
	}
	return res
}

// await polls task id until until says yes.
func (f *taskFixture) await(t *testing.T, id string, until func(map[string]any) bool) map[string]any {
	t.Helper()
	deadline := time.Now().Add(waitBound)
	for {
		res := f.get(t, id)
		if until(res) {
			return res
		}
		if time.Now().After(deadline) {
			t.Fatalf("task %s: still %v", id, res)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func taskEnded(res map[string]any) bool {
	s := res["status"]
	return s == "completed" || s == "failed" || s == "cancelled"
}

func statusIs(s string) func(map[string]any) bool {
	return func(res map[string]any) bool { return res["status"] == s }
}

func TestTaskLifecycle(t *testing.T) {
	f := newTaskFixture(t, nil)
	caps := f.rpc(t, "server/discover", nil, nil).ok(t)["capabilities"].(map[string]any)
	if _, ok := caps["extensions"].(map[string]any)["io.modelcontextprotocol/tasks"]; !ok {
		t.Errorf("server/discover capabilities = %v, want the tasks extension", caps)
	}

	id := f.create(t, "work", map[string]any{"ms": 300})
	if got := f.get(t, id); got["status"] != "working" || got["result"] != nil {
		t.Errorf("running task = %v", got)
	}
	res := f.await(t, id, taskEnded)
	if res["status"] != "completed" {
		t.Fatalf("status = %v", res)
	}
	inlined, _ := res["result"].(map[string]any)
	content, _ := inlined["content"].([]any)
	if len(content) == 0 || !strings.Contains(fmt.Sprint(content[0]), "worked") || inlined["isError"] == true {
		t.Errorf("inlined result = %v", inlined)
	}
	if _, ok := res["error"]; ok {
		t.Errorf("completed task carries an error: %v", res)
	}
	// Cancelling an ended task is acknowledged, and changes nothing.
	ack := f.rpc(t, "tasks/cancel", map[string]any{"taskId": id}, tasksExt).ok(t)
	if ack["resultType"] != "complete" || ack["taskId"] != nil || ack["status"] != nil {
		t.Errorf("tasks/cancel ack = %v", ack)
	}
	if got := f.get(t, id); got["status"] != "completed" {
		t.Errorf("after cancel: %v", got)
	}

	// Without the extension the same tool answers synchronously.
	sync := f.call(t, "work", map[string]any{"ms": 0}, nil)
	if sync["resultType"] != "complete" || sync["taskId"] != nil || sync["content"] == nil {
		t.Errorf("synchronous call = %v", sync)
	}
}

func TestTaskCancelReachesBackend(t *testing.T) {
	f := newTaskFixture(t, nil)
	id := f.create(t, "work", map[string]any{"mode": "wait"})
	select {
	case <-f.backend.started:
	case <-time.After(waitBound):
		t.Fatal("the backend call did not start")
	}
	ack := f.rpc(t, "tasks/cancel", map[string]any{"taskId": id}, tasksExt).ok(t)
	if ack["resultType"] != "complete" || len(ack) > 2 {
		t.Errorf("tasks/cancel ack = %v", ack)
	}
	select {
	case <-f.backend.ended:
	case <-time.After(waitBound):
		t.Fatal("cancelling the task did not cancel the backend's call")
	}
	if res := f.await(t, id, taskEnded); res["status"] != "cancelled" || res["result"] != nil {
		t.Errorf("cancelled task = %v", res)
	}
}

func TestTaskOutcomes(t *testing.T) {
	f := newTaskFixture(t, nil)
	// A tool's failure is a completed task with an isError result.
	res := f.await(t, f.create(t, "work", map[string]any{"mode": "tool_error"}), taskEnded)
	if r, _ := res["result"].(map[string]any); res["status"] != "completed" || r["isError"] != true {
		t.Errorf("tool error: %v", res)
	}
	// A failure of the backend itself is a failed task with an error.
	res = f.await(t, f.create(t, "work", map[string]any{"mode": "internal"}), taskEnded)
	e, _ := res["error"].(map[string]any)
	if res["status"] != "failed" || res["result"] != nil || e["code"] == nil || e["message"] == nil {
		t.Errorf("backend failure: %v", res)
	}
	// Progress messages are the status message.
	id := f.create(t, "work", map[string]any{"mode": "progress"})
	f.await(t, id, func(r map[string]any) bool { return r["statusMessage"] == "half way" })
	close(f.backend.release)
	f.await(t, id, statusIs("completed"))
}

func TestTaskErrors(t *testing.T) {
	f := newTaskFixture(t, nil)
	f.rpc(t, "tasks/get", map[string]any{"taskId": "no-such-task"}, tasksExt).code(t, -32602, 400)
	for _, m := range []string{"tasks/get", "tasks/update", "tasks/cancel"} {
		data := f.rpc(t, m, map[string]any{"taskId": "gate", "inputResponses": map[string]any{}}, nil).code(t, -32021, 400)
		if !strings.Contains(string(data), `"io.modelcontextprotocol/tasks"`) {
			t.Errorf("%s -32021 data = %s", m, data)
		}
	}
	for _, m := range []string{"tasks/result", "tasks/list"} {
		f.rpc(t, m, map[string]any{"taskId": "x"}, tasksExt).code(t, -32601, 404)
	}
	// A tool that runs only as a task refuses a client without the extension.
	data := f.rpc(t, "tools/call", map[string]any{"name": "must", "arguments": map[string]any{}}, nil).code(t, -32021, 400)
	var d struct {
		RequiredCapabilities struct {
			Extensions map[string]any `json:"extensions"`
		} `json:"requiredCapabilities"`
	}
	if err := json.Unmarshal(data, &d); err != nil || d.RequiredCapabilities.Extensions["io.modelcontextprotocol/tasks"] == nil {
		t.Errorf("-32021 data = %s", data)
	}
	if f.backend.calls.Load() != 0 {
		t.Errorf("the backend was called %d times", f.backend.calls.Load())
	}
	// Mcp-Name must be the task id.
	id := f.create(t, "must", map[string]any{"ms": 0})
	f.rpc(t, "tasks/get", map[string]any{"taskId": id}, tasksExt, "Mcp-Name", "another").code(t, -32020, 400)
	f.rpc(t, "tasks/get", map[string]any{"taskId": id}, tasksExt, "Mcp-Name", " "+id+" ").ok(t)
	// The header must match the body's method.
	f.rpc(t, "tools/call", map[string]any{"name": "work", "arguments": map[string]any{}}, tasksExt, "Mcp-Method", "tasks/get").code(t, -32020, 400)
}

func TestTaskLimit(t *testing.T) {
	f := newTaskFixture(t, &edge.TaskOptions{MaxLive: 1})
	id := f.create(t, "work", map[string]any{"mode": "wait"})
	f.rpc(t, "tools/call", map[string]any{"name": "work", "arguments": map[string]any{}}, tasksExt).code(t, -32030, 200)
	// Cancelled only once the backend runs it: a call cancelled before it
	// reaches the backend never starts there, and never ends there either.
	select {
	case <-f.backend.started:
	case <-time.After(waitBound):
		t.Fatal("the backend call did not start")
	}
	f.rpc(t, "tasks/cancel", map[string]any{"taskId": id}, tasksExt).ok(t)
	f.await(t, id, taskEnded)
	select {
	case <-f.backend.ended:
	case <-time.After(waitBound):
		t.Fatal("the cancelled task's backend call did not end")
	}
	// The ended task no longer counts.
	f.await(t, f.create(t, "work", map[string]any{}), taskEnded)
}

func TestTaskBidiRoundTripThenTask(t *testing.T) {
	f := newTaskFixture(t, nil)
	caps := map[string]any{"elicitation": map[string]any{}, "extensions": tasksExt["extensions"]}
	args := map[string]any{"plan": "ask"}
	// The backend asks first: the request answers input_required, no task.
	first := f.call(t, "ask", args, caps)
	if first["resultType"] != "input_required" || first["taskId"] != nil || first["requestState"] == nil {
		t.Fatalf("first round = %v", first)
	}
	reqs, _ := first["inputRequests"].(map[string]any)
	if _, ok := reqs["q"]; !ok {
		t.Fatalf("inputRequests = %v", reqs)
	}
	// Answered, the call ends at once: a task that has already ended.
	second := f.rpc(t, "tools/call", map[string]any{
		"name": "ask", "arguments": args, "requestState": first["requestState"],
		"inputResponses": map[string]any{"q": map[string]any{"action": "accept", "content": map[string]any{"name": "Alice"}}},
	}, caps).ok(t)
	checkCreated(t, second)
	res := f.await(t, second["taskId"].(string), taskEnded)
	if res["status"] != "completed" || !strings.Contains(fmt.Sprint(res["result"]), "q=Alice") {
		t.Errorf("task = %v", res)
	}
}

func TestTaskInputRounds(t *testing.T) {
	f := newTaskFixture(t, nil)
	caps := map[string]any{"elicitation": map[string]any{}, "extensions": tasksExt["extensions"]}
	res := f.call(t, "ask", map[string]any{"plan": "progress,ask2"}, caps)
	checkCreated(t, res)
	id := res["taskId"].(string)
	got := f.await(t, id, statusIs("input_required"))
	reqs, _ := got["inputRequests"].(map[string]any)
	if len(reqs) != 2 || reqs["a"].(map[string]any)["method"] != "elicitation/create" {
		t.Fatalf("inputRequests = %v", got)
	}
	answer := func(key, name string) {
		ack := f.rpc(t, "tasks/update", map[string]any{"taskId": id, "inputResponses": map[string]any{
			key:       map[string]any{"action": "accept", "content": map[string]any{"name": name}},
			"unknown": map[string]any{"ignored": true},
		}}, tasksExt).ok(t)
		if ack["resultType"] != "complete" || ack["taskId"] != nil {
			t.Errorf("tasks/update ack = %v", ack)
		}
	}
	answer("a", "Ann")
	got = f.get(t, id)
	if reqs, _ := got["inputRequests"].(map[string]any); got["status"] != "input_required" || len(reqs) != 1 || reqs["b"] == nil {
		t.Fatalf("after a partial answer: %v", got)
	}
	answer("b", "Bob")
	res = f.await(t, id, taskEnded)
	if res["status"] != "completed" || !strings.Contains(fmt.Sprint(res["result"]), "a=Ann b=Bob") {
		t.Errorf("task = %v", res)
	}
	if _, ok := res["requestState"]; ok {
		t.Errorf("tasks/get carries requestState: %v", res)
	}
}
