package edge_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/toolwire/toolwire/edge"
	"github.com/toolwire/toolwire/edge/catalog"
	"github.com/toolwire/toolwire/edge/observe"
	mcpv1 "github.com/toolwire/toolwire/gen/go/toolwire/mcp/v1"
	"github.com/toolwire/toolwire/server"
	"github.com/toolwire/toolwire/server/servertest"
)

// askService is a test contract built by hand, since tests may not add
// protos:
//
//	service AskService {
//	  // Ask asks the client for input, as its topic says.
//	  rpc Ask(stream AskRequest) returns (stream AskResponse);
//	  // Show answers with content blocks only.
//	  rpc Show(ShowRequest) returns (ShowResponse);
//	  // Mix streams progress and content blocks, and a count.
//	  rpc Mix(ShowRequest) returns (stream MixResponse);
//	  // Needy needs the sampling capability.
//	  rpc Needy(ShowRequest) returns (ShowResponse) { option (toolwire.mcp.v1.tool).required_client_capabilities = "sampling"; }
//	}
//	message AskRequest { string topic = 1; toolwire.mcp.v1.InputResponses answers = 2; }
//	message AskResponse {
//	  oneof kind { toolwire.mcp.v1.Progress progress = 1; toolwire.mcp.v1.InputRequests asks = 2; }
//	  repeated toolwire.mcp.v1.Content content = 3;
//	  string summary = 4;
//	}
//	message ShowRequest { string text = 1; }
//	message ShowResponse { repeated toolwire.mcp.v1.Content content = 1; }
//	message MixResponse { oneof kind { toolwire.mcp.v1.Progress progress = 1; } repeated toolwire.mcp.v1.Content content = 2; int32 count = 3; }
func askService(t testing.TB) protoreflect.ServiceDescriptor {
	t.Helper()
	s := proto.String
	i := proto.Int32
	opt := descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum()
	rep := descriptorpb.FieldDescriptorProto_LABEL_REPEATED.Enum()
	str := descriptorpb.FieldDescriptorProto_TYPE_STRING.Enum()
	i32 := descriptorpb.FieldDescriptorProto_TYPE_INT32.Enum()
	msg := descriptorpb.FieldDescriptorProto_TYPE_MESSAGE.Enum()
	field := func(name string, num int32, label *descriptorpb.FieldDescriptorProto_Label, typ *descriptorpb.FieldDescriptorProto_Type, typeName string, oneof *int32) *descriptorpb.FieldDescriptorProto {
		f := &descriptorpb.FieldDescriptorProto{Name: s(name), JsonName: s(name), Number: i(num), Label: label, Type: typ, OneofIndex: oneof}
		if typeName != "" {
			f.TypeName = s(typeName)
		}
		return f
	}
	kind := []*descriptorpb.OneofDescriptorProto{{Name: s("kind")}}
	needy := &descriptorpb.MethodOptions{}
	proto.SetExtension(needy, mcpv1.E_Tool, &mcpv1.ToolOptions{RequiredClientCapabilities: []string{"sampling"}})
	fdp := &descriptorpb.FileDescriptorProto{
		Name:       s("toolwire/edgetest/ask.proto"),
		Package:    s("toolwire.edgetest.ask"),
		Syntax:     s("proto3"),
		Dependency: []string{mcpv1.File_toolwire_mcp_v1_events_proto.Path(), mcpv1.File_toolwire_mcp_v1_options_proto.Path()},
		MessageType: []*descriptorpb.DescriptorProto{
			{Name: s("AskRequest"), Field: []*descriptorpb.FieldDescriptorProto{
				field("topic", 1, opt, str, "", nil),
				field("answers", 2, opt, msg, ".toolwire.mcp.v1.InputResponses", nil),
			}},
			{Name: s("AskResponse"), OneofDecl: kind, Field: []*descriptorpb.FieldDescriptorProto{
				field("progress", 1, opt, msg, ".toolwire.mcp.v1.Progress", i(0)),
				field("asks", 2, opt, msg, ".toolwire.mcp.v1.InputRequests", i(0)),
				field("content", 3, rep, msg, ".toolwire.mcp.v1.Content", nil),
				field("summary", 4, opt, str, "", nil),
			}},
			{Name: s("ShowRequest"), Field: []*descriptorpb.FieldDescriptorProto{field("text", 1, opt, str, "", nil)}},
			{Name: s("ShowResponse"), Field: []*descriptorpb.FieldDescriptorProto{field("content", 1, rep, msg, ".toolwire.mcp.v1.Content", nil)}},
			{Name: s("MixResponse"), OneofDecl: kind, Field: []*descriptorpb.FieldDescriptorProto{
				field("progress", 1, opt, msg, ".toolwire.mcp.v1.Progress", i(0)),
				field("content", 2, rep, msg, ".toolwire.mcp.v1.Content", nil),
				field("count", 3, opt, i32, "", nil),
			}},
		},
		Service: []*descriptorpb.ServiceDescriptorProto{{Name: s("AskService"), Method: []*descriptorpb.MethodDescriptorProto{
			{Name: s("Ask"), InputType: s(".toolwire.edgetest.ask.AskRequest"), OutputType: s(".toolwire.edgetest.ask.AskResponse"), ClientStreaming: proto.Bool(true), ServerStreaming: proto.Bool(true)},
			{Name: s("Show"), InputType: s(".toolwire.edgetest.ask.ShowRequest"), OutputType: s(".toolwire.edgetest.ask.ShowResponse")},
			{Name: s("Mix"), InputType: s(".toolwire.edgetest.ask.ShowRequest"), OutputType: s(".toolwire.edgetest.ask.MixResponse"), ServerStreaming: proto.Bool(true)},
			{Name: s("Needy"), InputType: s(".toolwire.edgetest.ask.ShowRequest"), OutputType: s(".toolwire.edgetest.ask.ShowResponse"), Options: needy},
		}}},
		SourceCodeInfo: &descriptorpb.SourceCodeInfo{Location: []*descriptorpb.SourceCodeInfo_Location{
			{Path: []int32{6, 0, 2, 0}, Span: []int32{0, 0, 1}, LeadingComments: s(" Ask asks the client for input, as its topic says.\n")},
			{Path: []int32{6, 0, 2, 1}, Span: []int32{0, 0, 1}, LeadingComments: s(" Show answers with content blocks only.\n")},
			{Path: []int32{6, 0, 2, 2}, Span: []int32{0, 0, 1}, LeadingComments: s(" Mix streams progress, content blocks and a count.\n")},
			{Path: []int32{6, 0, 2, 3}, Span: []int32{0, 0, 1}, LeadingComments: s(" Needy needs the sampling capability.\n")},
		}},
	}
	fd, err := protodesc.NewFile(fdp, protoregistry.GlobalFiles)
	if err != nil {
		t.Fatal(err)
	}
	return fd.Services().Get(0)
}

