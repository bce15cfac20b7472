package bridge

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"

	echov1 "github.com/toolwire/toolwire/gen/go/examples/echo/v1"
	ctv1 "github.com/toolwire/toolwire/gen/go/toolwire/catalogtest/v1"
)

// flatDescriptor is a message with a field of every kind the flat codec
// handles, with and without presence, and a JSON name that differs.
func flatDescriptor(t testing.TB) protoreflect.MessageDescriptor {
	t.Helper()
	type F = descriptorpb.FieldDescriptorProto
	field := func(name string, num int32, typ descriptorpb.FieldDescriptorProto_Type, optional bool) *F {
		f := &F{Name: proto.String(name), Number: proto.Int32(num), Type: typ.Enum(),
			Label: descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum()}
		if typ == descriptorpb.FieldDescriptorProto_TYPE_ENUM {
			f.TypeName = proto.String(".flattest.Color")
		}
		if optional {
			f.Proto3Optional = proto.Bool(true)
		}
		return f
	}
	T := func(s string) descriptorpb.FieldDescriptorProto_Type {
		return descriptorpb.FieldDescriptorProto_Type(descriptorpb.FieldDescriptorProto_Type_value["TYPE_"+s])
	}
	fields := []*F{
		field("s", 1, T("STRING"), false), field("b", 2, T("BOOL"), false),
		field("i32", 3, T("INT32"), false), field("s32", 4, T("SINT32"), false), field("sf32", 5, T("SFIXED32"), false),
		field("u32", 6, T("UINT32"), false), field("f32", 7, T("FIXED32"), false),
		field("i64", 8, T("INT64"), false), field("s64", 9, T("SINT64"), false), field("sf64", 10, T("SFIXED64"), false),
		field("u64", 11, T("UINT64"), false), field("f64", 12, T("FIXED64"), false),
		field("color", 13, T("ENUM"), false),
		field("opt_s", 14, T("STRING"), true), field("opt_i32", 15, T("INT32"), true), field("opt_color", 16, T("ENUM"), true),
		field("camel_case_name", 17, T("STRING"), false),
		// Declared out of number order: protojson writes declaration order.
		field("late", 3000, T("UINT64"), false), field("early", 18, T("SINT64"), false),
	}
	var oneofs []*descriptorpb.OneofDescriptorProto
	for _, f := range fields {
		if f.GetProto3Optional() {
			f.OneofIndex = proto.Int32(int32(len(oneofs)))
			oneofs = append(oneofs, &descriptorpb.OneofDescriptorProto{Name: proto.String("_" + f.GetName())})
		}
	}
	fdp := &descriptorpb.FileDescriptorProto{
		Name: proto.String("flattest/flat.proto"), Package: proto.String("flattest"), Syntax: proto.String("proto3"),
		EnumType: []*descriptorpb.EnumDescriptorProto{{
			Name: proto.String("Color"),
			Value: []*descriptorpb.EnumValueDescriptorProto{
				{Name: proto.String("COLOR_UNSPECIFIED"), Number: proto.Int32(0)},
				{Name: proto.String("COLOR_RED"), Number: proto.Int32(1)},
				{Name: proto.String("COLOR_NEGATIVE"), Number: proto.Int32(-7)},
				{Name: proto.String("COLOR_SCARLET"), Number: proto.Int32(1)}, // alias
			},
			Options: &descriptorpb.EnumOptions{AllowAlias: proto.Bool(true)},
		}},
		MessageType: []*descriptorpb.DescriptorProto{{Name: proto.String("Flat"), Field: fields, OneofDecl: oneofs}},
	}
	fd, err := protodesc.NewFile(fdp, nil)
	if err != nil {
		t.Fatal(err)
	}
	return fd.Messages().Get(0)
}

var testStrings = []string{
	"", "hello, world", "héllo 😀", "quote \" backslash \\ slash /", "ctl \x00\x01\x08\x09\x0a\x0b\x0c\x0d\x1f\x7f",
	"<&> \u2028\u2029", "\ufffd\ufffe\uffff", strings.Repeat("long ", 200), "日本語",
}

