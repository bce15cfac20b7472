package catalog

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// ValidateArgs checks raw JSON arguments (nil or empty means {}) against the
// input schema and returns every violation, sorted by field. Malformed JSON
// is one violation at the root. A tool not built by [New] has no validator
// and only its JSON is checked.
func (t *Tool) ValidateArgs(raw json.RawMessage) []Violation {
	if t.fast != nil && t.fast.accepts(raw) {
		return nil
	}
	return t.ValidateArgsSlow(raw)
}

// ValidateArgsSlow is [Tool.ValidateArgs] without its fast path: the schema
// validator alone, which finds and words every violation. It returns what
// ValidateArgs returns; it exists for benchmarks and tests.
func (t *Tool) ValidateArgsSlow(raw json.RawMessage) []Violation {
	var args any
	if len(bytes.TrimSpace(raw)) == 0 {
		args = map[string]any{}
	} else {
		var err error
		// UnmarshalJSON keeps numbers as json.Number, so that 64-bit
		// integers are checked exactly.
		if args, err = jsonschema.UnmarshalJSON(bytes.NewReader(raw)); err != nil {
			return []Violation{{Field: "", Message: "malformed JSON: " + err.Error()}}
		}
	}
	if t.validator == nil {
		return nil
	}
	vs := t.validator.validate(args)
	slices.SortStableFunc(vs, func(a, b Violation) int {
		return cmp.Or(strings.Compare(a.Field, b.Field), strings.Compare(a.Message, b.Message))
	})
	return vs
}

// schemaValidator is an input schema compiled once, at [New] time.
type schemaValidator struct {
	s *jsonschema.Schema
}

// compileValidator compiles a tool's input schema as draft 2020-12, with
// formats (date-time, email, uuid) asserted rather than only annotated.
func compileValidator(name string, raw json.RawMessage) (argsValidator, error) {
	s, err := compileSchema("mem:///tools/"+name+"/input.json", raw)
	if err != nil {
		return nil, fmt.Errorf("compiling input schema: %w", err)
	}
	return &schemaValidator{s: s}, nil
}

// compileSchema compiles one schema document at url.
func compileSchema(url string, raw json.RawMessage) (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	c.RegisterVocabulary(keysVocabulary)
	c.AssertVocabs()
	if err := c.AddResource(url, doc); err != nil {
		return nil, err
	}
	return c.Compile(url)
}

func (v *schemaValidator) validate(args any) []Violation {
	err := v.s.Validate(args)
	if err == nil {
		return nil
	}
	var verr *jsonschema.ValidationError
	if !errors.As(err, &verr) {
		return []Violation{{Field: "", Message: err.Error()}}
	}
	var out []Violation
	collect(verr, &out)
	return out
}

// collect walks a validation error down to its leaves and turns each into a
// violation. Errors that name several properties become one violation each.
func collect(e *jsonschema.ValidationError, out *[]Violation) {
	loc := pointer(e.InstanceLocation)
	switch k := e.ErrorKind.(type) {
	case *kind.AdditionalProperties:
		for _, p := range k.Properties {
			*out = append(*out, Violation{Field: loc + "/" + escape(p), Message: fmt.Sprintf("unknown property %q", p)})
		}
		return
	case *kind.Required:
		for _, p := range k.Missing {
			*out = append(*out, Violation{Field: loc, Message: fmt.Sprintf("missing required property %q", p)})
		}
		return
	case *keyError:
		msg := fmt.Sprintf("invalid key %q", k.key)
		if leaf := firstLeaf(e); leaf != nil {
			msg += ": " + describe(leaf.ErrorKind)
		}
		*out = append(*out, Violation{Field: loc + "/" + escape(k.key), Message: msg})
		return
	}
	if len(e.Causes) > 0 {
		for _, c := range e.Causes {
			collect(c, out)
		}
		return
	}
	*out = append(*out, Violation{Field: loc, Message: describe(e.ErrorKind)})
}

func firstLeaf(e *jsonschema.ValidationError) *jsonschema.ValidationError {
	for len(e.Causes) > 0 {
		e = e.Causes[0]
	}
	if e.ErrorKind == nil {
		return nil
	}
	return e
}

var printer = message.NewPrinter(language.English)

