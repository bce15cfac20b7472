package catalog

// The fast path of ValidateArgs.
//
// The schema validator (santhosh-tekuri/jsonschema) first decodes the
// arguments into a tree of maps and slices and then walks it, which costs
// about twenty allocations for the smallest call. Almost every call is
// valid, and a valid call needs no violation list, so ValidateArgs first runs
// a fastValidator: a single pass over the JSON bytes, with no allocation,
// that checks the arguments against the same schema and answers "valid" only
// when it is sure. Anything else (a violation, malformed JSON, or a case it
// does not handle exactly: formats, uniqueItems, property counts, strings
// with escapes under a pattern or enum, numbers it cannot compare exactly)
// sends the call to the schema validator, which finds every violation and
// words them as before. So the fast path never changes an answer: it only
// skips the slow path for arguments the slow path would accept.

import (
	"encoding/json"
	"math"
	"regexp"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/toolwire/toolwire/edge/internal/jsonlex"
)

// JSON types as a bit set, for "type".
type typeSet uint8

const (
	tNull typeSet = 1 << iota
	tBoolean
	tObject
	tArray
	tNumber
	tInteger
	tString
)

func typeBit(name string) (typeSet, bool) {
	switch name {
	case "null":
		return tNull, true
	case "boolean":
		return tBoolean, true
	case "object":
		return tObject, true
	case "array":
		return tArray, true
	case "number":
		return tNumber, true
	case "integer":
		return tInteger, true
	case "string":
		return tString, true
	}
	return 0, false
}

// fastBound is a numeric bound: exact as an int64 when it is an integer that
// fits, and as the nearest float64 always.
type fastBound struct {
	isInt bool
	i     int64
	f     float64
	text  string // as written in the schema
}

// fastNode is one compiled subschema. A nil *fastNode accepts any value.
type fastNode struct {
	// unsupported marks a subschema the fast path does not check exactly;
	// any value that reaches it goes to the slow path.
	unsupported bool

	types typeSet // 0: any type

	// Strings.
	minLen, maxLen int // -1: no bound
	pattern        *regexp.Regexp
	// Enum and const, for strings: the accepted values. For other values:
	// the accepted JSON texts, compared as written.
	hasEnum     bool
	enumStrings []string
	enumTexts   []string

	// Numbers.
	min, max, xmin, xmax *fastBound

	// Arrays.
	items              *fastNode
	minItems, maxItems int // -1: no bound

	// Objects.
	props      map[string]*fastProp
	required   uint64 // bits of the required props
	closed     bool   // additionalProperties: false
	additional *fastNode
	keys       *fastNode
}

type fastProp struct {
	node *fastNode
	bit  uint64 // its bit in required, or 0
}

// fastValidator checks arguments against one input schema.
type fastValidator struct {
	root *fastNode
}

// compileFast builds the fast path of the validator form of an input schema
// (see forValidator). It never fails: what it cannot check is left to the
// slow path.
func compileFast(root *schema) *fastValidator {
	c := &fastCompiler{defs: root.Defs, refs: map[string]*fastNode{}}
	return &fastValidator{root: c.node(root)}
}

type fastCompiler struct {
	defs map[string]*schema
	refs map[string]*fastNode
}

var unsupportedNode = &fastNode{unsupported: true}