// randomFlat sets random values, extremes included, on some fields of m.
func randomFlat(r *rand.Rand, m protoreflect.Message) {
	fields := m.Descriptor().Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		if r.IntN(3) == 0 {
			continue
		}
		var v protoreflect.Value
		pick := func(xs ...int64) int64 {
			if r.IntN(2) == 0 {
				return xs[r.IntN(len(xs))]
			}
			return r.Int64N(2001) - 1000
		}
		switch fd.Kind() {
		case protoreflect.StringKind:
			v = protoreflect.ValueOfString(testStrings[r.IntN(len(testStrings))])
		case protoreflect.BoolKind:
			v = protoreflect.ValueOfBool(r.IntN(2) == 0)
		case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
			v = protoreflect.ValueOfInt32(int32(pick(0, -1, 1, math.MinInt32, math.MaxInt32)))
		case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
			v = protoreflect.ValueOfUint32(uint32(pick(0, 1, math.MaxUint32, math.MaxInt32+1)))
		case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
			v = protoreflect.ValueOfInt64(pick(0, -1, math.MinInt64, math.MaxInt64, 1<<53+1))
		case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
			v = protoreflect.ValueOfUint64([]uint64{0, 1, math.MaxUint64, 1 << 63, r.Uint64()}[r.IntN(5)])
		case protoreflect.EnumKind:
			v = protoreflect.ValueOfEnum(protoreflect.EnumNumber([]int32{0, 1, -7, 5, math.MaxInt32}[r.IntN(5)]))
		default:
			continue
		}
		m.Set(fd, v)
	}
}

// tokens is a JSON document as its token stream: keys in order, numbers as
// written.
func tokens(t *testing.T, b []byte) []any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var out []any
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("invalid JSON %s: %v", b, err)
		}
		out = append(out, tok)
	}
}

var refMarshal = protojson.MarshalOptions{UseProtoNames: true}

// checkEncode fails when the codec's JSON differs from protojson's.
func checkEncode(t *testing.T, c *flatCodec, m proto.Message) (ok bool) {
	t.Helper()
	got, ok := c.encode(m)
	want, err := refMarshal.Marshal(m)
	if !ok {
		return false
	}
	if err != nil {
		t.Fatalf("the codec encodes %v, which protojson refuses: %v", m, err)
	}
	if diff := cmp.Diff(tokens(t, want), tokens(t, got)); diff != "" {
		t.Fatalf("codec JSON %s differs from protojson's %s (-protojson +codec):\n%s", got, want, diff)
	}
	return true
}

// checkDecode fails when the codec decodes JSON that protojson refuses, or
// decodes it differently.
func checkDecode(t *testing.T, c *flatCodec, newMsg func() proto.Message, js []byte) (ok bool) {
	t.Helper()
	got := newMsg()
	if !c.decode(js, got) {
		return false
	}
	want := newMsg()
	if err := unmarshalOpts.Unmarshal(js, want); err != nil {
		t.Fatalf("the codec decodes %q, which protojson refuses: %v", js, err)
	}
	if !proto.Equal(got, want) {
		t.Fatalf("the codec decodes %q as %v, protojson as %v", js, got, want)
	}
	return true
}

// variants rewrites protojson output into other forms protojson reads: 64-bit
// integers as numbers, 32-bit ones as strings, JSON names, escapes, spaces.
func variants(js []byte) [][]byte {
	s := string(js)
	out := [][]byte{js}
	out = append(out, []byte(strings.NewReplacer(`":"`, `": "`, `,`, " ,\n\t", `{`, "{ ", `}`, "\r}").Replace(s)))
	out = append(out, []byte(strings.ReplaceAll(s, `"camel_case_name"`, `"camelCaseName"`)))
	out = append(out, []byte(strings.ReplaceAll(s, `"opt_s"`, `"optS"`)))
	// Unquote numbers in strings: "123" → 123 (strings become numbers too,
	// which protojson refuses for string fields: both paths must agree).
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '"' {
			j := i + 1
			for j < len(s) && (s[j] == '-' || '0' <= s[j] && s[j] <= '9') {
				j++
			}
			if j > i+1 && j < len(s) && s[j] == '"' {
				b.WriteString(s[i+1 : j])
				i = j
				continue
			}
		}
		b.WriteByte(s[i])
	}
	out = append(out, []byte(b.String()))
	// Quote bare numbers: 12 → "12".
	b.Reset()
	for i := 0; i < len(s); i++ {
		if s[i] == ':' && i+1 < len(s) && (s[i+1] == '-' || '0' <= s[i+1] && s[i+1] <= '9') {
			j := i + 1
			for j < len(s) && (s[j] == '-' || '0' <= s[j] && s[j] <= '9') {
				j++
			}
			b.WriteString(`:"` + s[i+1:j] + `"`)
			i = j - 1
			continue
		}
		b.WriteByte(s[i])
	}
	out = append(out, []byte(b.String()))
	// Escape what needs no escaping.
	out = append(out, []byte(strings.NewReplacer("o", `\u006f`, "é", `\u00e9`, "😀", `\ud83d\ude00`, "/", `\/`).Replace(s)))
	return out
}