// askBackend serves askService with dynamic messages.
type askBackend struct {
	sd protoreflect.ServiceDescriptor
	// opens counts Ask streams; ended receives one value when an Ask
	// stream's context ends before the handler finished.
	opens atomic.Int64
	ended chan struct{}

	mu   sync.Mutex
	caps []string // the capabilities metadata of the latest call
}

// askRounds are the input rounds of each Ask topic, as protojson
// InputRequests maps.
var askRounds = map[string][]string{
	"elicit": {`{"name":{"elicit":{"message":"Name?","requested_schema":{"type":"object","properties":{"name":{"type":"string"}},"required":["name"]}}}}`},
	"two": {
		`{"name":{"elicit":{"message":"Name?","requested_schema":{"type":"object","properties":{"name":{"type":"string"}}}}}}`,
		`{"color":{"elicit":{"message":"Color?","requested_schema":{"type":"object","properties":{"color":{"type":"string"}}}}}}`,
	},
	"sample": {`{"q":{"sampling":{"messages":[{"role":"ROLE_USER","content":{"text":"Capital of France?"}}],"max_tokens":10}}}`},
	"roots":  {`{"r":{"roots":{}}}`},
	"all": {`{"name":{"elicit":{"message":"Name?","requested_schema":{"type":"object","properties":{"name":{"type":"string"}}}}},` +
		`"q":{"sampling":{"messages":[{"role":"ROLE_USER","content":{"text":"Capital of France?"}}],"max_tokens":10}},"r":{"roots":{}}}`},
}