func (c *fastCompiler) node(s *schema) *fastNode {
	if s == nil {
		return nil
	}
	if s.Ref != "" {
		// The generator writes a reference alone, but for a description.
		if !onlyRef(s) {
			return unsupportedNode
		}
		const prefix = "#/$defs/"
		if len(s.Ref) <= len(prefix) || s.Ref[:len(prefix)] != prefix {
			return unsupportedNode
		}
		name := s.Ref[len(prefix):]
		if n, ok := c.refs[name]; ok {
			return n
		}
		def, ok := c.defs[name]
		if !ok {
			return unsupportedNode
		}
		n := &fastNode{}
		c.refs[name] = n // before compiling, so that recursion ends here
		*n = *c.node(def)
		return n
	}

	n := &fastNode{minLen: -1, maxLen: -1, minItems: -1, maxItems: -1}
	switch t := s.Type.(type) {
	case nil:
	case string:
		b, ok := typeBit(t)
		if !ok {
			return unsupportedNode
		}
		n.types = b
	case []string:
		for _, name := range t {
			b, ok := typeBit(name)
			if !ok {
				return unsupportedNode
			}
			n.types |= b
		}
	default:
		return unsupportedNode
	}
	if s.Format != "" || s.UniqueItems || s.MinProperties != nil || s.MaxProperties != nil || s.PropertyNames != nil {
		return unsupportedNode
	}
	// contentEncoding is an annotation: the validator does not assert
	// content. description is an annotation too.

	var ok bool
	if n.minLen, ok = intBound(s.MinLength); !ok {
		return unsupportedNode
	}
	if n.maxLen, ok = intBound(s.MaxLength); !ok {
		return unsupportedNode
	}
	if s.Pattern != "" {
		re, err := regexp.Compile(s.Pattern) // as the schema validator does
		if err != nil {
			return unsupportedNode
		}
		n.pattern = re
	}
	if len(s.Const) > 0 {
		if !n.addEnum(s.Const) {
			return unsupportedNode
		}
	}
	if len(s.Enum) > 0 {
		if len(s.Const) > 0 {
			return unsupportedNode // both: the intersection; never generated
		}
		// An empty list is left out of the schema document, as
		// omitempty has it.
		for _, v := range s.Enum {
			raw, err := json.Marshal(v)
			if err != nil || !n.addEnum(raw) {
				return unsupportedNode
			}
		}
	}
	for _, b := range []struct {
		dst **fastBound
		num json.Number
	}{{&n.min, s.Minimum}, {&n.max, s.Maximum}, {&n.xmin, s.ExclusiveMinimum}, {&n.xmax, s.ExclusiveMaximum}} {
		if b.num == "" {
			continue
		}
		fb, ok := parseBound(string(b.num))
		if !ok {
			return unsupportedNode
		}
		*b.dst = fb
	}

	n.items = c.node(s.Items)
	if n.minItems, ok = intBound(s.MinItems); !ok {
		return unsupportedNode
	}
	if n.maxItems, ok = intBound(s.MaxItems); !ok {
		return unsupportedNode
	}

	if s.Properties != nil {
		n.props = make(map[string]*fastProp, len(*s.Properties))
		for _, p := range *s.Properties {
			if _, dup := n.props[p.name]; dup {
				return unsupportedNode
			}
			n.props[p.name] = &fastProp{node: c.node(p.s)}
		}
	}
	if len(s.Required) > 0 {
		if len(s.Required) > 64 {
			return unsupportedNode
		}
		if n.props == nil {
			n.props = map[string]*fastProp{}
		}
		for i, name := range s.Required {
			p, ok := n.props[name]
			if !ok {
				// Required but not declared: any value will do.
				if s.AdditionalProperties != nil {
					// Its value would be an additional property.
					return unsupportedNode
				}
				p = &fastProp{}
				n.props[name] = p
			}
			if p.bit != 0 {
				return unsupportedNode // listed twice
			}
			p.bit = 1 << i
			n.required |= p.bit
		}
	}
	switch ap := s.AdditionalProperties.(type) {
	case nil:
	case bool:
		n.closed = !ap
	case *schema:
		n.additional = c.node(ap)
		if n.additional == nil {
			n.additional = &fastNode{minLen: -1, maxLen: -1, minItems: -1, maxItems: -1}
		}
	default:
		return unsupportedNode
	}
	n.keys = c.node(s.Keys)
	return n
}