// describe says what a leaf error means, in words a caller can act on.
func describe(k jsonschema.ErrorKind) string {
	switch k := k.(type) {
	case *kind.Type:
		// null last: "integer or null" reads better than the sorted order.
		want := slices.Clone(k.Want)
		if i := slices.Index(want, "null"); i >= 0 {
			want = append(slices.Delete(want, i, i+1), "null")
		}
		return fmt.Sprintf("must be %s, got %s", strings.Join(want, " or "), k.Got)
	case *kind.Minimum:
		return "must be >= " + rat(k.Want)
	case *kind.ExclusiveMinimum:
		return "must be > " + rat(k.Want)
	case *kind.Maximum:
		return "must be <= " + rat(k.Want)
	case *kind.ExclusiveMaximum:
		return "must be < " + rat(k.Want)
	case *kind.MultipleOf:
		return "must be a multiple of " + rat(k.Want)
	case *kind.MinLength:
		return fmt.Sprintf("must be at least %s long, got %d", plural(k.Want, "character"), k.Got)
	case *kind.MaxLength:
		return fmt.Sprintf("must be at most %s long, got %d", plural(k.Want, "character"), k.Got)
	case *kind.Pattern:
		return fmt.Sprintf("must match the pattern %q", k.Want)
	case *kind.Format:
		return fmt.Sprintf("must be a valid %s: %v", k.Want, k.Err)
	case *kind.Enum:
		want := make([]string, len(k.Want))
		for i, w := range k.Want {
			want[i] = display(w)
		}
		return "must be one of " + strings.Join(want, ", ")
	case *kind.Const:
		return "must be " + display(k.Want)
	case *kind.MinItems:
		return fmt.Sprintf("must have at least %s, got %d", plural(k.Want, "item"), k.Got)
	case *kind.MaxItems:
		return fmt.Sprintf("must have at most %s, got %d", plural(k.Want, "item"), k.Got)
	case *kind.UniqueItems:
		return fmt.Sprintf("must not repeat items: items %d and %d are equal", k.Duplicates[0], k.Duplicates[1])
	case *kind.MinProperties:
		return fmt.Sprintf("must have at least %s, got %d", plural(k.Want, "entry"), k.Got)
	case *kind.MaxProperties:
		return fmt.Sprintf("must have at most %s, got %d", plural(k.Want, "entry"), k.Got)
	case *kind.FalseSchema:
		return "is not allowed"
	}
	return k.LocalizedString(printer)
}

// plural writes n and a noun, in the plural unless n is 1.
func plural(n int, noun string) string {
	switch {
	case n == 1:
	case strings.HasSuffix(noun, "y"):
		noun = strings.TrimSuffix(noun, "y") + "ies"
	default:
		noun += "s"
	}
	return strconv.Itoa(n) + " " + noun
}

// rat formats an exact bound: an integer as is, a fraction as a decimal.
func rat(r *big.Rat) string {
	if r.IsInt() {
		return r.Num().String()
	}
	f, _ := r.Float64()
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// display formats a JSON value from a schema: strings quoted.
func display(v any) string {
	if s, ok := v.(string); ok {
		return strconv.Quote(s)
	}
	if b, err := json.Marshal(v); err == nil {
		return string(b)
	}
	return fmt.Sprint(v)
}

// pointer makes a JSON pointer of instance location tokens.
func pointer(tokens []string) string {
	if len(tokens) == 0 {
		return ""
	}
	var b strings.Builder
	for _, t := range tokens {
		b.WriteByte('/')
		b.WriteString(escape(t))
	}
	return b.String()
}

// escape escapes one JSON pointer token (RFC 6901).
func escape(tok string) string {
	if !strings.ContainsAny(tok, "~/") {
		return tok
	}
	return strings.ReplaceAll(strings.ReplaceAll(tok, "~", "~0"), "/", "~1")
}

// keysKeyword replaces propertyNames in the schema the edge's validator
// compiles. jsonschema v6.0.3 gives a propertyNames error the validator's
// live location slice, which later siblings overwrite, so the error points
// at the wrong map; errors reported through a vocabulary get a copy.
const keysKeyword = "x-toolwire-keys"

// keysVocabulary checks every key of an object against the keysKeyword
// subschema, as propertyNames does.
var keysVocabulary = &jsonschema.Vocabulary{
	URL:        "urn:toolwire:vocab:keys",
	Subschemas: []jsonschema.SchemaPath{{jsonschema.Prop(keysKeyword)}},
	Compile: func(ctx *jsonschema.CompilerContext, obj map[string]any) (jsonschema.SchemaExt, error) {
		if _, ok := obj[keysKeyword]; !ok {
			return nil, nil
		}
		return &keysExt{ctx.Enqueue([]string{keysKeyword})}, nil
	},
}

type keysExt struct{ s *jsonschema.Schema }

func (k *keysExt) Validate(ctx *jsonschema.ValidatorContext, v any) {
	obj, ok := v.(map[string]any)
	if !ok {
		return
	}
	for key := range obj {
		if err := ctx.Validate(k.s, key, []string{key}); err != nil {
			var verr *jsonschema.ValidationError
			if errors.As(err, &verr) {
				ctx.AddErrors([]*jsonschema.ValidationError{verr}, &keyError{key})
			}
		}
	}
}

// keyError is a map key that breaks the key schema.
type keyError struct{ key string }

func (*keyError) KeywordPath() []string { return []string{keysKeyword} }

func (k *keyError) LocalizedString(p *message.Printer) string {
	return p.Sprintf("invalid key %q", k.key)
}