func (b *askBackend) message(name string) *dynamicpb.Message {
	return dynamicpb.NewMessage(b.sd.ParentFile().Messages().ByName(protoreflect.Name(name)))
}

func (b *askBackend) record(ctx context.Context) {
	var caps []string
	for _, c := range []string{"elicitation", "sampling", "roots", "tasks"} {
		if server.ClientCapability(ctx, c) {
			caps = append(caps, c)
		}
	}
	b.mu.Lock()
	b.caps = caps
	b.mu.Unlock()
}

func (b *askBackend) lastCaps() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.caps
}

func (b *askBackend) send(stream grpc.ServerStream, name, js string) error {
	m := b.message(name)
	if err := protojson.Unmarshal([]byte(js), m); err != nil {
		return err
	}
	return stream.SendMsg(m)
}

// ask asks the rounds of its topic, then answers with what it was told.
func (b *askBackend) ask(_ any, stream grpc.ServerStream) error {
	b.opens.Add(1)
	req := b.message("AskRequest")
	if err := stream.RecvMsg(req); err != nil {
		return err
	}
	b.record(stream.Context())
	topic := req.Get(req.Descriptor().Fields().ByName("topic")).String()
	if err := b.send(stream, "AskResponse", `{"progress":{"progress":1}}`); err != nil {
		return err
	}
	var told []string
	for _, round := range askRounds[topic] {
		if err := b.send(stream, "AskResponse", `{"asks":{"requests":`+round+`}}`); err != nil {
			return err
		}
		in := b.message("AskRequest")
		if err := stream.RecvMsg(in); err != nil {
			if stream.Context().Err() != nil {
				b.ended <- struct{}{}
			}
			return err
		}
		wire, _ := proto.Marshal(in.Get(in.Descriptor().Fields().ByName("answers")).Message().Interface())
		answers := &mcpv1.InputResponses{}
		if err := proto.Unmarshal(wire, answers); err != nil {
			return err
		}
		told = append(told, describe(answers))
	}
	text, _ := json.Marshal(strings.Join(told, "; "))
	return b.send(stream, "AskResponse", `{"content":[{"text":`+string(text)+`}],"summary":"`+topic+`"}`)
}

