package catalog

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
	"google.golang.org/protobuf/types/known/durationpb"

	mcpv1 "github.com/toolwire/toolwire/gen/go/toolwire/mcp/v1"
	"github.com/toolwire/toolwire/protodoc"
)

// Options tune [New]. A nil *Options means the defaults.
type Options struct {
	// Include, when set, picks the methods [New] considers: a method for
	// which it returns false is no tool, as if its option excluded it. Nil
	// includes every method.
	Include func(protoreflect.MethodDescriptor) bool
}

// Catalog is the set of tools built from some services. It is immutable and
// safe for concurrent use.
type Catalog struct {
	tools  []*Tool // sorted by Name
	byName map[string]*Tool
	// The other MCP features (features.go).
	resources   []*Resource
	prompts     []*Prompt
	completions map[protoreflect.FullName]*Method
	watches     []*ResourceWatch
}

// namePattern is what MCP clients accept as a tool name.
var namePattern = regexp.MustCompile(`^[a-zA-Z0-9_.-]{1,128}$`)

// classPattern is what a rate class name may be: it is part of Redis keys
// and of the RateLimit header fields, so it is kept short and plain.
var classPattern = regexp.MustCompile(`^[a-zA-Z0-9_.-]{1,64}$`)

// DefaultRateClass is the rate class of a tool whose option names none.
const DefaultRateClass = "default"

// maxRateCost bounds rate_cost: a cost is a count of calls, and a larger one
// is a typo that no burst could admit.
const maxRateCost = 1_000_000

// New builds a catalog of the methods of services. Every method is a tool
// unless its (toolwire.mcp.v1.tool) option sets exclude, or opts.Include
// leaves it out. New fails on an invalid or duplicate tool name, a
// client-streaming-only method, a request that does not map to a JSON object,
// or an invalid timeout; the error names the method.
func New(services []protoreflect.ServiceDescriptor, opts *Options) (*Catalog, error) {
	if opts == nil {
		opts = &Options{}
	}
	c := &Catalog{byName: map[string]*Tool{}, completions: map[protoreflect.FullName]*Method{}}
	for _, sd := range services {
		methods := sd.Methods()
		for i := range methods.Len() {
			md := methods.Get(i)
			if opts.Include != nil && !opts.Include(md) {
				continue
			}
			if isFeature(md) {
				if err := c.addFeature(md); err != nil {
					return nil, fmt.Errorf("catalog: %s: %w", md.FullName(), err)
				}
				continue
			}
			opt := toolOption(md)
			if opt.GetExclude() {
				continue
			}
			t, err := newTool(md, opt)
			if err != nil {
				return nil, fmt.Errorf("catalog: %s: %w", md.FullName(), err)
			}
			if prev, ok := c.byName[t.Name]; ok {
				return nil, fmt.Errorf("catalog: tool name %q is used by both %s and %s",
					t.Name, prev.Method.FullName(), md.FullName())
			}
			c.byName[t.Name] = t
			c.tools = append(c.tools, t)
		}
	}
	slices.SortFunc(c.tools, func(a, b *Tool) int { return strings.Compare(a.Name, b.Name) })
	c.sortFeatures()
	return c, nil
}

// Empty returns a catalog of nothing.
func Empty() *Catalog {
	return &Catalog{byName: map[string]*Tool{}, completions: map[protoreflect.FullName]*Method{}}
}

// Tools returns every tool, sorted by name. The slice is the caller's; the
// tools are shared and must not be modified.
func (c *Catalog) Tools() []*Tool { return slices.Clone(c.tools) }

// Lookup returns the tool called name.
func (c *Catalog) Lookup(name string) (*Tool, bool) {
	t, ok := c.byName[name]
	return t, ok
}

// toolOption reads the method's (toolwire.mcp.v1.tool) option; it is never
// nil.
func toolOption(md protoreflect.MethodDescriptor) *mcpv1.ToolOptions {
	opts, _ := md.Options().(*descriptorpb.MethodOptions)
	if opts == nil {
		return &mcpv1.ToolOptions{}
	}
	t, _ := proto.GetExtension(opts, mcpv1.E_Tool).(*mcpv1.ToolOptions)
	if t == nil {
		return &mcpv1.ToolOptions{}
	}
	return t
}

