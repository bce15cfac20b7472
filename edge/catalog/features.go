package catalog

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"

	mcpv1 "github.com/toolwire/toolwire/gen/go/toolwire/mcp/v1"
	"github.com/toolwire/toolwire/protodoc"
)

// This file builds the catalog's MCP features other than tools: resources
// and resource templates, prompts, argument completion and resource update
// streams, each declared by a method option (options.proto).

// Method is what every RPC the catalog serves carries: the descriptor, the
// gRPC path, the streaming shape, and, for a bidi RPC that asks the client
// for input, the fields of the questions and the answers.
type Method struct {
	Desc       protoreflect.MethodDescriptor
	FullMethod string
	Kind       Kind
	// Asks is the response field of type toolwire.mcp.v1.InputRequests and
	// Answers the request field of type toolwire.mcp.v1.InputResponses; nil
	// unless the RPC is bidi-streaming and asks for input.
	Asks, Answers protoreflect.FieldDescriptor
	// Result is the response field that holds the result (a
	// toolwire.mcp.v1.ResourceResult or PromptResult); nil when the response
	// is the result itself.
	Result protoreflect.FieldDescriptor
	// Scopes are the OAuth scopes a caller must hold, every one.
	Scopes []string

	newIn, newOut func() proto.Message
}

// NewRequest returns an empty request message.
func (m *Method) NewRequest() proto.Message { return m.newIn() }

// NewResponse returns an empty response message.
func (m *Method) NewResponse() proto.Message { return m.newOut() }

// Resource is an RPC served as an MCP resource (a fixed URI) or resource
// template (a URI template with variables).
type Resource struct {
	Method
	Name, Title, Description, MIMEType string
	// URITemplate is the URI, or the RFC 6570 template of simple {var}
	// expressions.
	URITemplate string
	// Vars are the template's variables, in order; none for a fixed URI.
	Vars []string

	match     *regexp.Regexp
	varFields []protoreflect.FieldDescriptor
}

// IsTemplate reports whether the resource is a template.
func (r *Resource) IsTemplate() bool { return len(r.Vars) > 0 }

// Prompt is an RPC served as an MCP prompt.
type Prompt struct {
	Method
	Name, Title, Description string
	Arguments                []PromptArgument

	argFields map[string]protoreflect.FieldDescriptor
}

// PromptArgument is one argument of a prompt: a string field of its request.
type PromptArgument struct {
	Name, Description string
	Required          bool
}

// ResourceWatch is a resource_updates RPC: a stream of the URIs of its
// service's resources that changed.
type ResourceWatch struct {
	Method
	Service protoreflect.FullName
}

var (
	resourceResultName = (&mcpv1.ResourceResult{}).ProtoReflect().Descriptor().FullName()
	promptResultName   = (&mcpv1.PromptResult{}).ProtoReflect().Descriptor().FullName()
	completeReqName    = (&mcpv1.CompleteRequest{}).ProtoReflect().Descriptor().FullName()
	completeResName    = (&mcpv1.CompleteResult{}).ProtoReflect().Descriptor().FullName()
	watchReqName       = (&mcpv1.WatchResourcesRequest{}).ProtoReflect().Descriptor().FullName()
	updatedName        = (&mcpv1.ResourceUpdated{}).ProtoReflect().Descriptor().FullName()
)

// featureOf reads the method's non-tool options: which feature, if any, it
// serves instead of being a tool.
func featureOf(md protoreflect.MethodDescriptor) (res *mcpv1.ResourceOptions, prompt *mcpv1.PromptOptions, completion, updates bool) {
	opts, _ := md.Options().(*descriptorpb.MethodOptions)
	if opts == nil {
		return nil, nil, false, false
	}
	res, _ = proto.GetExtension(opts, mcpv1.E_Resource).(*mcpv1.ResourceOptions)
	prompt, _ = proto.GetExtension(opts, mcpv1.E_Prompt).(*mcpv1.PromptOptions)
	completion, _ = proto.GetExtension(opts, mcpv1.E_Completion).(bool)
	updates, _ = proto.GetExtension(opts, mcpv1.E_ResourceUpdates).(bool)
	if !proto.HasExtension(opts, mcpv1.E_Resource) {
		res = nil
	}
	if !proto.HasExtension(opts, mcpv1.E_Prompt) {
		prompt = nil
	}
	return res, prompt, completion, updates
}