// describe says what the answers of a round were, by key.
func describe(r *mcpv1.InputResponses) string {
	var parts []string
	for key, resp := range r.GetResponses() {
		var v string
		switch k := resp.GetKind().(type) {
		case *mcpv1.InputResponse_Elicit:
			v = strings.TrimPrefix(k.Elicit.GetAction().String(), "ELICIT_ACTION_")
			for _, f := range []string{"name", "color"} {
				if s := k.Elicit.GetContent().GetFields()[f]; s != nil {
					v += " " + s.GetStringValue()
				}
			}
		case *mcpv1.InputResponse_Sampling:
			v = k.Sampling.GetModel() + " " + k.Sampling.GetContent().GetText()
		case *mcpv1.InputResponse_Roots:
			for _, r := range k.Roots.GetRoots() {
				v += r.GetUri() + " "
			}
			v = strings.TrimSpace(v)
		case *mcpv1.InputResponse_Error:
			v = fmt.Sprintf("error %d", k.Error.GetCode())
		}
		parts = append(parts, key+"="+v)
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

func (b *askBackend) show(_ any, ctx context.Context, dec func(any) error, _ grpc.UnaryServerInterceptor) (any, error) {
	req := b.message("ShowRequest")
	if err := dec(req); err != nil {
		return nil, err
	}
	b.record(ctx)
	text, _ := json.Marshal(req.Get(req.Descriptor().Fields().ByName("text")).String())
	out := b.message("ShowResponse")
	err := protojson.Unmarshal([]byte(`{"content":[{"text":`+string(text)+`},{"image":{"data":"AQID","mime_type":"image/png"}},`+
		`{"resource":{"uri":"test://r","mime_type":"text/plain","text":"embedded"}}]}`), out)
	return out, err
}

func (b *askBackend) mix(_ any, stream grpc.ServerStream) error {
	req := b.message("ShowRequest")
	if err := stream.RecvMsg(req); err != nil {
		return err
	}
	for _, js := range []string{`{"progress":{"progress":1,"total":2}}`, `{"content":[{"text":"a"}],"count":1}`,
		`{"progress":{"progress":2,"total":2}}`, `{"content":[{"text":"b"},{"audio":{"data":"AAA=","mime_type":"audio/wav"}}],"count":2}`} {
		if err := b.send(stream, "MixResponse", js); err != nil {
			return err
		}
	}
	return nil
}

// askFixture is askService behind an edge on an HTTP server.
type askFixture struct {
	backend *askBackend
	edge    *edge.Edge
	url     string // the /mcp URL
}

func newAskFixture(t *testing.T, opts edge.Options) *askFixture {
	t.Helper()
	sd := askService(t)
	b := &askBackend{sd: sd, ended: make(chan struct{}, 16)}
	s := server.New(&server.Options{
		Registerer: prometheus.NewRegistry(),
		Logger:     slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	s.GRPC().RegisterService(&grpc.ServiceDesc{
		ServiceName: string(sd.FullName()),
		HandlerType: (*any)(nil),
		Methods:     []grpc.MethodDesc{{MethodName: "Show", Handler: b.show}, {MethodName: "Needy", Handler: b.show}},
		Streams: []grpc.StreamDesc{
			{StreamName: "Ask", Handler: b.ask, ServerStreams: true, ClientStreams: true},
			{StreamName: "Mix", Handler: b.mix, ServerStreams: true},
		},
	}, b)
	conn := servertest.Dial(t, s)
	cat, err := catalog.New([]protoreflect.ServiceDescriptor{sd}, nil)
	if err != nil {
		t.Fatal(err)
	}
	opts.Metrics = observe.NewMetrics(nil)
	e, err := edge.New(cat, func(name protoreflect.FullName) (grpc.ClientConnInterface, bool) {
		return conn, name == sd.FullName()
	}, &opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(e.Handler())
	t.Cleanup(srv.Close)
	return &askFixture{backend: b, edge: e, url: srv.URL + "/mcp"}
}

// askClient is an MCP client that answers elicitation with a name (or a
// color), sampling with "Paris", and lists one root; caps picks which
// of them it declares.
func askClient(caps ...string) *mcp.Client {
	opts := &mcp.ClientOptions{Capabilities: &mcp.ClientCapabilities{}}
	if slices.Contains(caps, "elicitation") {
		opts.ElicitationHandler = func(_ context.Context, req *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
			if strings.HasPrefix(req.Params.Message, "Color") {
				return &mcp.ElicitResult{Action: "accept", Content: map[string]any{"color": "blue"}}, nil
			}
			return &mcp.ElicitResult{Action: "accept", Content: map[string]any{"name": "Alice"}}, nil
		}
	}
	if slices.Contains(caps, "sampling") {
		opts.CreateMessageHandler = func(context.Context, *mcp.CreateMessageRequest) (*mcp.CreateMessageResult, error) {
			return &mcp.CreateMessageResult{Role: "assistant", Model: "m", Content: &mcp.TextContent{Text: "Paris"}}, nil
		}
	}
	if slices.Contains(caps, "roots") {
		opts.Capabilities.RootsV2 = &mcp.RootCapabilities{}
	}
	c := mcp.NewClient(&mcp.Implementation{Name: "test", Version: "1"}, opts)
	c.AddRoots(&mcp.Root{URI: "file:///work", Name: "work"})
	return c
}

func resultText(t *testing.T, res *mcp.CallToolResult) string {
	t.Helper()
	if res.IsError || len(res.Content) != 1 {
		b, _ := json.Marshal(res)
		t.Fatalf("result %s; want one text block", b)
	}
	tc, ok := res.Content[0].(*mcp.TextContent)
	if !ok {
		t.Fatalf("content %T; want text", res.Content[0])
	}
	return tc.Text
}

// A bidi tool's questions reach the client as server-to-client requests on
// session revisions, and are answered on the same stream; a 2026-07-28
// client gets them as input_required results, which the go-sdk client
// fulfils and retries by itself. Either way the backend sees one answer per
// question, and only the capabilities the client declared.
func TestBidiToolAsksTheClient(t *testing.T) {
	for _, version := range []string{"2025-11-25", "2025-03-26", "2026-07-28"} {
		t.Run(version, func(t *testing.T) {
			f := newAskFixture(t, edge.Options{})
			cs := connect(t, askClient("elicitation", "sampling", "roots"), &mcp.StreamableClientTransport{Endpoint: f.url}, version)
			ctx := context.Background()
			for _, tc := range []struct{ topic, want string }{
				{"elicit", "name=ACCEPT Alice"},
				{"two", "name=ACCEPT Alice; color=ACCEPT blue"},
				{"all", "name=ACCEPT Alice, q=m Paris, r=file:///work"},
				{"none", ""},
			} {
				res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "ask", Arguments: map[string]any{"topic": tc.topic}})
				if err != nil {
					t.Fatalf("%s: %v", tc.topic, err)
				}
				if got := resultText(t, res); got != tc.want {
					t.Errorf("%s: text %q; want %q", tc.topic, got, tc.want)
				}
				if got, _ := json.Marshal(res.StructuredContent); string(got) != `{"summary":"`+tc.topic+`"}` {
					t.Errorf("%s: structuredContent %s", tc.topic, got)
				}
			}
			if got, want := f.backend.lastCaps(), []string{"elicitation", "sampling", "roots"}; !slices.Equal(got, want) {
				t.Errorf("backend saw capabilities %v; want %v", got, want)
			}
		})
	}
}

// A client that did not declare a capability is not asked: the backend
// gets an InputError for that question.
func TestBidiToolUndeclaredCapability(t *testing.T) {
	for _, version := range []string{"2025-11-25", "2026-07-28"} {
		t.Run(version, func(t *testing.T) {
			f := newAskFixture(t, edge.Options{})
			cs := connect(t, askClient("elicitation"), &mcp.StreamableClientTransport{Endpoint: f.url}, version)
			res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "ask", Arguments: map[string]any{"topic": "all"}})
			if err != nil {
				t.Fatal(err)
			}
			if got, want := resultText(t, res), "name=ACCEPT Alice, q=error -32021, r=error -32021"; got != want {
				t.Errorf("text %q; want %q", got, want)
			}
			if got, want := f.backend.lastCaps(), []string{"elicitation"}; !slices.Equal(got, want) {
				t.Errorf("backend saw capabilities %v; want %v", got, want)
			}
		})
	}
}

// The same over HTTP+SSE and stdio, whose sessions the edge opens itself.
func TestBidiToolOtherTransports(t *testing.T) {
	f := newAskFixture(t, edge.Options{})
	t.Run("sse", func(t *testing.T) {
		cs := connect(t, askClient("elicitation", "sampling", "roots"), &mcp.SSEClientTransport{Endpoint: strings.TrimSuffix(f.url, "/mcp") + "/sse"}, "2024-11-05")
		res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "ask", Arguments: map[string]any{"topic": "all"}})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := resultText(t, res), "name=ACCEPT Alice, q=m Paris, r=file:///work"; got != want {
			t.Errorf("text %q; want %q", got, want)
		}
	})
	t.Run("stdio", func(t *testing.T) {
		cs, _ := connectStdio(t, &fixture{edge: f.edge}, askClient("elicitation", "sampling", "roots"))
		res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "ask", Arguments: map[string]any{"topic": "two"}})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := resultText(t, res), "name=ACCEPT Alice; color=ACCEPT blue"; got != want {
			t.Errorf("text %q; want %q", got, want)
		}
	})
}

