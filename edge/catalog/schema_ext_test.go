package catalog_test

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/santhosh-tekuri/jsonschema/v6"

	ctv1 "github.com/toolwire/toolwire/gen/go/toolwire/catalogtest/v1"
	mcpv1 "github.com/toolwire/toolwire/gen/go/toolwire/mcp/v1"
)

// fullKinds sets every field of AllKindsRequest, with extreme values where
// the JSON mapping has edges.
func fullKinds(t testing.TB, place func(*ctv1.AllKindsRequest)) *ctv1.AllKindsRequest {
	t.Helper()
	detail, err := anypb.New(&ctv1.Point{X: 1, Y: -1})
	if err != nil {
		t.Fatal(err)
	}
	attrs, err := structpb.NewStruct(map[string]any{"a": 1.5, "b": []any{"x", nil, true}, "c": map[string]any{}})
	if err != nil {
		t.Fatal(err)
	}
	list, err := structpb.NewList([]any{1, "two", nil})
	if err != nil {
		t.Fatal(err)
	}
	m := &ctv1.AllKindsRequest{
		Int32Field: math.MinInt32, Int64Field: math.MinInt64, Uint32Field: math.MaxUint32, Uint64Field: math.MaxUint64,
		Sint32Field: math.MaxInt32, Sint64Field: math.MaxInt64, Fixed32Field: 7, Fixed64Field: math.MaxUint64,
		Sfixed32Field: -7, Sfixed64Field: math.MinInt64, FloatField: 1.25, DoubleField: -1e300, BoolField: true,
		StringField: "héllo <&> \"quoted\"", BytesField: []byte{0, 1, 0xfe, 0xff}, Color: ctv1.Color_COLOR_BLUE,
		Point: &ctv1.Point{X: 1, Y: 2}, Tags: []string{"a", "b"}, Points: []*ctv1.Point{{X: 1}, {Y: 1}},
		Colors:     []ctv1.Color{ctv1.Color_COLOR_RED, ctv1.Color_COLOR_UNSPECIFIED},
		Counts:     map[string]int64{"a": math.MaxInt64, "": -1},
		PointsById: map[int32]*ctv1.Point{-3: {X: 3}, 4: {}},
		ColorsById: map[uint64]ctv1.Color{math.MaxUint64: ctv1.Color_COLOR_GREEN},
		Flags:      map[bool]string{true: "t", false: "f"},
		Nickname:   proto.String(""),
		Tree: &ctv1.Node{Name: "root", Children: []*ctv1.Node{
			{Name: "a", Children: []*ctv1.Node{{Name: "a1"}}},
			{Name: "b", Expr: &ctv1.Expr{Kind: &ctv1.Expr_Literal{Literal: 1}}},
		}},
		Expr: &ctv1.Expr{Kind: &ctv1.Expr_Binary{Binary: &ctv1.BinaryExpr{
			Op:    "+",
			Left:  &ctv1.Expr{Kind: &ctv1.Expr_Literal{Literal: 2}},
			Right: &ctv1.Expr{Kind: &ctv1.Expr_Binary{Binary: &ctv1.BinaryExpr{Op: "-"}}},
		}}},
		Inner:       &ctv1.AllKindsRequest_Inner{Text: "in"},
		CreatedAt:   timestamppb.New(time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)),
		Timeout:     durationpb.New(-1500 * time.Millisecond),
		Attributes:  attrs,
		AnyValue:    structpb.NewListValue(list),
		ListValue:   list,
		UpdateMask:  &fieldmaskpb.FieldMask{Paths: []string{"a.b_c", "d"}},
		Nothing:     &emptypb.Empty{},
		Detail:      detail,
		DoubleValue: wrapperspb.Double(0.5), FloatValue: wrapperspb.Float(0), Int64Value: wrapperspb.Int64(math.MinInt64),
		Uint64Value: wrapperspb.UInt64(math.MaxUint64), Int32Value: wrapperspb.Int32(-1), Uint32Value: wrapperspb.UInt32(1),
		BoolValue: wrapperspb.Bool(false), StringValue: wrapperspb.String(""), BytesValue: wrapperspb.Bytes([]byte("x")),
		Times:  []*timestamppb.Timestamp{timestamppb.New(time.Unix(0, 0)), timestamppb.New(time.Unix(1e9, 999))},
		Values: map[string]*structpb.Value{"n": structpb.NewNullValue(), "s": structpb.NewStringValue("v")},
	}
	if place != nil {
		place(m)
	}
	return m
}

