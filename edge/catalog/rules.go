package catalog

// protovalidate rules become JSON Schema keywords here, for input schemas
// only: they describe valid requests, and responses are not validated.
//
// Only rules with an exact JSON Schema counterpart are mapped as assertions.
// uri, uri_ref, hostname, ipv4 and ipv6, whose JSON Schema formats differ from
// protovalidate's in detail, become formats the edge's validator leaves
// unasserted (assertedFormats): a guide for the model only. Every other rule
// (prefix, suffix, contains, not_in on strings, byte lengths, ip and the
// other well-known formats, bytes, duration and timestamp rules, CEL
// expressions, message oneof rules, ranges that exclude an interval, required
// on a number without presence, fields with IGNORE_IF_ZERO_VALUE) is left to
// the backend, which runs protovalidate on every request anyway: the schema
// is a fast first check and a guide for the model, never the last word.

import (
	"encoding/json"
	"math"
	"math/big"
	"slices"
	"strconv"

	"buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go/buf/validate"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// rules returns f's protovalidate rules when they apply to the input schema,
// or nil.
func (g *generator) rules(f protoreflect.FieldDescriptor) *validate.FieldRules {
	if g.output {
		return nil
	}
	r := fieldRules(f)
	switch r.GetIgnore() {
	case validate.Ignore_IGNORE_ALWAYS, validate.Ignore_IGNORE_IF_ZERO_VALUE:
		// IF_ZERO_VALUE lets the zero value through whatever the rules say,
		// which needs anyOf to express.
		return nil
	}
	return r
}

// fieldRules reads (buf.validate.field); nil when unset.
func fieldRules(f protoreflect.FieldDescriptor) *validate.FieldRules {
	opts := f.Options()
	if opts == nil {
		return nil
	}
	r, _ := proto.GetExtension(opts, validate.E_Field).(*validate.FieldRules)
	return r
}

// fieldRequired reports (buf.validate.field).required, unless ignored.
func fieldRequired(f protoreflect.FieldDescriptor) bool {
	r := fieldRules(f)
	return r.GetRequired() && r.GetIgnore() != validate.Ignore_IGNORE_ALWAYS
}

// inputRequired reports whether a request must carry f: it is
// (buf.validate.field).required, or a proto2 required field (editions'
// LEGACY_REQUIRED), without which protojson refuses the message.
func inputRequired(f protoreflect.FieldDescriptor) bool {
	return fieldRequired(f) || f.Cardinality() == protoreflect.Required
}

// oneofRequired reports (buf.validate.oneof).required.
func oneofRequired(o protoreflect.OneofDescriptor) bool {
	opts := o.Options()
	if opts == nil {
		return false
	}
	r, _ := proto.GetExtension(opts, validate.E_Oneof).(*validate.OneofRules)
	return r.GetRequired()
}

// applyRules adds the keywords of a singular field's rules to s.
func applyRules(s *schema, f protoreflect.FieldDescriptor, r *validate.FieldRules) {
	if r == nil {
		return
	}
	applyValueRules(s, f, r)
	if !r.GetRequired() || f.HasPresence() {
		return
	}
	// required on a field without presence means "not the zero value",
	// which the schema can say for some kinds; for numbers it would take
	// "not".
	switch f.Kind() {
	case protoreflect.StringKind, protoreflect.BytesKind:
		if deref(s.MinLength) == 0 {
			s.MinLength = ptr(uint64(1))
		}
	case protoreflect.BoolKind:
		if s.Const == nil {
			s.Const = json.RawMessage("true")
		}
	case protoreflect.EnumKind:
		zero := f.Enum().Values()
		s.Enum = slices.DeleteFunc(s.Enum, func(e any) bool {
			n, _ := e.(string)
			v := zero.ByName(protoreflect.Name(n))
			return v != nil && v.Number() == 0
		})
	}
}

// applyValueRules adds the keywords of the type rules in r that match the
// kind of f's values (for wrapper messages, the wrapped kind).
func applyValueRules(s *schema, f protoreflect.FieldDescriptor, r *validate.FieldRules) {
	k := valueKind(f)
	switch k {
	case protoreflect.StringKind:
		applyStringRules(s, r.GetString())
	case protoreflect.BoolKind:
		if b := r.GetBool(); b.HasConst() {
			s.Const = json.RawMessage(strconv.FormatBool(b.GetConst()))
		}
	case protoreflect.EnumKind:
		applyEnumRules(s, f.Enum(), r.GetEnum())
	default:
		if m := numericRules(k, r); m != nil {
			applyNumericRules(s, k, m)
		}
	}
}

// valueKind is the kind of f's values, seeing through wrapper types, which
// protovalidate checks with the wrapped type's rules.
func valueKind(f protoreflect.FieldDescriptor) protoreflect.Kind {
	if k, ok := wrapperKind(f.Message()); ok {
		return k
	}
	return f.Kind()
}

// applyRepeatedRules adds repeated rules to an array schema, and the item
// rules to its items.
func applyRepeatedRules(s *schema, f protoreflect.FieldDescriptor, r *validate.FieldRules) {
	if r == nil {
		return
	}
	if r.GetRequired() {
		s.MinItems = ptr(uint64(1))
	}
	rr := r.GetRepeated()
	if rr.HasMinItems() {
		s.MinItems = ptr(max(rr.GetMinItems(), deref(s.MinItems)))
	}
	if rr.HasMaxItems() {
		s.MaxItems = ptr(rr.GetMaxItems())
	}
	if rr.GetUnique() {
		s.UniqueItems = true
	}
	if items := rr.GetItems(); items != nil && items.GetIgnore() == validate.Ignore_IGNORE_UNSPECIFIED {
		applyValueRules(s.Items, f, items)
	}
}

// applyMapRules adds map rules to an object schema: pair counts, key rules
// (string keys only: other keys are strings in JSON, numbers in proto) and
// value rules.
func applyMapRules(s *schema, key, val protoreflect.FieldDescriptor, r *validate.FieldRules) {
	if r == nil {
		return
	}
	if r.GetRequired() {
		s.MinProperties = ptr(uint64(1))
	}
	mr := r.GetMap()
	if mr.HasMinPairs() {
		s.MinProperties = ptr(max(mr.GetMinPairs(), deref(s.MinProperties)))
	}
	if mr.HasMaxPairs() {
		s.MaxProperties = ptr(mr.GetMaxPairs())
	}
	if keys := mr.GetKeys(); keys != nil && keys.GetIgnore() == validate.Ignore_IGNORE_UNSPECIFIED && key.Kind() == protoreflect.StringKind {
		if s.PropertyNames == nil {
			s.PropertyNames = &schema{}
		}
		applyStringRules(s.PropertyNames, keys.GetString())
	}
	if vals := mr.GetValues(); vals != nil && vals.GetIgnore() == validate.Ignore_IGNORE_UNSPECIFIED {
		if vs, ok := s.AdditionalProperties.(*schema); ok {
			applyValueRules(vs, val, vals)
		}
	}
}

func deref(p *uint64) uint64 {
	if p == nil {
		return 0
	}
	return *p
}

// applyStringRules maps const, len, min_len, max_len, pattern, in, and the
// well-known formats that have a JSON Schema format. Lengths count
// characters (code points) in both worlds.
func applyStringRules(s *schema, r *validate.StringRules) {
	if r == nil {
		return
	}
	if r.HasConst() {
		s.Const = stringJSON(r.GetConst())
	}
	if r.HasLen() {
		s.MinLength, s.MaxLength = ptr(r.GetLen()), ptr(r.GetLen())
	}
	if r.HasMinLen() {
		s.MinLength = ptr(r.GetMinLen())
	}
	if r.HasMaxLen() {
		s.MaxLength = ptr(r.GetMaxLen())
	}
	if r.HasPattern() {
		// protovalidate patterns are RE2, which the edge's validator also
		// uses; most are valid ECMA-262 as well.
		s.Pattern = r.GetPattern()
	}
	for _, v := range r.GetIn() {
		s.Enum = append(s.Enum, v)
	}
	switch {
	case r.GetEmail():
		s.Format = "email"
	case r.GetUuid():
		s.Format = "uuid"
	// Formats whose JSON Schema definition differs from protovalidate's in
	// detail: annotations for the model, which the edge's validator does
	// not assert (see assertedFormats).
	case r.GetUri():
		s.Format = "uri"
	case r.GetUriRef():
		s.Format = "uri-reference"
	case r.GetHostname():
		s.Format = "hostname"
	case r.GetIpv4():
		s.Format = "ipv4"
	case r.GetIpv6():
		s.Format = "ipv6"
	}
}

// assertedFormats are the formats the edge's validator checks: those whose
// JSON Schema definition accepts what protovalidate's rule accepts. Other
// formats stay in the published schema as annotations, as draft 2020-12
// treats format by default, and protovalidate on the backend decides.
var assertedFormats = map[string]bool{"date-time": true, "email": true, "uuid": true}

// applyEnumRules narrows an enum schema's names to const (alone) or in, and
// drops not_in. defined_only is what the schema says already.
func applyEnumRules(s *schema, ed protoreflect.EnumDescriptor, r *validate.EnumRules) {
	if r == nil || s.Type != "string" {
		return
	}
	name := func(n int32) (string, bool) {
		v := ed.Values().ByNumber(protoreflect.EnumNumber(n))
		if v == nil {
			return "", false
		}
		return string(v.Name()), true
	}
	if r.HasConst() {
		if n, ok := name(r.GetConst()); ok {
			s.Const, s.Enum = stringJSON(n), nil
			return
		}
	}
	if in := r.GetIn(); len(in) > 0 {
		s.Enum = nil
		for _, n := range in {
			if v, ok := name(n); ok {
				s.Enum = append(s.Enum, v)
			}
		}
	}
	for _, n := range r.GetNotIn() {
		if v, ok := name(n); ok {
			s.Enum = slices.DeleteFunc(s.Enum, func(e any) bool { return e == v })
		}
	}
}

// numericRules returns the rules message that matches kind k (Int32Rules
// for int32 and so on), or nil.
func numericRules(k protoreflect.Kind, r *validate.FieldRules) protoreflect.Message {
	var m proto.Message
	switch k {
	case protoreflect.Int32Kind:
		m = r.GetInt32()
	case protoreflect.Sint32Kind:
		m = r.GetSint32()
	case protoreflect.Sfixed32Kind:
		m = r.GetSfixed32()
	case protoreflect.Uint32Kind:
		m = r.GetUint32()
	case protoreflect.Fixed32Kind:
		m = r.GetFixed32()
	case protoreflect.Int64Kind:
		m = r.GetInt64()
	case protoreflect.Sint64Kind:
		m = r.GetSint64()
	case protoreflect.Sfixed64Kind:
		m = r.GetSfixed64()
	case protoreflect.Uint64Kind:
		m = r.GetUint64()
	case protoreflect.Fixed64Kind:
		m = r.GetFixed64()
	case protoreflect.FloatKind:
		m = r.GetFloat()
	case protoreflect.DoubleKind:
		m = r.GetDouble()
	default:
		return nil
	}
	pm := m.ProtoReflect()
	if !pm.IsValid() {
		return nil
	}
	return pm
}

// applyNumericRules maps const, in, gt, gte, lt and lte. The twelve numeric
// rule messages share these field names, so they are read by reflection.
// A 64-bit integer's const and in list both forms protojson reads: the
// number and the decimal string.
func applyNumericRules(s *schema, k protoreflect.Kind, m protoreflect.Message) {
	fields := m.Descriptor().Fields()
	get := func(name protoreflect.Name) (json.Number, bool) {
		f := fields.ByName(name)
		if f == nil || !m.Has(f) {
			return "", false
		}
		return number(k, m.Get(f))
	}
	is64 := k == protoreflect.Int64Kind || k == protoreflect.Sint64Kind || k == protoreflect.Sfixed64Kind ||
		k == protoreflect.Uint64Kind || k == protoreflect.Fixed64Kind
	values := func(n json.Number) []any {
		if is64 {
			return []any{n, n.String()}
		}
		return []any{n}
	}

	if c, ok := get("const"); ok {
		if is64 {
			s.Enum = values(c)
		} else {
			s.Const = json.RawMessage(c)
		}
	}
	if f := fields.ByName("in"); f != nil && m.Has(f) {
		list := m.Get(f).List()
		s.Enum = nil
		for i := range list.Len() {
			if n, ok := number(k, list.Get(i)); ok {
				s.Enum = append(s.Enum, values(n)...)
			}
		}
	}

	gt, hasGt := get("gt")
	gte, hasGte := get("gte")
	lt, hasLt := get("lt")
	lte, hasLte := get("lte")
	lower, upper := gte, lte
	if hasGt {
		lower = gt
	}
	if hasLt {
		upper = lt
	}
	if (hasGt || hasGte) && (hasLt || hasLte) && compare(lower, upper) > 0 {
		// gt > lt means "outside the interval": anyOf territory.
		return
	}
	switch {
	case hasGt:
		s.ExclusiveMinimum, s.Minimum = gt, ""
	case hasGte:
		s.Minimum = gte
	}
	switch {
	case hasLt:
		s.ExclusiveMaximum, s.Maximum = lt, ""
	case hasLte:
		s.Maximum = lte
	}
}

// number formats a rule value as a JSON number; NaN and infinities have none.
func number(k protoreflect.Kind, v protoreflect.Value) (json.Number, bool) {
	switch k {
	case protoreflect.FloatKind, protoreflect.DoubleKind:
		f := v.Float()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return "", false
		}
		bits := 64
		if k == protoreflect.FloatKind {
			bits = 32
		}
		return json.Number(strconv.FormatFloat(f, 'g', -1, bits)), true
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind, protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return json.Number(strconv.FormatUint(v.Uint(), 10)), true
	default:
		return json.Number(strconv.FormatInt(v.Int(), 10)), true
	}
}

// compare compares two JSON numbers exactly.
func compare(a, b json.Number) int {
	x, okx := new(big.Rat).SetString(a.String())
	y, oky := new(big.Rat).SetString(b.String())
	if !okx || !oky {
		return 0
	}
	return x.Cmp(y)
}

// stringJSON encodes a string as JSON, which cannot fail.
func stringJSON(v string) json.RawMessage {
	b, _ := marshal(v)
	return b
}
