package bridge

// A fast path for protojson, for flat messages.
//
// protojson reads and writes messages through protobuf reflection, which
// costs about fifteen allocations for a one-field message and is a good part
// of the bridge's own time per call. Most tool messages are flat: scalar
// fields only. For those, a flatCodec goes through the binary wire form
// instead, which the generated code reads and writes without reflection:
//
//   - arguments: JSON → wire → proto.Unmarshal;
//   - results: proto.MarshalAppend → wire → JSON.
//
// It writes what protojson writes (UseProtoNames, fields in declaration
// order, 64-bit integers as strings, enums by name) and reads what protojson
// reads. Whatever it does not handle exactly (floats, bytes, oneofs, null,
// numbers written with a fraction or an exponent, strings with lone
// surrogates, enums given as numbers, duplicate or unknown fields, invalid
// UTF-8, malformed JSON) it leaves to protojson, which then gives the answer
// and the error it always gave.

import (
	"math"
	"strconv"
	"sync"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/toolwire/toolwire/edge/internal/jsonlex"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// maxFlatFields bounds the fields of a flat message (a bit set tracks them).
const maxFlatFields = 64

type flatCodec struct {
	byName map[string]*flatField // proto and JSON names
	fields []*flatField          // in declaration order
	byNum  map[protowire.Number]*flatField
}

type flatField struct {
	index    int
	num      protowire.Number
	kind     protoreflect.Kind
	explicit bool   // has presence: written whenever set, zero or not
	key      string // `"name":`, for output
	enumNums map[string]int32
	enumName map[int32]string
}

// newFlatCodec returns the codec of md, or nil when md is not flat.
func newFlatCodec(md protoreflect.MessageDescriptor) *flatCodec {
	fields := md.Fields()
	if fields.Len() > maxFlatFields || md.ExtensionRanges().Len() > 0 ||
		(md.ParentFile() != nil && md.ParentFile().Package() == "google.protobuf") {
		return nil
	}
	c := &flatCodec{byName: map[string]*flatField{}, byNum: map[protowire.Number]*flatField{}}
	for i := range fields.Len() {
		fd := fields.Get(i)
		if fd.IsList() || fd.IsMap() || fd.IsExtension() || fd.IsWeak() {
			return nil
		}
		if o := fd.ContainingOneof(); o != nil && !o.IsSynthetic() {
			return nil
		}
		f := &flatField{index: i, num: fd.Number(), kind: fd.Kind(), explicit: fd.HasPresence()}
		switch fd.Kind() {
		case protoreflect.BoolKind, protoreflect.StringKind,
			protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind,
			protoreflect.Uint32Kind, protoreflect.Fixed32Kind,
			protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind,
			protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		case protoreflect.EnumKind:
			ed := fd.Enum()
			if ed.FullName() == "google.protobuf.NullValue" {
				return nil
			}
			f.enumNums, f.enumName = map[string]int32{}, map[int32]string{}
			values := ed.Values()
			for j := range values.Len() {
				v := values.Get(j)
				f.enumNums[string(v.Name())] = int32(v.Number())
				if _, ok := f.enumName[int32(v.Number())]; !ok { // the first of aliases, as protojson
					f.enumName[int32(v.Number())] = string(v.Name())
				}
			}
		default:
			return nil
		}
		key := strconv.Quote(string(fd.Name())) // proto names are ASCII identifiers
		f.key = key + ":"
		for _, name := range []string{string(fd.Name()), fd.JSONName(), fd.TextName()} {
			if prev, ok := c.byName[name]; ok && prev != f {
				return nil // ambiguous: leave it to protojson
			}
			c.byName[name] = f
		}
		c.fields = append(c.fields, f)
		c.byNum[f.num] = f
	}
	return c
}

var wirePool = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// maxPooled bounds the buffers kept for reuse.
const maxPooled = 64 << 10

func getWire() *[]byte { return wirePool.Get().(*[]byte) }

func putWire(b *[]byte, w []byte) {
	if cap(w) <= maxPooled {
		*b = w[:0]
		wirePool.Put(b)
	}
}

// decode sets m from JSON arguments as protojson.Unmarshal would, and
// reports whether it could; when it could not, m is in an unspecified state
// and protojson must decode it.
func (c *flatCodec) decode(args []byte, m proto.Message) bool {
	bp := getWire()
	w, ok := c.toWire(args, (*bp)[:0])
	if ok {
		ok = proto.UnmarshalOptions{}.Unmarshal(w, m) == nil
	}
	putWire(bp, w)
	return ok
}

// toWire appends the wire form of a JSON object of c's fields to w.
func (c *flatCodec) toWire(args, w []byte) ([]byte, bool) {
	s := jscan{b: args}
	s.ws()
	if !s.eat('{') {
		return w, false
	}
	var seen uint64
	s.ws()
	if s.eat('}') {
		s.ws()
		return w, s.i == len(s.b)
	}
	for {
		s.ws()
		key, ok := s.plainString()
		if !ok {
			return w, false
		}
		f := c.byName[string(key)]
		if f == nil || seen&(1<<f.index) != 0 {
			return w, false // unknown or duplicate: protojson says which
		}
		seen |= 1 << f.index
		s.ws()
		if !s.eat(':') {
			return w, false
		}
		s.ws()
		if w, ok = f.appendWire(&s, w); !ok {
			return w, false
		}
		s.ws()
		if s.eat(',') {
			continue
		}
		if !s.eat('}') {
			return w, false
		}
		s.ws()
		return w, s.i == len(s.b)
	}
}

// appendWire reads the field's JSON value and appends it as wire.
func (f *flatField) appendWire(s *jscan, w []byte) ([]byte, bool) {
	switch f.kind {
	case protoreflect.StringKind:
		n, ok := s.stringLen()
		if !ok {
			return w, false
		}
		w = protowire.AppendTag(w, f.num, protowire.BytesType)
		w = protowire.AppendVarint(w, uint64(n))
		return s.appendString(w)
	case protoreflect.BoolKind:
		var v uint64
		switch {
		case s.literal("true"):
			v = 1
		case s.literal("false"):
		default:
			return w, false
		}
		w = protowire.AppendTag(w, f.num, protowire.VarintType)
		return protowire.AppendVarint(w, v), true
	case protoreflect.EnumKind:
		name, ok := s.plainString()
		if !ok {
			return w, false
		}
		n, ok := f.enumNums[string(name)]
		if !ok {
			return w, false
		}
		w = protowire.AppendTag(w, f.num, protowire.VarintType)
		return protowire.AppendVarint(w, uint64(int64(n))), true
	}
	tok, ok := s.integer()
	if !ok {
		return w, false
	}
	switch f.kind {
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		v, err := strconv.ParseInt(string(tok), 10, 32)
		if err != nil {
			return w, false
		}
		switch f.kind {
		case protoreflect.Int32Kind:
			w = protowire.AppendTag(w, f.num, protowire.VarintType)
			w = protowire.AppendVarint(w, uint64(v))
		case protoreflect.Sint32Kind:
			w = protowire.AppendTag(w, f.num, protowire.VarintType)
			w = protowire.AppendVarint(w, protowire.EncodeZigZag(v))
		default:
			w = protowire.AppendTag(w, f.num, protowire.Fixed32Type)
			w = protowire.AppendFixed32(w, uint32(int32(v)))
		}
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		v, err := strconv.ParseInt(string(tok), 10, 64)
		if err != nil {
			return w, false
		}
		switch f.kind {
		case protoreflect.Int64Kind:
			w = protowire.AppendTag(w, f.num, protowire.VarintType)
			w = protowire.AppendVarint(w, uint64(v))
		case protoreflect.Sint64Kind:
			w = protowire.AppendTag(w, f.num, protowire.VarintType)
			w = protowire.AppendVarint(w, protowire.EncodeZigZag(v))
		default:
			w = protowire.AppendTag(w, f.num, protowire.Fixed64Type)
			w = protowire.AppendFixed64(w, uint64(v))
		}
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		if tok[0] == '-' {
			return w, false
		}
		v, err := strconv.ParseUint(string(tok), 10, 32)
		if err != nil {
			return w, false
		}
		if f.kind == protoreflect.Uint32Kind {
			w = protowire.AppendTag(w, f.num, protowire.VarintType)
			w = protowire.AppendVarint(w, v)
		} else {
			w = protowire.AppendTag(w, f.num, protowire.Fixed32Type)
			w = protowire.AppendFixed32(w, uint32(v))
		}
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		if tok[0] == '-' {
			return w, false
		}
		v, err := strconv.ParseUint(string(tok), 10, 64)
		if err != nil {
			return w, false
		}
		if f.kind == protoreflect.Uint64Kind {
			w = protowire.AppendTag(w, f.num, protowire.VarintType)
			w = protowire.AppendVarint(w, v)
		} else {
			w = protowire.AppendTag(w, f.num, protowire.Fixed64Type)
			w = protowire.AppendFixed64(w, v)
		}
	default:
		return w, false
	}
	return w, true
}

// jscan reads JSON tokens.
type jscan struct {
	b []byte
	i int
}

func (s *jscan) ws() { s.i = jsonlex.SkipWS(s.b, s.i) }

func (s *jscan) eat(c byte) bool {
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

func (s *jscan) literal(lit string) bool {
	if jsonlex.HasLiteral(s.b, s.i, lit) {
		s.i += len(lit)
		return true
	}
	return false
}

// plainString reads a string without escapes, in valid UTF-8.
func (s *jscan) plainString() ([]byte, bool) {
	if !s.eat('"') {
		return nil, false
	}
	start := s.i
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			raw := s.b[start : s.i-1]
			return raw, utf8.Valid(raw)
		case c == '\\' || c < 0x20:
			return nil, false
		}
		s.i++
	}
	return nil, false
}