func TestFlatCodecMatchesProtojson(t *testing.T) {
	md := flatDescriptor(t)
	c := newFlatCodec(md)
	if c == nil {
		t.Fatal("the test message is not flat")
	}
	newMsg := func() proto.Message { return dynamicpb.NewMessage(md) }
	r := rand.New(rand.NewPCG(3, 4))
	encoded, decoded := 0, 0
	for range 3000 {
		m := dynamicpb.NewMessage(md)
		randomFlat(r, m)
		if checkEncode(t, c, m) {
			encoded++
		}
		js, err := refMarshal.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range variants(js) {
			if checkDecode(t, c, newMsg, v) {
				decoded++
			}
		}
	}
	// The fast path must be the common path, not a rare one.
	if encoded < 2900 {
		t.Errorf("the codec encoded %d of 3000 messages", encoded)
	}
	if decoded < 3000 {
		t.Errorf("the codec decoded %d of 21000 inputs", decoded)
	}
}

// TestFlatCodecGenerated runs the codec on generated messages.
func TestFlatCodecGenerated(t *testing.T) {
	for _, tc := range []struct {
		msg  proto.Message
		args []string
	}{
		{&echov1.EchoRequest{Text: "hello, world"}, []string{`{"text":"hi"}`, `{}`, `{"text":"a\nb\u00e9\ud83d\ude00"}`, `{"text":""}`}},
		{&echov1.EchoResponse{Text: "x\"y"}, nil},
		{&echov1.StreamRequest{N: 100, IntervalMs: 7}, []string{`{"n":100,"interval_ms":0}`, `{"n":"5","intervalMs":3}`}},
		{&echov1.SleepRequest{Ms: 4294967295}, []string{`{"ms":4294967295}`}},
		{&ctv1.Point{X: -1, Y: math.MaxInt32}, []string{`{"x":-2147483648,"y":"7"}`}},
	} {
		md := tc.msg.ProtoReflect().Descriptor()
		c := newFlatCodec(md)
		if c == nil {
			t.Fatalf("%s is not flat", md.FullName())
		}
		if !checkEncode(t, c, tc.msg) {
			t.Errorf("%s: the codec leaves %v to protojson", md.FullName(), tc.msg)
		}
		newMsg := func() proto.Message { return tc.msg.ProtoReflect().New().Interface() }
		for _, a := range tc.args {
			if !checkDecode(t, c, newMsg, []byte(a)) {
				t.Errorf("%s: the codec leaves %s to protojson", md.FullName(), a)
			}
		}
	}
	// Messages with oneofs, lists, maps, messages, floats or bytes are not
	// flat.
	for _, m := range []proto.Message{&echov1.StreamResponse{}, &ctv1.AllKindsRequest{}, &ctv1.CreateAccountRequest{}} {
		if newFlatCodec(m.ProtoReflect().Descriptor()) != nil {
			t.Errorf("%T counts as flat", m)
		}
	}
}

// TestFlatCodecEdgeInputs checks inputs at the edges of what protojson
// reads: where the codec decodes, it decodes as protojson.
func TestFlatCodecEdgeInputs(t *testing.T) {
	md := flatDescriptor(t)
	c := newFlatCodec(md)
	newMsg := func() proto.Message { return dynamicpb.NewMessage(md) }
	inputs := []string{
		`{}`, ` {} `, `{} x`, `[]`, `null`, ``, `{"s":null}`, `{"s":"a","s":"b"}`, `{"s":"a","S":"b"}`, `{"unknown":1}`,
		`{"i32":2147483648}`, `{"i32":-2147483649}`, `{"i32":"-2147483648"}`, `{"i32":1.0}`, `{"i32":1e2}`, `{"i32":"1e2"}`,
		`{"i32":" 1"}`, `{"i32":"01"}`, `{"i32":01}`, `{"i32":-0}`, `{"i32":"-0"}`, `{"i32":-}`, `{"i32":true}`,
		`{"u32":-1}`, `{"u32":"-0"}`, `{"u32":4294967296}`, `{"u64":18446744073709551616}`, `{"u64":"18446744073709551615"}`,
		`{"i64":9223372036854775807}`, `{"i64":"-9223372036854775808"}`, `{"i64":9223372036854775808}`,
		`{"b":true}`, `{"b":"true"}`, `{"b":1}`, `{"b":tru}`, `{"color":"COLOR_RED"}`, `{"color":"COLOR_SCARLET"}`,
		`{"color":1}`, `{"color":"NOPE"}`, `{"color":"COLOR_\u0052ED"}`, `{"opt_color":"COLOR_UNSPECIFIED"}`,
		`{"opt_s":""}`, `{"opt_i32":0}`, `{"optS":"x","opt_s":"y"}`, `{"camelCaseName":"x"}`, `{"camel_case_name":"x"}`,
		`{"s":"\ud800"}`, `{"s":"\udc00\ud800"}`, `{"s":"\ud800\u0041"}`, `{"s":"\ud83d\ude00"}`, `{"s":"\u0000"}`,
		`{"s":"\x"}`, `{"s":"\u12"}`, `{"s":"\u12g4"}`, "{\"s\":\"tab\there\"}", "{\"s\":\"bad \xff\"}", `{"s":"a"`,
		`{"s":"a",}`, `{,"s":"a"}`, `{"s" "a"}`, `{"s":"\/\b\f\n\r\t\"\\"}`, `{"\u0073":"x"}`, `{"late":"1","early":"-1"}`,
	}
	for _, in := range inputs {
		checkDecode(t, c, newMsg, []byte(in))
	}
}