const askMeta = `"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{"elicitation":{},"sampling":{}},"io.modelcontextprotocol/clientInfo":{"name":"t","version":"1"}}`

func askCall(id int, topic, extra string) string {
	return fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"ask","arguments":{"topic":%q}%s,`+askMeta+`}}`, id, topic, extra)
}

func result(t *testing.T, r rpc) map[string]any {
	t.Helper()
	res, ok := r.msg["result"].(map[string]any)
	if !ok {
		t.Fatalf("HTTP %d, no result: %v", r.status, r.msg)
	}
	return res
}

// The multi-round-trip protocol on the wire: an input_required result
// with the questions and a sealed requestState, the retry with the answers,
// one round after another; each call opens the backend's stream afresh and
// cancels it once it needs input.
func TestBidiToolRoundTrips(t *testing.T) {
	f := newAskFixture(t, edge.Options{})
	hdr := hdr2026("ask")

	// Round 1: the question.
	r := doPost(t, f.url, hdr, askCall(1, "two", ""))
	res := result(t, r)
	if res["resultType"] != "input_required" {
		t.Fatalf("result %v; want input_required", res)
	}
	state1, _ := res["requestState"].(string)
	wantReqs := map[string]any{"name": map[string]any{"method": "elicitation/create", "params": map[string]any{
		"mode": "form", "message": "Name?",
		"requestedSchema": map[string]any{"type": "object", "properties": map[string]any{"name": map[string]any{"type": "string"}}},
	}}}
	if diff := cmp.Diff(wantReqs, res["inputRequests"]); diff != "" || state1 == "" {
		t.Fatalf("inputRequests (-want +got):\n%s\nrequestState %q", diff, state1)
	}
	select {
	case <-f.backend.ended:
	case <-time.After(waitBound):
		t.Fatal("the backend's stream was not cancelled after input_required")
	}

	// Round 2: the first answer, and the next question, with a new state.
	answer := func(key, field, value string) string {
		return fmt.Sprintf(`,"inputResponses":{%q:{"action":"accept","content":{%q:%q}}}`, key, field, value)
	}
	r = doPost(t, f.url, hdr, askCall(2, "two", answer("name", "name", "Alice")+`,"requestState":"`+state1+`"`))
	res = result(t, r)
	state2, _ := res["requestState"].(string)
	if res["resultType"] != "input_required" || state2 == "" || state2 == state1 {
		t.Fatalf("round 2 result %v; want input_required with a new state", res)
	}
	if _, ok := res["inputRequests"].(map[string]any)["color"]; !ok {
		t.Fatalf("round 2 asks %v; want color", res["inputRequests"])
	}

	// Round 3: complete, from the state and the last answer.
	r = doPost(t, f.url, hdr, askCall(3, "two", answer("color", "color", "blue")+`,"requestState":"`+state2+`"`))
	res = result(t, r)
	if res["resultType"] != "complete" {
		t.Fatalf("round 3 result %v; want complete", res)
	}
	if got := res["content"].([]any)[0].(map[string]any)["text"]; got != "name=ACCEPT Alice; color=ACCEPT blue" {
		t.Errorf("text %q", got)
	}
	if got, want := f.backend.opens.Load(), int64(3); got != want {
		t.Errorf("backend streams opened %d; want %d", got, want)
	}

	// A retry without the state answers round 1 from its inputResponses,
	// ignoring keys it does not know; a missing answer is asked again.
	r = doPost(t, f.url, hdr, askCall(4, "elicit", `,"inputResponses":{"name":{"action":"accept","content":{"name":"Bob"}},"extra":{"action":"decline"}}`))
	if res = result(t, r); res["resultType"] != "complete" {
		t.Errorf("answered without state: %v; want complete", res)
	}
	r = doPost(t, f.url, hdr, askCall(5, "elicit", `,"inputResponses":{"wrong_key":{"action":"accept","content":{"x":"y"}}}`))
	if res = result(t, r); res["resultType"] != "input_required" {
		t.Errorf("wrong key: %v; want input_required", res)
	}

	// A state that fails verification is refused with -32602 and HTTP 400.
	for name, body := range map[string]string{
		"tampered":        askCall(6, "two", answer("color", "color", "blue")+`,"requestState":"`+state2+`-TAMPERED"`),
		"other arguments": askCall(7, "elicit", answer("color", "color", "blue")+`,"requestState":"`+state2+`"`),
	} {
		r = doPost(t, f.url, hdr, body)
		e, _ := r.msg["error"].(map[string]any)
		if r.status != http.StatusBadRequest || e["code"] != float64(-32602) || e["message"] != "invalid requestState" {
			t.Errorf("%s state: HTTP %d %v; want 400 and -32602 invalid requestState", name, r.status, r.msg)
		}
	}
}

// A tool that needs a capability refuses a client without it before
// calling the backend: -32021 naming it, HTTP 400 on 2026-07-28.
func TestRequiredClientCapabilities(t *testing.T) {
	f := newAskFixture(t, edge.Options{})
	call := func(caps string) string {
		return `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"needy","arguments":{"text":"x"},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":` + caps + `}}}`
	}
	r := doPost(t, f.url, hdr2026("needy"), call(`{"elicitation":{}}`))
	e, _ := r.msg["error"].(map[string]any)
	if r.status != http.StatusBadRequest || e["code"] != float64(-32021) {
		t.Fatalf("HTTP %d %v; want 400 and -32021", r.status, r.msg)
	}
	if diff := cmp.Diff(map[string]any{"requiredCapabilities": map[string]any{"sampling": map[string]any{}}}, e["data"]); diff != "" {
		t.Errorf("data (-want +got):\n%s", diff)
	}
	r = doPost(t, f.url, hdr2026("needy"), call(`{"sampling":{}}`))
	if res := result(t, r); res["isError"] == true {
		t.Errorf("declared: %v", res)
	}

	// On a session, against the session's capabilities.
	cs := connect(t, askClient("elicitation"), &mcp.StreamableClientTransport{Endpoint: f.url}, "2025-11-25")
	_, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "needy", Arguments: map[string]any{"text": "x"}})
	if err == nil || !strings.Contains(err.Error(), "sampling") {
		t.Errorf("session without sampling: %v; want a -32021 error", err)
	}
	cs = connect(t, askClient("sampling"), &mcp.StreamableClientTransport{Endpoint: f.url}, "2025-11-25")
	if _, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "needy", Arguments: map[string]any{"text": "x"}}); err != nil {
		t.Errorf("session with sampling: %v", err)
	}
}