// newTool builds the tool of one method.
func newTool(md protoreflect.MethodDescriptor, opt *mcpv1.ToolOptions) (*Tool, error) {
	t := &Tool{
		Name:       opt.GetName(),
		Title:      opt.GetTitle(),
		Method:     md,
		FullMethod: "/" + string(md.Parent().FullName()) + "/" + string(md.Name()),
	}
	if t.Name == "" {
		t.Name = snakeCase(string(md.Name()))
	}
	if !namePattern.MatchString(t.Name) {
		return nil, fmt.Errorf("tool name %q does not match %s", t.Name, namePattern)
	}

	t.Description = protodoc.Leading(md)
	if t.Description == "" {
		t.Description = t.Title
	}
	if t.Description == "" {
		t.Description = fmt.Sprintf("Calls %s.%s.", md.Parent().Name(), md.Name())
	}
	t.Annotations = annotations(md, opt.GetAnnotations())

	switch {
	case md.IsStreamingClient() && md.IsStreamingServer():
		t.Kind = BidiStream
	case md.IsStreamingServer():
		t.Kind = ServerStream
	case md.IsStreamingClient():
		return nil, fmt.Errorf("client-streaming methods cannot be tools; set (toolwire.mcp.v1.tool).exclude")
	default:
		t.Kind = Unary
	}
	if t.Kind != Unary && opt.GetStreamResult().GetMode() == mcpv1.StreamResult_MODE_COLLECT {
		t.StreamMode = StreamCollect
	}

	var err error
	if t.DefaultTimeout, err = timeout("default_timeout", opt.GetDefaultTimeout()); err != nil {
		return nil, err
	}
	if t.MaxTimeout, err = timeout("max_timeout", opt.GetMaxTimeout()); err != nil {
		return nil, err
	}
	if t.DefaultTimeout > 0 && t.MaxTimeout > 0 && t.DefaultTimeout > t.MaxTimeout {
		return nil, fmt.Errorf("default_timeout %v exceeds max_timeout %v", t.DefaultTimeout, t.MaxTimeout)
	}

	if sc := opt.GetScopes(); len(sc) > 0 {
		t.Scopes = slices.Clone(sc)
	}

	t.RateClass = opt.GetRateClass()
	if t.RateClass == "" {
		t.RateClass = DefaultRateClass
	}
	if !classPattern.MatchString(t.RateClass) {
		return nil, fmt.Errorf("rate_class %q does not match %s", t.RateClass, classPattern)
	}
	t.RateCost = max(int(opt.GetRateCost()), 1)
	if t.RateCost > maxRateCost {
		return nil, fmt.Errorf("rate_cost %d exceeds %d", t.RateCost, maxRateCost)
	}
	if n := opt.GetMaxConcurrency(); n > 0 {
		if n > math.MaxInt32 {
			return nil, fmt.Errorf("max_concurrency %d is too large", n)
		}
		t.MaxConcurrency = int(n)
	}

	t.Events = events(md.Output())
	t.Content = fieldOf(md.Output(), contentName, true)
	t.Asks = fieldOf(md.Output(), inputRequestsName, false)
	t.Answers = fieldOf(md.Input(), inputResponsesName, false)
	if (t.Asks != nil || t.Answers != nil) && t.Kind != BidiStream {
		return nil, fmt.Errorf("only a bidi-streaming tool can ask for input (fields of type %s and %s)", inputRequestsName, inputResponsesName)
	}
	if (t.Asks == nil) != (t.Answers == nil) {
		return nil, fmt.Errorf("a tool that asks for input needs both a response field of type %s and a request field of type %s", inputRequestsName, inputResponsesName)
	}
	for _, c := range opt.GetRequiredClientCapabilities() {
		if !slices.Contains(clientCapabilities, c) {
			return nil, fmt.Errorf("required_client_capabilities: %q is none of %v", c, clientCapabilities)
		}
	}
	t.RequiredClientCapabilities = slices.Clone(opt.GetRequiredClientCapabilities())
	t.TaskSupport = opt.GetTaskSupport()
	if t.TaskTTL, err = timeout("task_ttl", opt.GetTaskTtl()); err != nil {
		return nil, err
	}

	// The output schema leaves out what is not structured payload: events,
	// content blocks and input requests.
	skip := maps.Clone(t.Events)
	for _, f := range []protoreflect.FieldDescriptor{t.Content, t.Asks} {
		if f != nil {
			skip[f.Number()] = EventNone
		}
	}
	t.Structured = t.Content == nil || payloadFields(md.Output(), skip) > 0
	var inSkip map[protoreflect.FieldNumber]EventKind
	if t.Answers != nil {
		inSkip = map[protoreflect.FieldNumber]EventKind{t.Answers.Number(): EventNone}
	}

	var validatorSchema json.RawMessage
	var vs *schema
	if raw := opt.GetInputSchema(); raw != "" {
		if md.Input().FullName() != structName {
			return nil, fmt.Errorf("input_schema needs the request type %s, not %s", structName, md.Input().FullName())
		}
		if t.InputSchema, err = rawSchema(raw); err != nil {
			return nil, fmt.Errorf("input_schema: %w", err)
		}
		validatorSchema = t.InputSchema
	} else if t.InputSchema, validatorSchema, vs, err = inputSchema(md.Input(), inSkip); err != nil {
		return nil, err
	}
	if t.Structured {
		if t.OutputSchema, err = outputSchema(md.Output(), skip, t.Kind != Unary && t.StreamMode == StreamCollect); err != nil {
			return nil, err
		}
	}
	if t.validator, err = compileValidator(t.Name, validatorSchema); err != nil {
		return nil, err
	}
	if vs != nil {
		t.fast = compileFast(vs)
	}
	t.newIn = messageFactory(md.Input())
	t.newOut = messageFactory(md.Output())
	return t, nil
}