// TestFlatCodecMutations checks the decoder on random edits of valid inputs.
func TestFlatCodecMutations(t *testing.T) {
	md := flatDescriptor(t)
	c := newFlatCodec(md)
	newMsg := func() proto.Message { return dynamicpb.NewMessage(md) }
	r := rand.New(rand.NewPCG(5, 6))
	const alphabet = "{}[]\",:\\/ 0123456789-+.eEtrufalsn\x00\x1f\xc3\xa9\xffu_"
	rounds := 20000
	if testing.Short() {
		rounds = 2000
	}
	for range rounds {
		m := dynamicpb.NewMessage(md)
		randomFlat(r, m)
		js, err := refMarshal.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		b := append([]byte(nil), js...)
		for range 1 + r.IntN(3) {
			i := r.IntN(len(b) + 1)
			switch r.IntN(3) {
			case 0:
				if i < len(b) {
					b[i] = alphabet[r.IntN(len(alphabet))]
				}
			case 1:
				if i < len(b) {
					b = append(b[:i:i], b[i+1:]...)
				}
			case 2:
				b = append(b[:i:i], append([]byte{alphabet[r.IntN(len(alphabet))]}, b[i:]...)...)
			}
		}
		checkDecode(t, c, newMsg, b)
	}
}

// TestFlatCodecUnknownFields checks that unknown fields a backend sends are
// left out, as protojson does.
func TestFlatCodecUnknownFields(t *testing.T) {
	m := &echov1.EchoResponse{Text: "x"}
	m.ProtoReflect().SetUnknown(protoreflect.RawFields{0xa8, 0x1f, 0x01}) // field 501, varint 1
	c := newFlatCodec(m.ProtoReflect().Descriptor())
	if !checkEncode(t, c, m) {
		t.Error("the codec leaves a message with unknown fields to protojson")
	}
}

func BenchmarkFlatCodec(b *testing.B) {
	c := newFlatCodec((&echov1.EchoRequest{}).ProtoReflect().Descriptor())
	args := []byte(benchArgs)
	b.Run("decode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if !c.decode(args, &echov1.EchoRequest{}) {
				b.Fatal("not decoded")
			}
		}
	})
	m := &echov1.EchoResponse{Text: "hello, world"}
	c = newFlatCodec(m.ProtoReflect().Descriptor())
	b.Run("encode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, ok := c.encode(m); !ok {
				b.Fatal("not encoded")
			}
		}
	})
}

// FuzzFlatDecode looks for JSON the codec decodes differently from protojson,
// or decodes where protojson refuses:
//
//	go test -run '^$' -fuzz FuzzFlatDecode ./edge/bridge/
func FuzzFlatDecode(f *testing.F) {
	md := flatDescriptor(f)
	c := newFlatCodec(md)
	r := rand.New(rand.NewPCG(7, 8))
	for range 50 {
		m := dynamicpb.NewMessage(md)
		randomFlat(r, m)
		js, err := refMarshal.Marshal(m)
		if err != nil {
			f.Fatal(err)
		}
		for _, v := range variants(js) {
			f.Add(v)
		}
	}
	f.Fuzz(func(t *testing.T, js []byte) {
		checkDecode(t, c, func() proto.Message { return dynamicpb.NewMessage(md) }, js)
	})
}