// onlyRef reports whether s has no keyword but $ref and annotations.
func onlyRef(s *schema) bool {
	c := *s
	c.Ref, c.Description = "", ""
	return c.Type == nil && c.Format == "" && c.ContentEncoding == "" && c.Pattern == "" &&
		c.MinLength == nil && c.MaxLength == nil && c.Minimum == "" && c.ExclusiveMinimum == "" &&
		c.Maximum == "" && c.ExclusiveMaximum == "" && c.Const == nil && c.Enum == nil &&
		c.Items == nil && c.MinItems == nil && c.MaxItems == nil && !c.UniqueItems &&
		c.Properties == nil && c.Required == nil && c.PropertyNames == nil && c.MinProperties == nil &&
		c.MaxProperties == nil && c.AdditionalProperties == nil && c.Defs == nil && c.Keys == nil
}

// intBound converts a length or count bound; nil is -1.
func intBound(p *uint64) (int, bool) {
	if p == nil {
		return -1, true
	}
	if *p > math.MaxInt32 {
		return 0, false
	}
	return int(*p), true
}

// addEnum adds one accepted value, given as JSON.
func (n *fastNode) addEnum(raw json.RawMessage) bool {
	n.hasEnum = true
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return false
	}
	switch v := v.(type) {
	case string:
		n.enumStrings = append(n.enumStrings, v)
	case bool, float64, nil:
		// Compared as written; a number written differently in the
		// arguments goes to the slow path.
		n.enumTexts = append(n.enumTexts, string(raw))
	default:
		return false // arrays and objects: never generated
	}
	return true
}

// parseBound parses a JSON number bound.
func parseBound(s string) (*fastBound, bool) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) {
		return nil, false
	}
	b := &fastBound{f: f, text: s}
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		b.isInt, b.i = true, i
	}
	return b, true
}

// maxFastDepth bounds the nesting the fast path follows; deeper arguments go
// to the slow path.
const maxFastDepth = 32

// accepts reports whether raw is certainly valid. False means "not known
// valid": the slow path decides.
func (v *fastValidator) accepts(raw []byte) bool {
	s := scanner{b: raw}
	s.ws()
	if !s.value(v.root, 0) {
		return false
	}
	s.ws()
	return s.i == len(s.b)
}

// scanner walks JSON bytes. Each method returns false when the value is
// malformed, breaks the schema, or is beyond what the fast path checks.
type scanner struct {
	b []byte
	i int
}

func (s *scanner) ws() { s.i = jsonlex.SkipWS(s.b, s.i) }

func (s *scanner) value(n *fastNode, depth int) bool {
	if n != nil && n.unsupported {
		return false
	}
	if s.i >= len(s.b) || depth > maxFastDepth {
		return false
	}
	c := s.b[s.i]
	if (c == '{' || c == '[') && n != nil && n.hasEnum {
		return false // enum and const list scalars only
	}
	switch {
	case c == '{':
		return n.allows(tObject) && s.object(n, depth)
	case c == '[':
		return n.allows(tArray) && s.array(n, depth)
	case c == '"':
		return n.allows(tString) && s.str(n)
	case c == 't':
		return n.allows(tBoolean) && s.literal("true") && n.text("true")
	case c == 'f':
		return n.allows(tBoolean) && s.literal("false") && n.text("false")
	case c == 'n':
		return n.allows(tNull) && s.literal("null") && n.text("null")
	case c == '-' || ('0' <= c && c <= '9'):
		return s.number(n)
	}
	return false
}

// allows reports whether the node's type admits t. Integers are decided by
// number.
func (n *fastNode) allows(t typeSet) bool {
	return n == nil || n.types == 0 || n.types&t != 0
}

// text checks a literal or number against enum and const.
func (n *fastNode) text(tok string) bool {
	if n == nil || !n.hasEnum {
		return true
	}
	for _, t := range n.enumTexts {
		if t == tok {
			return true
		}
	}
	return false
}

func (s *scanner) literal(lit string) bool {
	if !jsonlex.HasLiteral(s.b, s.i, lit) {
		return false
	}
	s.i += len(lit)
	return true
}