var encode = protojson.MarshalOptions{UseProtoNames: true}

// TestSchemasMatchProtojson encodes full messages with protojson, as the
// edge does (UseProtoNames), and checks them against the generated schemas:
// requests against the input schema, results against the output schema. A schema that disagrees with the proto3 JSON
// mapping fails here.
func TestSchemasMatchProtojson(t *testing.T) {
	c := mustNew(t, kindsService(), echoService(), searchService())
	allKinds := mustLookup(t, c, "all_kinds")
	outputs := map[string]*jsonschema.Schema{}
	output := func(name string) *jsonschema.Schema {
		if s, ok := outputs[name]; ok {
			return s
		}
		s := compileDraft2020(t, mustLookup(t, c, name).OutputSchema)
		outputs[name] = s
		return s
	}

	places := map[string]func(*ctv1.AllKindsRequest){
		"place_name":   func(m *ctv1.AllKindsRequest) { m.Place = &ctv1.AllKindsRequest_PlaceName{PlaceName: "x"} },
		"place_number": func(m *ctv1.AllKindsRequest) { m.Place = &ctv1.AllKindsRequest_PlaceNumber{PlaceNumber: -1} },
		"place_point":  func(m *ctv1.AllKindsRequest) { m.Place = &ctv1.AllKindsRequest_PlacePoint{PlacePoint: &ctv1.Point{}} },
	}
	for name, place := range places {
		t.Run(name, func(t *testing.T) {
			req := fullKinds(t, place)
			b, err := encode.Marshal(req)
			if err != nil {
				t.Fatal(err)
			}
			if vs := allKinds.ValidateArgs(b); vs != nil {
				t.Errorf("input schema rejects protojson %s:\n%q", b, vs)
			}
			checkOutput(t, output("all_kinds"), &ctv1.AllKindsResponse{Kinds: req}, encode)
		})
	}

	t.Run("results", func(t *testing.T) {
		tree := fullKinds(t, nil).Tree
		for _, tc := range []struct {
			tool string
			msg  proto.Message
		}{
			{"tree.get", &ctv1.GetTreeResponse{Root: tree}},
			{"converse", &ctv1.ConverseResponse{Kind: &ctv1.ConverseResponse_Reply{Reply: "yes"}}},
			{"create_account", &ctv1.CreateAccountResponse{AccountId: "a", CreatedAt: timestamppb.Now()}},
		} {
			checkOutput(t, output(tc.tool), tc.msg, encode)
		}
		// Collected streams: the payload messages, in order, under "items".
		var items []json.RawMessage
		for _, m := range []*ctv1.WatchTreeResponse{
			{Event: &ctv1.WatchTreeResponse_Node{Node: tree}},
			{Event: &ctv1.WatchTreeResponse_Removed{Removed: "a"}},
		} {
			b, err := encode.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			items = append(items, b)
		}
		collected, err := json.Marshal(map[string]any{"items": items})
		if err != nil {
			t.Fatal(err)
		}
		validateJSON(t, output("watch_tree"), collected)
	})

	t.Run("non-finite floats", func(t *testing.T) {
		// protojson writes NaN and the infinities as strings.
		checkOutput(t, output("all_kinds"), &ctv1.AllKindsResponse{Kinds: &ctv1.AllKindsRequest{
			FloatField: float32(math.Inf(1)), DoubleField: math.NaN(), DoubleValue: wrapperspb.Double(math.Inf(-1)),
		}}, encode)
		if err := output("all_kinds").Validate(decode(t, `{"kinds":{"double_field":"1.5"}}`)); err == nil {
			t.Error(`output schema accepts "1.5" for a double`)
		}
	})

	t.Run("output rejects events and wrong shapes", func(t *testing.T) {
		progress, err := encode.Marshal(&ctv1.WatchTreeResponse{Event: &ctv1.WatchTreeResponse_Progress{Progress: &mcpv1.Progress{Progress: 1}}})
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct{ tool, doc string }{
			{"all_kinds", `{"kinds":{"int64_field":5}}`}, // 64-bit integers are strings in results
			{"watch_tree", `{"node":{}}`},                // collect: items are required
			{"watch_tree", `{"items":{}}`},
			{"tree.get", `{"root":{"children":[{"name":1}]}}`}, // through $defs
		} {
			if err := output(tc.tool).Validate(decode(t, tc.doc)); err == nil {
				t.Errorf("%s: output schema accepts %s", tc.tool, tc.doc)
			}
		}
		// An event in a collected stream is not payload; the edge drops it
		// before building the result, and the schema leaves it unstated.
		if !strings.Contains(string(progress), "progress") {
			t.Fatalf("progress encoded as %s", progress)
		}
		if strings.Contains(string(mustLookup(t, c, "watch_tree").OutputSchema), `"progress"`) {
			t.Error("watch_tree output schema mentions the progress event")
		}
		if strings.Contains(string(mustLookup(t, c, "stream").OutputSchema), `"progress"`) {
			t.Error("stream output schema mentions the progress event")
		}
	})
}