// annotations applies idempotency_level, then the option's explicit hints,
// which win.
func annotations(md protoreflect.MethodDescriptor, opt *mcpv1.ToolAnnotations) Annotations {
	var a Annotations
	mo, _ := md.Options().(*descriptorpb.MethodOptions)
	switch mo.GetIdempotencyLevel() {
	case descriptorpb.MethodOptions_NO_SIDE_EFFECTS:
		a.ReadOnly, a.Idempotent, a.Destructive = ptr(true), ptr(true), ptr(false)
	case descriptorpb.MethodOptions_IDEMPOTENT:
		a.Idempotent = ptr(true)
	}
	if opt == nil {
		return a
	}
	if opt.ReadOnly != nil {
		a.ReadOnly = ptr(*opt.ReadOnly)
	}
	if opt.Destructive != nil {
		a.Destructive = ptr(*opt.Destructive)
	}
	if opt.Idempotent != nil {
		a.Idempotent = ptr(*opt.Idempotent)
	}
	if opt.OpenWorld != nil {
		a.OpenWorld = ptr(*opt.OpenWorld)
	}
	return a
}

func ptr[T any](v T) *T { return &v }

// timeout reads a Duration option; unset is zero.
func timeout(name string, d *durationpb.Duration) (time.Duration, error) {
	if d == nil {
		return 0, nil
	}
	if err := d.CheckValid(); err != nil {
		return 0, fmt.Errorf("%s: %w", name, err)
	}
	v := d.AsDuration()
	if v < 0 {
		return 0, fmt.Errorf("%s %v is negative", name, v)
	}
	return v, nil
}

var (
	progressName       = (&mcpv1.Progress{}).ProtoReflect().Descriptor().FullName()
	logName            = (&mcpv1.Log{}).ProtoReflect().Descriptor().FullName()
	contentName        = (&mcpv1.Content{}).ProtoReflect().Descriptor().FullName()
	inputRequestsName  = (&mcpv1.InputRequests{}).ProtoReflect().Descriptor().FullName()
	inputResponsesName = (&mcpv1.InputResponses{}).ProtoReflect().Descriptor().FullName()
	structName         = protoreflect.FullName("google.protobuf.Struct")
)

// clientCapabilities are the names required_client_capabilities accepts.
var clientCapabilities = []string{"elicitation", "roots", "sampling"}

// fieldOf returns md's first field whose message type is name, a list
// field when list is set and a singular one otherwise; nil if none.
func fieldOf(md protoreflect.MessageDescriptor, name protoreflect.FullName, list bool) protoreflect.FieldDescriptor {
	fields := md.Fields()
	for i := range fields.Len() {
		f := fields.Get(i)
		if f.Message() != nil && f.Message().FullName() == name && f.IsList() == list && !f.IsMap() {
			return f
		}
	}
	return nil
}

// payloadFields counts md's fields not in skip.
func payloadFields(md protoreflect.MessageDescriptor, skip map[protoreflect.FieldNumber]EventKind) int {
	n := 0
	fields := md.Fields()
	for i := range fields.Len() {
		if _, ok := skip[fields.Get(i).Number()]; !ok {
			n++
		}
	}
	return n
}