func (s *scanner) object(n *fastNode, depth int) bool {
	s.i++ // {
	var seen uint64
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == '}' {
		s.i++
		return n == nil || n.required == 0
	}
	for {
		s.ws()
		if s.i >= len(s.b) || s.b[s.i] != '"' {
			return false
		}
		key, escaped, ok := s.scanString()
		if !ok || escaped {
			// A key with escapes is compared decoded: slow path.
			return false
		}
		s.ws()
		if s.i >= len(s.b) || s.b[s.i] != ':' {
			return false
		}
		s.i++
		s.ws()
		var vn *fastNode
		if n != nil {
			if n.keys != nil && !n.keys.checkString(key, false, utf8.RuneCount(key)) {
				return false
			}
			if p, ok := n.props[string(key)]; ok {
				vn = p.node
				seen |= p.bit
			} else if n.closed {
				return false
			} else {
				vn = n.additional
			}
		}
		if !s.value(vn, depth+1) {
			return false
		}
		s.ws()
		if s.i >= len(s.b) {
			return false
		}
		switch s.b[s.i] {
		case ',':
			s.i++
		case '}':
			s.i++
			return n == nil || seen&n.required == n.required
		default:
			return false
		}
	}
}

func (s *scanner) array(n *fastNode, depth int) bool {
	s.i++ // [
	var items *fastNode
	if n != nil {
		items = n.items
	}
	count := 0
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == ']' {
		s.i++
	} else {
	loop:
		for {
			s.ws()
			if !s.value(items, depth+1) {
				return false
			}
			count++
			s.ws()
			if s.i >= len(s.b) {
				return false
			}
			switch s.b[s.i] {
			case ',':
				s.i++
			case ']':
				s.i++
				break loop
			default:
				return false
			}
		}
	}
	if n == nil {
		return true
	}
	return (n.minItems < 0 || count >= n.minItems) && (n.maxItems < 0 || count <= n.maxItems)
}

// str checks a string value.
func (s *scanner) str(n *fastNode) bool {
	raw, escaped, runes, ok := s.scanStringCount()
	if !ok {
		return false
	}
	if n == nil {
		return true
	}
	return n.checkString(raw, escaped, runes)
}

// checkString checks a string's content. raw is its text between the
// quotes; when escaped, raw is not the string itself, and only its length
// (runes, counted decoded) can be checked here.
func (n *fastNode) checkString(raw []byte, escaped bool, runes int) bool {
	if n.unsupported || !n.allows(tString) {
		return false
	}
	if n.minLen >= 0 && runes < n.minLen || n.maxLen >= 0 && runes > n.maxLen {
		return false
	}
	if n.pattern == nil && !n.hasEnum {
		return true
	}
	if escaped {
		return false
	}
	if n.pattern != nil && !n.pattern.Match(raw) {
		return false
	}
	if n.hasEnum {
		for _, e := range n.enumStrings {
			if e == string(raw) {
				return true
			}
		}
		return false
	}
	return true
}

// scanString scans a string at s.i and returns its raw text.
func (s *scanner) scanString() (raw []byte, escaped, ok bool) {
	raw, escaped, _, ok = s.scanStringCount()
	return raw, escaped, ok
}

// scanStringCount scans a string at s.i, checking its syntax and UTF-8, and
// counts its characters as encoding/json decodes them: an escape is one
// character, except a valid surrogate pair, which is one for both; invalid
// UTF-8 is left to the slow path.
func (s *scanner) scanStringCount() (raw []byte, escaped bool, runes int, ok bool) {
	s.i++ // "
	start := s.i
	b := s.b
	for s.i < len(b) {
		c := b[s.i]
		switch {
		case c == '"':
			raw = b[start:s.i]
			s.i++
			return raw, escaped, runes, true
		case c < 0x20:
			return nil, false, 0, false
		case c == '\\':
			escaped = true
			if s.i+1 >= len(b) {
				return nil, false, 0, false
			}
			switch b[s.i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.i += 2
			case 'u':
				r, ok := jsonlex.Hex4(b, s.i+2)
				if !ok {
					return nil, false, 0, false
				}
				s.i += 6
				if utf16.IsSurrogate(r) && s.i+1 < len(b) && b[s.i] == '\\' && b[s.i+1] == 'u' {
					if r2, ok := jsonlex.Hex4(b, s.i+2); ok && utf16.DecodeRune(r, r2) != utf8.RuneError {
						s.i += 6
					}
				}
			default:
				return nil, false, 0, false
			}
			runes++
		case c < utf8.RuneSelf:
			s.i++
			runes++
		default:
			r, size := utf8.DecodeRune(b[s.i:])
			if r == utf8.RuneError && size == 1 {
				return nil, false, 0, false
			}
			s.i += size
			runes++
		}
	}
	return nil, false, 0, false
}