// integer reads an integer, as a JSON number without fraction or exponent,
// or as a string holding one: the forms protojson reads the same way.
func (s *jscan) integer() ([]byte, bool) {
	quoted := s.eat('"')
	start := s.i
	s.eat('-')
	switch {
	case s.eat('0'):
	case s.i < len(s.b) && '1' <= s.b[s.i] && s.b[s.i] <= '9':
		for s.i < len(s.b) && '0' <= s.b[s.i] && s.b[s.i] <= '9' {
			s.i++
		}
	default:
		return nil, false
	}
	tok := s.b[start:s.i]
	if quoted {
		if !s.eat('"') {
			return nil, false
		}
	} else if s.i < len(s.b) {
		switch s.b[s.i] {
		case '.', 'e', 'E':
			return nil, false
		}
	}
	return tok, true
}

// stringLen returns the decoded length of the string at s.i without moving,
// and whether the fast path decodes it as protojson does.
func (s *jscan) stringLen() (int, bool) {
	b, i := s.b, s.i
	if i >= len(b) || b[i] != '"' {
		return 0, false
	}
	i++
	n := 0
	for i < len(b) {
		c := b[i]
		switch {
		case c == '"':
			return n, true
		case c < 0x20:
			return 0, false
		case c == '\\':
			if i+1 >= len(b) {
				return 0, false
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
				n++
			case 'u':
				r, ok := jsonlex.Hex4(b, i+2)
				if !ok {
					return 0, false
				}
				i += 6
				if utf16.IsSurrogate(r) {
					if i+1 >= len(b) || b[i] != '\\' || b[i+1] != 'u' {
						return 0, false
					}
					r2, ok := jsonlex.Hex4(b, i+2)
					if r = utf16.DecodeRune(r, r2); !ok || r == utf8.RuneError {
						return 0, false
					}
					i += 6
				}
				n += utf8.RuneLen(r)
			default:
				return 0, false
			}
		case c < utf8.RuneSelf:
			i++
			n++
		default:
			r, size := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && size == 1 {
				return 0, false
			}
			i += size
			n += size
		}
	}
	return 0, false
}