// rawSchema checks that raw is a JSON object and returns it compacted.
func rawSchema(raw string) (json.RawMessage, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal([]byte(raw), &obj); err != nil {
		return nil, fmt.Errorf("not a JSON object: %w", err)
	}
	if t, ok := obj["type"]; !ok || string(t) != `"object"` {
		return nil, fmt.Errorf(`tool arguments must be an object: the schema needs "type": "object"`)
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, []byte(raw)); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// events finds the response fields that carry toolwire.mcp.v1 events.
func events(md protoreflect.MessageDescriptor) map[protoreflect.FieldNumber]EventKind {
	ev := map[protoreflect.FieldNumber]EventKind{}
	fields := md.Fields()
	for i := range fields.Len() {
		f := fields.Get(i)
		if f.Message() == nil || f.IsList() || f.IsMap() {
			continue
		}
		switch f.Message().FullName() {
		case progressName:
			ev[f.Number()] = EventProgress
		case logName:
			ev[f.Number()] = EventLog
		}
	}
	return ev
}

// messageFactory returns a constructor of empty md messages: the generated Go
// type when it is linked in, a dynamic message otherwise.
func messageFactory(md protoreflect.MessageDescriptor) func() proto.Message {
	var mt protoreflect.MessageType
	if t, err := protoregistry.GlobalTypes.FindMessageByName(md.FullName()); err == nil {
		mt = t
	} else {
		mt = dynamicpb.NewMessageType(md)
	}
	return func() proto.Message { return mt.New().Interface() }
}

// snakeCase turns a method name such as SearchDocuments or GetHTTPStatus
// into search_documents or get_http_status.
func snakeCase(s string) string {
	r := []rune(s)
	var b strings.Builder
	for i, c := range r {
		if unicode.IsUpper(c) {
			if i > 0 {
				prev := r[i-1]
				nextLower := i+1 < len(r) && unicode.IsLower(r[i+1])
				if unicode.IsLower(prev) || unicode.IsDigit(prev) || (unicode.IsUpper(prev) && nextLower) {
					b.WriteByte('_')
				}
			}
			b.WriteRune(unicode.ToLower(c))
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

// String returns "unary", "server_stream" or "bidi_stream".
func (k Kind) String() string {
	switch k {
	case Unary:
		return "unary"
	case ServerStream:
		return "server_stream"
	case BidiStream:
		return "bidi_stream"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// String returns "last" or "collect".
func (m StreamMode) String() string {
	switch m {
	case StreamLast:
		return "last"
	case StreamCollect:
		return "collect"
	}
	return fmt.Sprintf("StreamMode(%d)", int(m))
}

// toolJSON is one entry of [Catalog.JSON].
type toolJSON struct {
	Name           string           `json:"name"`
	Title          string           `json:"title,omitempty"`
	Description    string           `json:"description"`
	Annotations    *annotationsJSON `json:"annotations,omitempty"`
	Method         string           `json:"method"`
	Kind           string           `json:"kind"`
	InputSchema    json.RawMessage  `json:"inputSchema"`
	OutputSchema   json.RawMessage  `json:"outputSchema,omitempty"`
	DefaultTimeout string           `json:"defaultTimeout,omitempty"`
	MaxTimeout     string           `json:"maxTimeout,omitempty"`
	Scopes         []string         `json:"scopes,omitempty"`
	RateClass      string           `json:"rateClass"`
	RateCost       int              `json:"rateCost"`
	MaxConcurrency int              `json:"maxConcurrency,omitempty"`
}

// annotationsJSON uses MCP's names for the hints.
type annotationsJSON struct {
	ReadOnly    *bool `json:"readOnlyHint,omitempty"`
	Destructive *bool `json:"destructiveHint,omitempty"`
	Idempotent  *bool `json:"idempotentHint,omitempty"`
	OpenWorld   *bool `json:"openWorldHint,omitempty"`
}

// JSON returns the catalog as an indented JSON array, one object per tool in
// name order, with name, title, description, annotations (MCP hint names),
// method, kind, inputSchema, outputSchema, defaultTimeout and maxTimeout
// (Go duration strings, omitted when zero), scopes (omitted when none),
// rateClass and rateCost, and maxConcurrency (omitted when zero). It is what
// `toolwire tools` prints.
func (c *Catalog) JSON() ([]byte, error) {
	out := make([]toolJSON, 0, len(c.tools))
	for _, t := range c.tools {
		j := toolJSON{
			Name:           t.Name,
			Title:          t.Title,
			Description:    t.Description,
			Method:         t.FullMethod,
			Kind:           t.Kind.String(),
			InputSchema:    t.InputSchema,
			OutputSchema:   t.OutputSchema,
			Scopes:         t.Scopes,
			RateClass:      t.RateClass,
			RateCost:       t.RateCost,
			MaxConcurrency: t.MaxConcurrency,
		}
		if a := t.Annotations; a != (Annotations{}) {
			j.Annotations = &annotationsJSON{a.ReadOnly, a.Destructive, a.Idempotent, a.OpenWorld}
		}
		if t.DefaultTimeout > 0 {
			j.DefaultTimeout = t.DefaultTimeout.String()
		}
		if t.MaxTimeout > 0 {
			j.MaxTimeout = t.MaxTimeout.String()
		}
		out = append(out, j)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return nil, fmt.Errorf("catalog: %w", err)
	}
	return buf.Bytes(), nil
}
