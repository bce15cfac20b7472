package catalog

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/toolwire/toolwire/protodoc"
)

// schema is one JSON Schema (draft 2020-12) object. Its fields are declared
// in the order they are written, which keeps the output deterministic and
// readable; nil and zero fields are left out.
type schema struct {
	Ref                  string             `json:"$ref,omitempty"`
	Type                 any                `json:"type,omitempty"` // string or []string
	Description          string             `json:"description,omitempty"`
	Format               string             `json:"format,omitempty"`
	ContentEncoding      string             `json:"contentEncoding,omitempty"`
	Pattern              string             `json:"pattern,omitempty"`
	MinLength            *uint64            `json:"minLength,omitempty"`
	MaxLength            *uint64            `json:"maxLength,omitempty"`
	Minimum              json.Number        `json:"minimum,omitempty"`
	ExclusiveMinimum     json.Number        `json:"exclusiveMinimum,omitempty"`
	Maximum              json.Number        `json:"maximum,omitempty"`
	ExclusiveMaximum     json.Number        `json:"exclusiveMaximum,omitempty"`
	Const                json.RawMessage    `json:"const,omitempty"`
	Enum                 []any              `json:"enum,omitempty"`
	Items                *schema            `json:"items,omitempty"`
	MinItems             *uint64            `json:"minItems,omitempty"`
	MaxItems             *uint64            `json:"maxItems,omitempty"`
	UniqueItems          bool               `json:"uniqueItems,omitempty"`
	Properties           *properties        `json:"properties,omitempty"`
	Required             []string           `json:"required,omitempty"`
	PropertyNames        *schema            `json:"propertyNames,omitempty"`
	MinProperties        *uint64            `json:"minProperties,omitempty"`
	MaxProperties        *uint64            `json:"maxProperties,omitempty"`
	AdditionalProperties any                `json:"additionalProperties,omitempty"` // *schema or false
	Defs                 map[string]*schema `json:"$defs,omitempty"`

	// Keys stands in for PropertyNames in the document the edge's own
	// validator compiles; see keysKeyword.
	Keys *schema `json:"x-toolwire-keys,omitempty"`
}

// forValidator returns a deep copy of s for the edge's validator, with
// propertyNames renamed to the keysKeyword and the formats it does not
// assert left out.
func forValidator(s *schema) *schema {
	if s == nil {
		return nil
	}
	c := *s
	if !assertedFormats[c.Format] {
		c.Format = ""
	}
	c.Items = forValidator(s.Items)
	c.Keys, c.PropertyNames = forValidator(s.PropertyNames), nil
	if ap, ok := s.AdditionalProperties.(*schema); ok {
		c.AdditionalProperties = forValidator(ap)
	}
	if s.Properties != nil {
		ps := make(properties, len(*s.Properties))
		for i, p := range *s.Properties {
			ps[i] = property{p.name, forValidator(p.s)}
		}
		c.Properties = &ps
	}
	if s.Defs != nil {
		c.Defs = make(map[string]*schema, len(s.Defs))
		for name, d := range s.Defs {
			c.Defs[name] = forValidator(d)
		}
	}
	return &c
}

// property is one named entry of "properties".
type property struct {
	name string
	s    *schema
}

// properties keeps the declaration order of a message's fields.
type properties []property