// appendString appends the decoded string at s.i, which stringLen checked.
func (s *jscan) appendString(w []byte) ([]byte, bool) {
	b := s.b
	i := s.i + 1
	for {
		start := i
		for b[i] != '"' && b[i] != '\\' {
			i++
		}
		w = append(w, b[start:i]...)
		if b[i] == '"' {
			s.i = i + 1
			return w, true
		}
		switch c := b[i+1]; c {
		case 'u':
			r, _ := jsonlex.Hex4(b, i+2)
			i += 6
			if utf16.IsSurrogate(r) {
				r2, _ := jsonlex.Hex4(b, i+2)
				r = utf16.DecodeRune(r, r2)
				i += 6
			}
			w = utf8.AppendRune(w, r)
		default:
			w = append(w, unescape[c])
			i += 2
		}
	}
}

var unescape = [256]byte{'"': '"', '\\': '\\', '/': '/', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t'}

// flatValue is one field read from the wire.
type flatValue struct {
	set bool
	u   uint64
	b   []byte
}

// encode returns m as protojson.Marshal with UseProtoNames would, and
// whether it could.
func (c *flatCodec) encode(m proto.Message) ([]byte, bool) {
	bp := getWire()
	w, err := proto.MarshalOptions{}.MarshalAppend((*bp)[:0], m)
	if err != nil {
		putWire(bp, w)
		return nil, false
	}
	out, ok := c.wireToJSON(w)
	putWire(bp, w)
	return out, ok
}

func (c *flatCodec) wireToJSON(w []byte) ([]byte, bool) {
	var vals [maxFlatFields]flatValue
	size := 2
	for len(w) > 0 {
		num, typ, n := protowire.ConsumeTag(w)
		if n < 0 {
			return nil, false
		}
		w = w[n:]
		f := c.byNum[num]
		if f == nil {
			// Unknown fields: protojson leaves them out.
			if n = protowire.ConsumeFieldValue(num, typ, w); n < 0 {
				return nil, false
			}
			w = w[n:]
			continue
		}
		v := &vals[f.index]
		v.set = true
		switch typ {
		case protowire.VarintType:
			v.u, n = protowire.ConsumeVarint(w)
		case protowire.Fixed32Type:
			var u uint32
			u, n = protowire.ConsumeFixed32(w)
			v.u = uint64(u)
		case protowire.Fixed64Type:
			v.u, n = protowire.ConsumeFixed64(w)
		case protowire.BytesType:
			v.b, n = protowire.ConsumeBytes(w)
		default:
			return nil, false
		}
		if n < 0 || !f.wireType(typ) {
			return nil, false
		}
		w = w[n:]
		size += len(f.key) + len(v.b) + 24
	}

	out := make([]byte, 0, size)
	out = append(out, '{')
	first := true
	for _, f := range c.fields {
		v := &vals[f.index]
		if !v.set || !f.explicit && v.u == 0 && len(v.b) == 0 {
			continue // unpopulated
		}
		if !first {
			out = append(out, ',')
		}
		first = false
		out = append(out, f.key...)
		var ok bool
		if out, ok = f.appendJSON(out, v); !ok {
			return nil, false
		}
	}
	return append(out, '}'), true
}

// wireType reports whether typ is the wire type of the field's kind.
func (f *flatField) wireType(typ protowire.Type) bool {
	switch f.kind {
	case protoreflect.StringKind:
		return typ == protowire.BytesType
	case protoreflect.Sfixed32Kind, protoreflect.Fixed32Kind:
		return typ == protowire.Fixed32Type
	case protoreflect.Sfixed64Kind, protoreflect.Fixed64Kind:
		return typ == protowire.Fixed64Type
	}
	return typ == protowire.VarintType
}

// appendJSON appends the value as protojson writes it.
func (f *flatField) appendJSON(out []byte, v *flatValue) ([]byte, bool) {
	switch f.kind {
	case protoreflect.StringKind:
		return appendJSONString(out, v.b)
	case protoreflect.BoolKind:
		return strconv.AppendBool(out, v.u != 0), true
	case protoreflect.EnumKind:
		n := int32(v.u)
		if name, ok := f.enumName[n]; ok {
			out = append(out, '"')
			out = append(out, name...)
			return append(out, '"'), true
		}
		return strconv.AppendInt(out, int64(n), 10), true
	case protoreflect.Int32Kind:
		return strconv.AppendInt(out, int64(int32(v.u)), 10), true
	case protoreflect.Sint32Kind:
		return strconv.AppendInt(out, int64(int32(protowire.DecodeZigZag(v.u&math.MaxUint32))), 10), true
	case protoreflect.Sfixed32Kind:
		return strconv.AppendInt(out, int64(int32(uint32(v.u))), 10), true
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		return strconv.AppendUint(out, uint64(uint32(v.u)), 10), true
	case protoreflect.Int64Kind, protoreflect.Sfixed64Kind:
		out = append(out, '"')
		out = strconv.AppendInt(out, int64(v.u), 10)
		return append(out, '"'), true
	case protoreflect.Sint64Kind:
		out = append(out, '"')
		out = strconv.AppendInt(out, protowire.DecodeZigZag(v.u), 10)
		return append(out, '"'), true
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		out = append(out, '"')
		out = strconv.AppendUint(out, v.u, 10)
		return append(out, '"'), true
	}
	return out, false
}

// appendJSONString quotes s as protojson does: only ", \ and control
// characters are escaped; invalid UTF-8 is an error.
func appendJSONString(out, s []byte) ([]byte, bool) {
	out = append(out, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRune(s[i:])
			if r == utf8.RuneError && size == 1 {
				return out, false
			}
			i += size
			continue
		}
		if c >= 0x20 && c != '"' && c != '\\' {
			i++
			continue
		}
		out = append(out, s[start:i]...)
		switch c {
		case '"', '\\':
			out = append(out, '\\', c)
		case '\b':
			out = append(out, '\\', 'b')
		case '\f':
			out = append(out, '\\', 'f')
		case '\n':
			out = append(out, '\\', 'n')
		case '\r':
			out = append(out, '\\', 'r')
		case '\t':
			out = append(out, '\\', 't')
		default:
			out = append(out, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		i++
		start = i
	}
	out = append(out, s[start:]...)
	return append(out, '"'), true
}

const hexDigits = "0123456789abcdef"