// Content blocks become the result's content; structuredContent and an
// output schema only when the response has other payload fields. The fast
// path and the SDK answer alike.
func TestContentTools(t *testing.T) {
	fast := newAskFixture(t, edge.Options{})
	sdk := newAskFixture(t, edge.Options{SDKOnly: true})
	cs := connect(t, askClient(), &mcp.StreamableClientTransport{Endpoint: fast.url}, "2025-11-25")
	tools, err := cs.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tool := range tools.Tools {
		if (tool.OutputSchema != nil) != (tool.Name == "mix" || tool.Name == "ask") {
			t.Errorf("%s: outputSchema %v", tool.Name, tool.OutputSchema)
		}
	}

	wantShow := []any{
		map[string]any{"type": "text", "text": "hi"},
		map[string]any{"type": "image", "data": "AQID", "mimeType": "image/png"},
		map[string]any{"type": "resource", "resource": map[string]any{"uri": "test://r", "mimeType": "text/plain", "text": "embedded"}},
	}
	wantMix := []any{
		map[string]any{"type": "text", "text": "a"},
		map[string]any{"type": "text", "text": "b"},
		map[string]any{"type": "audio", "data": "AAA=", "mimeType": "audio/wav"},
	}
	for _, tc := range []struct {
		name, tool, args string
		content          []any
		structured       any
	}{
		{"unary", "show", `{"text":"hi"}`, wantShow, nil},
		{"stream", "mix", `{}`, wantMix, map[string]any{"count": float64(2)}},
	} {
		for _, era := range []string{"session", "sessionless"} {
			t.Run(tc.name+"/"+era, func(t *testing.T) {
				var got [2]rpc
				for i, f := range []*askFixture{fast, sdk} {
					body := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"` + tc.tool + `","arguments":` + tc.args + `}}`
					hdr := map[string]string{"Mcp-Session-Id": openSession(t, f.url), "Mcp-Protocol-Version": "2025-11-25"}
					if era == "sessionless" {
						body = `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"` + tc.tool + `","arguments":` + tc.args + `,` + meta2026 + `}}`
						hdr = hdr2026(tc.tool)
					}
					before := f.edge.FastServed()
					got[i] = doPost(t, f.url, hdr, body)
					if i == 0 && f.edge.FastServed() == before {
						t.Errorf("the fast path did not answer")
					}
				}
				res := result(t, got[0])
				if diff := cmp.Diff(tc.content, res["content"]); diff != "" {
					t.Errorf("content (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff(tc.structured, res["structuredContent"]); diff != "" {
					t.Errorf("structuredContent (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff(got[1].msg, got[0].msg); diff != "" {
					t.Errorf("fast path differs from the SDK (-sdk +fast):\n%s", diff)
				}
			})
		}
	}
}

// Every call tells the backend what its client declared, whichever path
// serves it: a session's capabilities from its initialize (kept by the
// edge, or the SDK's session), a 2026-07-28 request's from its _meta.
func TestClientCapabilitiesReachBackend(t *testing.T) {
	for _, sdkOnly := range []bool{false, true} {
		t.Run(fmt.Sprintf("sdkOnly=%v", sdkOnly), func(t *testing.T) {
			f := newAskFixture(t, edge.Options{SDKOnly: sdkOnly})
			ctx := context.Background()
			cs := connect(t, askClient("elicitation", "roots"), &mcp.StreamableClientTransport{Endpoint: f.url}, "2025-11-25")
			show := func() {
				t.Helper()
				if _, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "show", Arguments: map[string]any{"text": "x"}}); err != nil {
					t.Fatal(err)
				}
				if got, want := f.backend.lastCaps(), []string{"elicitation", "roots"}; !slices.Equal(got, want) {
					t.Errorf("backend saw capabilities %v; want %v", got, want)
				}
			}
			before := f.edge.FastServed()
			show() // before the session has an SDK session
			if served := f.edge.FastServed() > before; served == sdkOnly {
				t.Errorf("fast path served: %v", served)
			}
			if _, err := cs.ListTools(ctx, nil); err != nil { // opens it
				t.Fatal(err)
			}
			show()

			body := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"show","arguments":{"text":"x"},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28",` +
				`"io.modelcontextprotocol/clientCapabilities":{"sampling":{},"extensions":{"io.modelcontextprotocol/tasks":{}}}}}}`
			result(t, doPost(t, f.url, hdr2026("show"), body))
			if got, want := f.backend.lastCaps(), []string{"sampling", "tasks"}; !slices.Equal(got, want) {
				t.Errorf("sessionless: backend saw capabilities %v; want %v", got, want)
			}
			result(t, doPost(t, f.url, hdr2026("show"), strings.Replace(body, `"sampling":{},"extensions":{"io.modelcontextprotocol/tasks":{}}`, "", 1)))
			if got := f.backend.lastCaps(); got != nil {
				t.Errorf("sessionless, none declared: backend saw capabilities %v", got)
			}
		})
	}
}