// number scans a number and checks it against n.
func (s *scanner) number(n *fastNode) bool {
	start := s.i
	b := s.b
	if b[s.i] == '-' {
		s.i++
	}
	switch {
	case s.i < len(b) && b[s.i] == '0':
		s.i++
	case s.i < len(b) && '1' <= b[s.i] && b[s.i] <= '9':
		for s.i < len(b) && '0' <= b[s.i] && b[s.i] <= '9' {
			s.i++
		}
	default:
		return false
	}
	integer := true
	if s.i < len(b) && b[s.i] == '.' {
		integer = false
		s.i++
		if !s.digits() {
			return false
		}
	}
	if s.i < len(b) && (b[s.i] == 'e' || b[s.i] == 'E') {
		integer = false
		s.i++
		if s.i < len(b) && (b[s.i] == '+' || b[s.i] == '-') {
			s.i++
		}
		if !s.digits() {
			return false
		}
	}
	if n == nil {
		return true
	}
	if n.types != 0 && n.types&tNumber == 0 {
		// Only integers: 1.0 is one, but that is the slow path's call.
		if n.types&tInteger == 0 || !integer {
			return false
		}
	}
	tok := b[start:s.i]
	if n.hasEnum && !n.text(string(tok)) {
		return false
	}
	if n.min == nil && n.max == nil && n.xmin == nil && n.xmax == nil {
		return true
	}
	v, ok := parseNumber(tok, integer)
	if !ok {
		return false
	}
	return (n.min == nil || v.cmp(n.min) > 0 || v.cmp(n.min) == 0 && v.exact(n.min)) &&
		(n.max == nil || v.cmp(n.max) < 0 || v.cmp(n.max) == 0 && v.exact(n.max)) &&
		(n.xmin == nil || v.cmp(n.xmin) > 0) &&
		(n.xmax == nil || v.cmp(n.xmax) < 0)
}

func (s *scanner) digits() bool {
	start := s.i
	for s.i < len(s.b) && '0' <= s.b[s.i] && s.b[s.i] <= '9' {
		s.i++
	}
	return s.i > start
}

// fastNumber is a number from the arguments, exact when it is an integer
// that fits an int64.
type fastNumber struct {
	isInt bool
	i     int64
	f     float64
	tok   []byte // as written in the arguments
}

func parseNumber(tok []byte, integer bool) (fastNumber, bool) {
	v := fastNumber{tok: tok}
	if integer {
		if i, err := strconv.ParseInt(string(tok), 10, 64); err == nil {
			v.isInt, v.i = true, i
		}
	}
	f, err := strconv.ParseFloat(string(tok), 64)
	if err != nil || math.IsInf(f, 0) {
		return v, false
	}
	v.f = f
	return v, true
}

// cmp compares v with bound b: exactly when both are int64s; otherwise by
// their nearest float64s, which only decides when they differ (rounding is
// monotonic), so that 0 means "equal or too close to tell".
func (v fastNumber) cmp(b *fastBound) int {
	if v.isInt && b.isInt {
		switch {
		case v.i < b.i:
			return -1
		case v.i > b.i:
			return 1
		}
		return 0
	}
	switch {
	case v.f < b.f:
		return -1
	case v.f > b.f:
		return 1
	}
	return 0
}

// exact reports whether a cmp of 0 means equal: both are int64s, or they
// are written alike.
func (v fastNumber) exact(b *fastBound) bool {
	return v.isInt && b.isInt || string(v.tok) == b.text
}