func checkOutput(t *testing.T, s *jsonschema.Schema, m proto.Message, opts protojson.MarshalOptions) {
	t.Helper()
	b, err := opts.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	validateJSON(t, s, b)
}

func validateJSON(t *testing.T, s *jsonschema.Schema, b []byte) {
	t.Helper()
	if err := s.Validate(decode(t, string(b))); err != nil {
		t.Errorf("output schema rejects %s:\n%v", b, err)
	}
}

func decode(t *testing.T, doc string) any {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(strings.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestProto2Required checks that proto2 required fields, without which
// protojson refuses a message, are required by the input schema, and that
// a wrapper field takes null unless it is required.
func TestProto2Required(t *testing.T) {
	opt := descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum()
	fdp := &descriptorpb.FileDescriptorProto{
		Name:       proto.String("test/proto2_required.proto"),
		Package:    proto.String("test.proto2"),
		Syntax:     proto.String("proto2"),
		Dependency: []string{"google/protobuf/wrappers.proto"},
		MessageType: []*descriptorpb.DescriptorProto{{
			Name: proto.String("LegacyRequest"),
			Field: []*descriptorpb.FieldDescriptorProto{
				{Name: proto.String("id"), JsonName: proto.String("id"), Number: proto.Int32(1),
					Type: descriptorpb.FieldDescriptorProto_TYPE_STRING.Enum(), Label: descriptorpb.FieldDescriptorProto_LABEL_REQUIRED.Enum()},
				{Name: proto.String("count"), JsonName: proto.String("count"), Number: proto.Int32(2),
					Type: descriptorpb.FieldDescriptorProto_TYPE_INT32.Enum(), Label: opt},
				{Name: proto.String("limit"), JsonName: proto.String("limit"), Number: proto.Int32(3),
					Type: descriptorpb.FieldDescriptorProto_TYPE_MESSAGE.Enum(), Label: opt, TypeName: proto.String(".google.protobuf.UInt32Value")},
			},
		}},
		Service: []*descriptorpb.ServiceDescriptorProto{{
			Name: proto.String("LegacyService"),
			Method: []*descriptorpb.MethodDescriptorProto{{
				Name: proto.String("Get"), InputType: proto.String(".test.proto2.LegacyRequest"), OutputType: proto.String(".test.proto2.LegacyRequest"),
			}},
		}},
	}
	fd, err := protodesc.NewFile(fdp, protoregistry.GlobalFiles)
	if err != nil {
		t.Fatal(err)
	}
	tool := mustLookup(t, mustNew(t, fd.Services().Get(0)), "get")
	want := `{"type":"object","properties":{"id":{"type":"string"},"count":{"type":"integer","minimum":-2147483648,"maximum":2147483647},` +
		`"limit":{"type":["integer","null"],"minimum":0,"maximum":4294967295}},"required":["id"],"additionalProperties":false}`
	if got := string(tool.InputSchema); got != want {
		t.Errorf("InputSchema = %s\nwant %s", got, want)
	}
	for args, valid := range map[string]bool{`{"id":"x","limit":null}`: true, `{"count":1}`: false} {
		req := dynamicpb.NewMessage(fd.Messages().Get(0))
		decoded := protojson.Unmarshal([]byte(args), req) == nil
		if accepted := tool.ValidateArgs(json.RawMessage(args)) == nil; accepted != valid || decoded != valid {
			t.Errorf("%s: schema accepts %v, protojson decodes %v, want %v", args, accepted, decoded, valid)
		}
	}
}