// MarshalJSON writes the properties as an object, in order.
func (ps properties) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, p := range ps {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := json.Marshal(p.name)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		v, err := marshal(p.s)
		if err != nil {
			return nil, err
		}
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// marshal encodes compactly, without escaping <, > and &, which are common
// in descriptions.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// Patterns of the integers protojson reads from and writes to strings.
const (
	signedPattern   = `^-?[0-9]+$`
	unsignedPattern = `^[0-9]+$`
	durationPattern = `^-?[0-9]+(\.[0-9]{1,9})?s$`
	// nonFinitePattern is the strings protojson writes for the floats JSON
	// numbers cannot hold. pattern applies to strings only, so a number
	// passes it.
	nonFinitePattern = `^(NaN|-?Infinity)$`
	// fieldMaskPattern is what protojson reads as a FieldMask: paths of
	// lowerCamelCase names (not the proto names used elsewhere), joined by
	// commas; an underscore, a leading digit or an empty path is refused.
	fieldMaskPattern = `^([a-zA-Z][a-zA-Z0-9]*(\.[a-zA-Z][a-zA-Z0-9]*)*(,[a-zA-Z][a-zA-Z0-9]*(\.[a-zA-Z][a-zA-Z0-9]*)*)*)?$`
)

// generator builds the schema of one root message, in one direction.
type generator struct {
	// output selects the output mapping: 64-bit integers as strings, no
	// additionalProperties false, no protovalidate rules.
	output bool
	// recursive holds the messages that can contain themselves; they are
	// emitted once in defs and referenced.
	recursive map[protoreflect.FullName]bool
	defs      map[string]*schema
}

// inputSchema is the schema of a request message, a strict JSON object,
// and the same schema in the form the edge's validator compiles, encoded and
// as built.
func inputSchema(md protoreflect.MessageDescriptor, skip map[protoreflect.FieldNumber]EventKind) (public, validator json.RawMessage, vs *schema, err error) {
	g := &generator{recursive: recursiveMessages(md), defs: map[string]*schema{}}
	root := g.root(md, skip)
	if root.Type != "object" {
		return nil, nil, nil, fmt.Errorf("request %s maps to JSON %v, and tool arguments must be an object", md.FullName(), typeName(root))
	}
	if public, err = g.finish(root); err != nil {
		return nil, nil, nil, err
	}
	vs = forValidator(root)
	if validator, err = marshal(vs); err != nil {
		return nil, nil, nil, fmt.Errorf("encoding schema: %w", err)
	}
	return public, validator, vs, nil
}

// outputSchema is the schema of a tool result built from response messages
// md, without the event fields; collect wraps it in {"items": [...]}. A
// response that does not map to a JSON object (a well-known type such as
// google.protobuf.StringValue) has no output schema, as MCP requires an
// object: the result is then unstructured.
func outputSchema(md protoreflect.MessageDescriptor, events map[protoreflect.FieldNumber]EventKind, collect bool) (json.RawMessage, error) {
	g := &generator{output: true, recursive: recursiveMessages(md), defs: map[string]*schema{}}
	root := g.root(md, events)
	if root.Type != "object" {
		return nil, nil
	}
	if collect {
		root = &schema{
			Type: "object",
			Properties: &properties{{"items", &schema{
				Type:        "array",
				Description: "Every payload message of the stream, in order.",
				Items:       root,
			}}},
			Required: []string{"items"},
		}
	}
	return g.finish(root)
}

func typeName(s *schema) any {
	if s.Type == nil {
		return "any value"
	}
	return s.Type
}

// finish attaches the definitions and encodes the schema.
func (g *generator) finish(root *schema) (json.RawMessage, error) {
	if len(g.defs) > 0 {
		root.Defs = g.defs
	}
	b, err := marshal(root)
	if err != nil {
		return nil, fmt.Errorf("encoding schema: %w", err)
	}
	return b, nil
}

// root builds the top-level schema of md inline, even when md is recursive,
// leaving out the fields in skip.
func (g *generator) root(md protoreflect.MessageDescriptor, skip map[protoreflect.FieldNumber]EventKind) *schema {
	if s := wellKnown(md, g.output); s != nil {
		return s
	}
	return g.object(md, skip)
}

// message returns the schema of a message-typed value: a well-known type's
// own mapping, a reference to a recursive message, or the message inline.
func (g *generator) message(md protoreflect.MessageDescriptor) *schema {
	if s := wellKnown(md, g.output); s != nil {
		return s
	}
	if !g.recursive[md.FullName()] {
		return g.object(md, nil)
	}
	name := string(md.FullName())
	if _, ok := g.defs[name]; !ok {
		def := &schema{}
		g.defs[name] = def // before filling in, so recursion stops here
		*def = *g.object(md, nil)
	}
	return &schema{Ref: "#/$defs/" + name}
}

// object maps a message to a JSON object of its fields, by proto name.
func (g *generator) object(md protoreflect.MessageDescriptor, skip map[protoreflect.FieldNumber]EventKind) *schema {
	s := &schema{Type: "object", Description: protodoc.Leading(md), Properties: &properties{}}
	fields := md.Fields()
	for i := range fields.Len() {
		f := fields.Get(i)
		if _, ok := skip[f.Number()]; ok {
			continue
		}
		fs := g.field(f)
		if doc := joinText(protodoc.Leading(f), oneofNote(f, skip)); doc != "" {
			fs.Description = doc
		}
		*s.Properties = append(*s.Properties, property{string(f.Name()), fs})
		if !g.output && inputRequired(f) {
			s.Required = append(s.Required, string(f.Name()))
		}
	}
	if !g.output {
		s.AdditionalProperties = false
	}
	return s
}

// joinText joins non-empty texts with a space.
func joinText(texts ...string) string {
	var parts []string
	for _, t := range texts {
		if t != "" {
			parts = append(parts, t)
		}
	}
	return strings.Join(parts, " ")
}

// oneofNote says that the members of f's oneof exclude each other. JSON
// Schema could say it with oneOf, which strict LLM providers reject, so it is
// said in words, and the backend enforces it. Members in skip (events) are
// not named; a oneof with a single remaining member needs no note.
func oneofNote(f protoreflect.FieldDescriptor, skip map[protoreflect.FieldNumber]EventKind) string {
	o := f.ContainingOneof()
	if o == nil || o.IsSynthetic() {
		return ""
	}
	var names []string
	fields := o.Fields()
	for i := range fields.Len() {
		m := fields.Get(i)
		if _, ok := skip[m.Number()]; !ok {
			names = append(names, string(m.Name()))
		}
	}
	if len(names) < 2 {
		return ""
	}
	if oneofRequired(o) {
		return fmt.Sprintf("Set exactly one of %s (oneof %q).", strings.Join(names, ", "), o.Name())
	}
	return fmt.Sprintf("Mutually exclusive: set at most one of %s (oneof %q).", strings.Join(names, ", "), o.Name())
}

// field maps a field, with its cardinality and protovalidate rules.
func (g *generator) field(f protoreflect.FieldDescriptor) *schema {
	rules := g.rules(f)
	switch {
	case f.IsMap():
		key, val := f.MapKey(), f.MapValue()
		s := &schema{Type: "object", AdditionalProperties: g.singular(val)}
		switch key.Kind() {
		case protoreflect.BoolKind:
			s.PropertyNames = &schema{Pattern: `^(true|false)$`}
		case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind,
			protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
			s.PropertyNames = &schema{Pattern: signedPattern}
		case protoreflect.Uint32Kind, protoreflect.Fixed32Kind,
			protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
			s.PropertyNames = &schema{Pattern: unsignedPattern}
		}
		applyMapRules(s, key, val, rules)
		return s
	case f.IsList():
		s := &schema{Type: "array", Items: g.singular(f)}
		applyRepeatedRules(s, f, rules)
		return s
	default:
		s := g.singular(f)
		applyRules(s, f, rules)
		if _, ok := wrapperKind(f.Message()); ok && !g.output && !inputRequired(f) {
			nullable(s)
		}
		return s
	}
}

// nullable lets s take null as well, for a singular wrapper field: the proto3
// JSON mapping keeps null as a wrapper's "no value", and protovalidate skips
// the rules of an unset wrapper. (protojson reads null as unset for any
// field; elsewhere the schema asks callers to leave the field out instead.)
func nullable(s *schema) {
	switch t := s.Type.(type) {
	case string:
		s.Type = []string{t, "null"}
	case []string:
		s.Type = append(slices.Clone(t), "null")
	default:
		return
	}
	switch {
	case s.Const != nil:
		s.Enum, s.Const = []any{s.Const, nil}, nil
	case len(s.Enum) > 0:
		s.Enum = append(s.Enum, nil)
	}
}

// singular maps one value of f's type.
func (g *generator) singular(f protoreflect.FieldDescriptor) *schema {
	switch f.Kind() {
	case protoreflect.MessageKind, protoreflect.GroupKind:
		return g.message(f.Message())
	case protoreflect.EnumKind:
		return enumSchema(f.Enum())
	default:
		return scalar(f.Kind(), g.output)
	}
}

// scalar maps a scalar kind after the proto3 JSON mapping.
func scalar(k protoreflect.Kind, output bool) *schema {
	switch k {
	case protoreflect.BoolKind:
		return &schema{Type: "boolean"}
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		return &schema{Type: "integer", Minimum: "-2147483648", Maximum: "2147483647"}
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		return &schema{Type: "integer", Minimum: "0", Maximum: "4294967295"}
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		// protojson writes 64-bit integers as strings and reads both forms.
		if output {
			return &schema{Type: "string", Pattern: signedPattern}
		}
		// No range: bounds this wide lose precision in many JSON parsers;
		// protojson rejects what overflows.
		return &schema{Type: []string{"integer", "string"}, Pattern: signedPattern}
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		if output {
			return &schema{Type: "string", Pattern: unsignedPattern}
		}
		return &schema{Type: []string{"integer", "string"}, Pattern: unsignedPattern, Minimum: "0"}
	case protoreflect.FloatKind, protoreflect.DoubleKind:
		// protojson writes NaN and the infinities as strings. It reads
		// them too, but a model has no business sending them.
		if output {
			return &schema{Type: []string{"number", "string"}, Pattern: nonFinitePattern}
		}
		return &schema{Type: "number"}
	case protoreflect.StringKind:
		return &schema{Type: "string"}
	case protoreflect.BytesKind:
		return &schema{Type: "string", ContentEncoding: "base64"}
	}
	return &schema{}
}

// enumSchema lists an enum's value names, which protojson writes and reads.
// google.protobuf.NullValue is JSON null.
func enumSchema(ed protoreflect.EnumDescriptor) *schema {
	if ed.FullName() == "google.protobuf.NullValue" {
		return &schema{Type: "null"}
	}
	s := &schema{Type: "string", Description: protodoc.Leading(ed)}
	values := ed.Values()
	for i := range values.Len() {
		s.Enum = append(s.Enum, string(values.Get(i).Name()))
	}
	return s
}

// wellKnown maps the well-known types that have their own JSON form, or
// returns nil for other messages.
func wellKnown(md protoreflect.MessageDescriptor, output bool) *schema {
	if md.ParentFile() == nil || md.ParentFile().Package() != "google.protobuf" {
		return nil
	}
	switch md.Name() {
	case "Timestamp":
		return &schema{Type: "string", Format: "date-time"}
	case "Duration":
		return &schema{Type: "string", Pattern: durationPattern}
	case "Struct":
		return &schema{Type: "object"}
	case "Value":
		return &schema{}
	case "ListValue":
		return &schema{Type: "array"}
	case "FieldMask":
		if output {
			return &schema{Type: "string"}
		}
		return &schema{Type: "string", Pattern: fieldMaskPattern}
	case "Empty":
		s := &schema{Type: "object", Properties: &properties{}}
		if !output {
			s.AdditionalProperties = false
		}
		return s
	case "Any":
		return &schema{Type: "object", Properties: &properties{{"@type", &schema{Type: "string"}}}, Required: []string{"@type"}}
	}
	if k, ok := wrapperKind(md); ok {
		return scalar(k, output)
	}
	return nil
}

// wrapperKind returns the kind a wrapper type (google.protobuf.Int64Value
// and the others) wraps, and whether md is one. md may be nil.
func wrapperKind(md protoreflect.MessageDescriptor) (protoreflect.Kind, bool) {
	if md == nil || md.ParentFile() == nil || md.ParentFile().Package() != "google.protobuf" {
		return 0, false
	}
	switch md.Name() {
	case "DoubleValue", "FloatValue", "Int64Value", "UInt64Value", "Int32Value",
		"UInt32Value", "BoolValue", "StringValue", "BytesValue":
		if f := md.Fields().ByName("value"); f != nil {
			return f.Kind(), true
		}
	}
	return 0, false
}

// recursiveMessages finds the messages reachable from root that can reach
// themselves. Well-known types are leaves: their JSON form is fixed.
func recursiveMessages(root protoreflect.MessageDescriptor) map[protoreflect.FullName]bool {
	children := func(md protoreflect.MessageDescriptor) []protoreflect.MessageDescriptor {
		var out []protoreflect.MessageDescriptor
		fields := md.Fields()
		for i := range fields.Len() {
			f := fields.Get(i)
			if f.IsMap() {
				f = f.MapValue()
			}
			if m := f.Message(); m != nil && wellKnown(m, false) == nil {
				out = append(out, m)
			}
		}
		return out
	}
	// reaches reports whether target is reachable from the children of from.
	reaches := func(from, target protoreflect.MessageDescriptor) bool {
		seen := map[protoreflect.FullName]bool{}
		stack := children(from)
		for len(stack) > 0 {
			m := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if m.FullName() == target.FullName() {
				return true
			}
			if seen[m.FullName()] {
				continue
			}
			seen[m.FullName()] = true
			stack = append(stack, children(m)...)
		}
		return false
	}
	all := map[protoreflect.FullName]protoreflect.MessageDescriptor{}
	stack := []protoreflect.MessageDescriptor{root}
	for len(stack) > 0 {
		m := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if _, ok := all[m.FullName()]; ok || wellKnown(m, false) != nil {
			continue
		}
		all[m.FullName()] = m
		stack = append(stack, children(m)...)
	}
	rec := map[protoreflect.FullName]bool{}
	for name, m := range all {
		if reaches(m, m) {
			rec[name] = true
		}
	}
	return rec
}