// isFeature reports whether md carries a non-tool feature option.
func isFeature(md protoreflect.MethodDescriptor) bool {
	r, p, c, u := featureOf(md)
	return r != nil || p != nil || c || u
}

// addFeature adds the feature md declares to c.
func (c *Catalog) addFeature(md protoreflect.MethodDescriptor) error {
	res, prompt, completion, updates := featureOf(md)
	n := 0
	for _, b := range []bool{res != nil, prompt != nil, completion, updates} {
		if b {
			n++
		}
	}
	if n > 1 {
		return fmt.Errorf("a method can be only one of a resource, a prompt, a completion and a resource_updates stream")
	}
	switch {
	case res != nil:
		r, err := newResource(md, res)
		if err != nil {
			return err
		}
		for _, o := range c.resources {
			if o.URITemplate == r.URITemplate {
				return fmt.Errorf("resource %q is also served by %s", r.URITemplate, o.Desc.FullName())
			}
		}
		c.resources = append(c.resources, r)
	case prompt != nil:
		p, err := newPrompt(md, prompt)
		if err != nil {
			return err
		}
		if o := c.Prompt(p.Name); o != nil {
			return fmt.Errorf("prompt name %q is used by both %s and %s", p.Name, o.Desc.FullName(), md.FullName())
		}
		c.prompts = append(c.prompts, p)
	case completion:
		if md.Input().FullName() != completeReqName || md.Output().FullName() != completeResName || md.IsStreamingClient() || md.IsStreamingServer() {
			return fmt.Errorf("a completion RPC is unary, from %s to %s", completeReqName, completeResName)
		}
		svc := md.Parent().FullName()
		if o, ok := c.completions[svc]; ok {
			return fmt.Errorf("service %s has two completion RPCs: %s and %s", svc, o.Desc.Name(), md.Name())
		}
		c.completions[svc] = method(md, nil)
	case updates:
		if md.Input().FullName() != watchReqName || md.Output().FullName() != updatedName || md.IsStreamingClient() || !md.IsStreamingServer() {
			return fmt.Errorf("a resource_updates RPC is server-streaming, from %s to a stream of %s", watchReqName, updatedName)
		}
		c.watches = append(c.watches, &ResourceWatch{Method: *method(md, nil), Service: md.Parent().FullName()})
	}
	return nil
}

// method builds the common part of a feature RPC.
func method(md protoreflect.MethodDescriptor, scopes []string) *Method {
	m := &Method{
		Desc:       md,
		FullMethod: "/" + string(md.Parent().FullName()) + "/" + string(md.Name()),
		Scopes:     slices.Clone(scopes),
		newIn:      messageFactory(md.Input()),
		newOut:     messageFactory(md.Output()),
	}
	switch {
	case md.IsStreamingClient() && md.IsStreamingServer():
		m.Kind = BidiStream
	case md.IsStreamingServer():
		m.Kind = ServerStream
	}
	return m
}

// resultMethod builds a resource or prompt RPC: unary with the result type
// as its response, or bidi-streaming, asking for input, with a response
// that has a field of the result type beside the input requests.
func resultMethod(md protoreflect.MethodDescriptor, result protoreflect.FullName, scopes []string) (*Method, error) {
	m := method(md, scopes)
	switch m.Kind {
	case Unary:
		if md.Output().FullName() != result {
			return nil, fmt.Errorf("the response must be %s, not %s", result, md.Output().FullName())
		}
	case BidiStream:
		m.Asks = fieldOf(md.Output(), inputRequestsName, false)
		m.Answers = fieldOf(md.Input(), inputResponsesName, false)
		m.Result = fieldOf(md.Output(), result, false)
		if m.Asks == nil || m.Answers == nil || m.Result == nil {
			return nil, fmt.Errorf("a bidi-streaming RPC here needs a response with fields of types %s and %s, and a request with a field of type %s",
				result, inputRequestsName, inputResponsesName)
		}
	default:
		return nil, fmt.Errorf("must be unary, or bidi-streaming to ask for input")
	}
	return m, nil
}

// templateVar is an RFC 6570 simple expression; toolwire supports only
// those (level 1), which is what MCP's resource templates use in practice.
var templateVar = regexp.MustCompile(`\{([A-Za-z0-9_]+)\}`)

func newResource(md protoreflect.MethodDescriptor, opt *mcpv1.ResourceOptions) (*Resource, error) {
	m, err := resultMethod(md, resourceResultName, opt.GetScopes())
	if err != nil {
		return nil, fmt.Errorf("resource: %w", err)
	}
	r := &Resource{
		Method:      *m,
		Name:        opt.GetName(),
		Title:       opt.GetTitle(),
		Description: opt.GetDescription(),
		MIMEType:    opt.GetMimeType(),
		URITemplate: opt.GetUriTemplate(),
	}
	if r.Name == "" {
		r.Name = snakeCase(string(md.Name()))
	}
	if r.Description == "" {
		r.Description = protodoc.Leading(md)
	}
	if r.Description == "" {
		r.Description = cmpOr(r.Title, r.Name)
	}
	if r.URITemplate == "" {
		return nil, fmt.Errorf("resource: uri_template is empty")
	}
	if strings.ContainsAny(templateVar.ReplaceAllString(r.URITemplate, ""), "{}") {
		return nil, fmt.Errorf("resource: uri_template %q: only simple {var} expressions are supported", r.URITemplate)
	}
	if _, err := url.Parse(templateVar.ReplaceAllString(r.URITemplate, "x")); err != nil {
		return nil, fmt.Errorf("resource: uri_template %q is no URI: %w", r.URITemplate, err)
	}
	pattern := "^"
	rest := r.URITemplate
	prev := 0
	for _, loc := range templateVar.FindAllStringSubmatchIndex(rest, -1) {
		name := rest[loc[2]:loc[3]]
		if slices.Contains(r.Vars, name) {
			return nil, fmt.Errorf("resource: uri_template %q repeats {%s}", r.URITemplate, name)
		}
		f := md.Input().Fields().ByName(protoreflect.Name(name))
		if f == nil {
			f = md.Input().Fields().ByJSONName(name)
		}
		if f == nil || f.Kind() != protoreflect.StringKind || f.IsList() || f.IsMap() {
			return nil, fmt.Errorf("resource: uri_template variable {%s} needs a string field %q in %s", name, name, md.Input().FullName())
		}
		r.Vars = append(r.Vars, name)
		r.varFields = append(r.varFields, f)
		// A simple expression's value is percent-encoded, so it holds no
		// reserved character such as '/'.
		pattern += regexp.QuoteMeta(rest[prev:loc[0]]) + `([^/?#]+)`
		prev = loc[1]
	}
	pattern += regexp.QuoteMeta(rest[prev:]) + "$"
	r.match = regexp.MustCompile(pattern)
	return r, nil
}

// Request returns the request that reads uri, with the template's
// variables set, if the resource serves uri.
func (r *Resource) Request(uri string) (proto.Message, bool) {
	m := r.match.FindStringSubmatch(uri)
	if m == nil {
		return nil, false
	}
	req := r.NewRequest()
	pr := req.ProtoReflect()
	for i, f := range r.varFields {
		v, err := url.PathUnescape(m[i+1])
		if err != nil {
			return nil, false
		}
		pr.Set(f, protoreflect.ValueOfString(v))
	}
	return req, true
}

func newPrompt(md protoreflect.MethodDescriptor, opt *mcpv1.PromptOptions) (*Prompt, error) {
	m, err := resultMethod(md, promptResultName, opt.GetScopes())
	if err != nil {
		return nil, fmt.Errorf("prompt: %w", err)
	}
	p := &Prompt{
		Method:      *m,
		Name:        opt.GetName(),
		Title:       opt.GetTitle(),
		Description: opt.GetDescription(),
		argFields:   map[string]protoreflect.FieldDescriptor{},
	}
	if p.Name == "" {
		p.Name = snakeCase(string(md.Name()))
	}
	if !namePattern.MatchString(p.Name) {
		return nil, fmt.Errorf("prompt name %q does not match %s", p.Name, namePattern)
	}
	if p.Description == "" {
		p.Description = protodoc.Leading(md)
	}
	if p.Description == "" {
		p.Description = cmpOr(p.Title, p.Name)
	}
	fields := md.Input().Fields()
	for i := range fields.Len() {
		f := fields.Get(i)
		if f == m.Answers {
			continue
		}
		if f.Kind() != protoreflect.StringKind || f.IsList() || f.IsMap() {
			return nil, fmt.Errorf("prompt: argument %s must be a string field (prompt arguments are strings)", f.Name())
		}
		name := f.JSONName()
		p.Arguments = append(p.Arguments, PromptArgument{Name: name, Description: protodoc.Leading(f), Required: fieldRequired(f)})
		p.argFields[name] = f
		p.argFields[string(f.Name())] = f
	}
	return p, nil
}

// Request builds the prompt's request from its arguments. An unknown
// argument, or a missing required one, is an error that names it.
func (p *Prompt) Request(args map[string]string) (proto.Message, error) {
	req := p.NewRequest()
	pr := req.ProtoReflect()
	for k, v := range args {
		f, ok := p.argFields[k]
		if !ok {
			return nil, fmt.Errorf("prompt %s has no argument %q", p.Name, k)
		}
		pr.Set(f, protoreflect.ValueOfString(v))
	}
	for _, a := range p.Arguments {
		if a.Required && pr.Get(p.argFields[a.Name]).String() == "" {
			return nil, fmt.Errorf("prompt %s: argument %q is required", p.Name, a.Name)
		}
	}
	return req, nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// Resources returns every resource and template, fixed URIs first, each
// group in URI order.
func (c *Catalog) Resources() []*Resource { return slices.Clone(c.resources) }

// ReadRequest finds the resource that serves uri: a fixed URI first, then
// the first template, in URI template order, that matches it. It returns
// the request that reads it.
func (c *Catalog) ReadRequest(uri string) (*Resource, proto.Message, bool) {
	for _, r := range c.resources {
		if req, ok := r.Request(uri); ok {
			return r, req, true
		}
	}
	return nil, nil, false
}

// Prompts returns every prompt, by name.
func (c *Catalog) Prompts() []*Prompt { return slices.Clone(c.prompts) }

// Prompt returns the prompt called name, or nil.
func (c *Catalog) Prompt(name string) *Prompt {
	for _, p := range c.prompts {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// Completion returns the completion RPC of service svc, or nil.
func (c *Catalog) Completion(svc protoreflect.FullName) *Method { return c.completions[svc] }

// HasCompletions reports whether any service completes arguments.
func (c *Catalog) HasCompletions() bool { return len(c.completions) > 0 }

// ResourceWatches returns the resource_updates RPCs.
func (c *Catalog) ResourceWatches() []*ResourceWatch { return slices.Clone(c.watches) }

// Services returns the services whose RPCs the catalog serves, tools and
// features alike, in name order.
func (c *Catalog) Services() []protoreflect.FullName {
	var out []protoreflect.FullName
	add := func(md protoreflect.MethodDescriptor) {
		if n := md.Parent().FullName(); !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	for _, t := range c.tools {
		add(t.Method)
	}
	for _, r := range c.resources {
		add(r.Desc)
	}
	for _, p := range c.prompts {
		add(p.Desc)
	}
	for _, m := range c.completions {
		add(m.Desc)
	}
	for _, w := range c.watches {
		add(w.Desc)
	}
	slices.Sort(out)
	return out
}

// sortFeatures puts features in their listing order.
func (c *Catalog) sortFeatures() {
	slices.SortFunc(c.resources, func(a, b *Resource) int {
		if a.IsTemplate() != b.IsTemplate() {
			if a.IsTemplate() {
				return 1
			}
			return -1
		}
		return strings.Compare(a.URITemplate, b.URITemplate)
	})
	slices.SortFunc(c.prompts, func(a, b *Prompt) int { return strings.Compare(a.Name, b.Name) })
}
