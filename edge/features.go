package edge

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/toolwire/toolwire/edge/bridge"
	"github.com/toolwire/toolwire/edge/catalog"
	mcpv1 "github.com/toolwire/toolwire/gen/go/toolwire/mcp/v1"
)

// features serves the catalog's resources, prompts, completions and
// resource subscriptions on the SDK's server, each request a gRPC call of
// the backend that declares it (catalog/features.go). The edge holds none of
// their logic.
type features struct {
	// cat is the catalog served, swapped whole when it changes
	// (setCatalog); handlers find their prompt or resource in it by name.
	cat    atomic.Pointer[catalog.Catalog]
	rpc    *bridge.Features
	server *mcp.Server
	logger *slog.Logger
	// sealer seals the requestState of bidi prompts and resources on
	// 2026-07-28, as the bridge does for tools.
	sealer *bridge.Sealer

	// watches are the resource update streams, one per resource_updates
	// RPC (by full method name), started by the first subscription to one
	// of its service's resources and kept until the edge closes or the RPC
	// leaves the catalog.
	mu      sync.Mutex
	watches map[string]bool
	ctx     context.Context
	stop    context.CancelFunc
}

func newFeatures(cat *catalog.Catalog, rpc *bridge.Features, logger *slog.Logger) *features {
	ctx, stop := context.WithCancel(context.Background())
	f := &features{rpc: rpc, logger: logger, watches: map[string]bool{}, ctx: ctx, stop: stop}
	f.cat.Store(cat)
	return f
}

// serverOptions sets the SDK options the catalog's features need.
func (f *features) serverOptions(o *mcp.ServerOptions) {
	cat := f.cat.Load()
	if len(cat.Prompts()) > 0 {
		o.HasPrompts = true
	}
	if len(cat.Resources()) > 0 {
		o.HasResources = true
	}
	if cat.HasCompletions() {
		o.CompletionHandler = f.complete
	}
	if len(cat.ResourceWatches()) > 0 {
		o.SubscribeHandler = f.subscribe
		o.UnsubscribeHandler = f.unsubscribe
	}
}

// add registers the catalog's resources, templates and prompts on s.
func (f *features) add(s *mcp.Server) {
	f.server = s
	f.register(catalog.Empty(), f.cat.Load())
}

// setCatalog serves cat's resources, templates and prompts instead of the
// current catalog's, reporting which lists changed. The SDK notifies its
// sessions of each change (Server.AddPrompt and friends).
func (f *features) setCatalog(cat *catalog.Catalog) (prompts, resources bool) {
	old := f.cat.Swap(cat)
	return f.register(old, cat)
}

// register changes the SDK's resources, templates and prompts from old's
// to cat's: what left is removed, what is new or listed differently is
// added. Handlers look their prompt or resource up in the current catalog,
// so one whose listing is the same needs nothing.
func (f *features) register(old, cat *catalog.Catalog) (prompts, resources bool) {
	s := f.server
	was := map[string][]byte{}
	for _, r := range old.Resources() {
		was[resourceKey(r)] = mustMarshal(mcpResource(r))
	}
	now := map[string]bool{}
	for _, r := range cat.Resources() {
		k := resourceKey(r)
		now[k] = true
		listing := mcpResource(r)
		if prev, ok := was[k]; ok && bytes.Equal(prev, mustMarshal(listing)) {
			continue
		}
		resources = true
		h := f.readHandler(r.URITemplate, r.IsTemplate())
		if t, ok := listing.(*mcp.ResourceTemplate); ok {
			s.AddResourceTemplate(t, h)
		} else {
			s.AddResource(listing.(*mcp.Resource), h)
		}
	}
	for _, r := range old.Resources() {
		if now[resourceKey(r)] {
			continue
		}
		resources = true
		if r.IsTemplate() {
			s.RemoveResourceTemplates(r.URITemplate)
		} else {
			s.RemoveResources(r.URITemplate)
		}
	}
	was = map[string][]byte{}
	for _, p := range old.Prompts() {
		was[p.Name] = mustMarshal(mcpPrompt(p))
	}
	for _, p := range cat.Prompts() {
		mp := mcpPrompt(p)
		if prev, ok := was[p.Name]; ok && bytes.Equal(prev, mustMarshal(mp)) {
			delete(was, p.Name)
			continue
		}
		delete(was, p.Name)
		prompts = true
		s.AddPrompt(mp, f.promptHandler(p.Name))
	}
	for name := range was {
		prompts = true
		s.RemovePrompts(name)
	}
	return prompts, resources
}

// resourceKey names a resource or template among both.
func resourceKey(r *catalog.Resource) string {
	if r.IsTemplate() {
		return "template " + r.URITemplate
	}
	return "uri " + r.URITemplate
}

// mcpResource is r's listing: a *mcp.Resource or a *mcp.ResourceTemplate.
func mcpResource(r *catalog.Resource) any {
	if r.IsTemplate() {
		return &mcp.ResourceTemplate{
			Name: r.Name, Title: r.Title, Description: r.Description, MIMEType: r.MIMEType, URITemplate: r.URITemplate,
		}
	}
	return &mcp.Resource{
		Name: r.Name, Title: r.Title, Description: r.Description, MIMEType: r.MIMEType, URI: r.URITemplate,
	}
}

func mcpPrompt(p *catalog.Prompt) *mcp.Prompt {
	mp := &mcp.Prompt{Name: p.Name, Title: p.Title, Description: p.Description}
	for _, a := range p.Arguments {
		mp.Arguments = append(mp.Arguments, &mcp.PromptArgument{Name: a.Name, Description: a.Description, Required: a.Required})
	}
	return mp
}

// resource returns the current catalog's resource (template or not) of
// uriTemplate, or nil once it has left the catalog.
func (f *features) resource(uriTemplate string, template bool) *catalog.Resource {
	for _, r := range f.cat.Load().Resources() {
		if r.URITemplate == uriTemplate && r.IsTemplate() == template {
			return r
		}
	}
	return nil
}

// close stops the resource update streams.
func (f *features) close() { f.stop() }

func header(extra *mcp.RequestExtra) http.Header {
	if extra == nil {
		return nil
	}
	return extra.Header
}

// readHandler serves resources/read for the resource (or template) of
// uriTemplate, as the current catalog defines it.
func (f *features) readHandler(uriTemplate string, template bool) mcp.ResourceHandler {
	return func(ctx context.Context, req *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
		uri := req.Params.URI
		r := f.resource(uriTemplate, template)
		if r == nil {
			return nil, mcp.ResourceNotFoundError(uri)
		}
		in, ok := r.Request(uri)
		if !ok {
			return nil, mcp.ResourceNotFoundError(uri)
		}
		what := "resources/read " + uri
		var res protoreflect.Message
		if r.Kind == catalog.BidiStream {
			m, err := f.interact(ctx, &r.Method, what, interaction{req.Session, req.Extra, req.Params.RequestState, req.Params.InputResponses, req.ClientCapabilities()}, in)
			var ir *bridge.InputRequiredError
			if errors.As(err, &ir) {
				return &mcp.ReadResourceResult{InputRequests: ir.Requests, RequestState: ir.State}, nil
			}
			if err != nil {
				return nil, err
			}
			res = m
		} else {
			out := r.NewResponse()
			if err := f.rpc.Invoke(ctx, &r.Method, what, header(req.Extra), bridge.CapabilitiesOf(req.ClientCapabilities()), in, out); err != nil {
				if status.Code(err) == codes.NotFound {
					return nil, mcp.ResourceNotFoundError(uri)
				}
				return nil, f.rpc.Error(what, err)
			}
			res = out.ProtoReflect()
		}
		out, err := bridge.ReadResult(res)
		if err != nil {
			f.logger.Error("a backend's resource contents are malformed", "rpc", r.FullMethod, "uri", uri, "error", err)
			return nil, &jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: fmt.Sprintf("%s: the backend's answer is malformed: %v", what, err)}
		}
		return out, nil
	}
}

// promptHandler serves prompts/get for the prompt called name, as the
// current catalog defines it.
func (f *features) promptHandler(name string) mcp.PromptHandler {
	return func(ctx context.Context, req *mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
		p := f.cat.Load().Prompt(name)
		if p == nil {
			// As the SDK answers a prompt it does not know.
			return nil, &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: fmt.Sprintf("unknown prompt %q", name)}
		}
		in, err := p.Request(req.Params.Arguments)
		if err != nil {
			return nil, &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: err.Error()}
		}
		what := "prompts/get " + p.Name
		var res protoreflect.Message
		if p.Kind == catalog.BidiStream {
			m, err := f.interact(ctx, &p.Method, what, interaction{req.Session, req.Extra, req.Params.RequestState, req.Params.InputResponses, req.ClientCapabilities()}, in)
			var ir *bridge.InputRequiredError
			if errors.As(err, &ir) {
				return &mcp.GetPromptResult{InputRequests: ir.Requests, RequestState: ir.State}, nil
			}
			if err != nil {
				return nil, err
			}
			res = m
		} else {
			out := p.NewResponse()
			if err := f.rpc.Invoke(ctx, &p.Method, what, header(req.Extra), bridge.CapabilitiesOf(req.ClientCapabilities()), in, out); err != nil {
				return nil, f.rpc.Error(what, err)
			}
			res = out.ProtoReflect()
		}
		out, err := bridge.PromptResult(res)
		if err != nil {
			f.logger.Error("a backend's prompt is malformed", "rpc", p.FullMethod, "error", err)
			return nil, &jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: fmt.Sprintf("%s: the backend's answer is malformed: %v", what, err)}
		}
		return out, nil
	}
}

// interaction is what a bidi feature request brings to its input rounds.
type interaction struct {
	session   *mcp.ServerSession
	extra     *mcp.RequestExtra
	state     string
	responses mcp.InputResponseMap
	caps      *mcp.ClientCapabilities
}

// interact runs a bidi feature RPC that may ask its client for input
// (bridge.Interact), with the asker the request's revision calls for
// (bridge.RequestAsker): server-to-client requests on a session, the
// multi-round-trip protocol on 2026-07-28. It returns the result field of
// the last message that set it; a 2026-07-28 request that needs input
// returns a *bridge.InputRequiredError.
func (f *features) interact(ctx context.Context, m *catalog.Method, what string, it interaction, in proto.Message) (protoreflect.Message, error) {
	caps := bridge.CapabilitiesOf(it.caps)
	asker, err := bridge.RequestAsker(ctx, it.session, f.sealer, what, in, it.state, it.responses, caps)
	if err != nil {
		return nil, err
	}
	conn, callCtx, cancel, err := f.rpc.Conn(ctx, m, what, header(it.extra), caps)
	if err != nil {
		return nil, err
	}
	defer cancel()
	var result protoreflect.Message
	err = bridge.Interact(callCtx, conn, m.FullMethod, in, m.NewRequest, m.NewResponse, m.Asks, m.Answers, asker,
		func(msg protoreflect.Message) error {
			if msg.Has(m.Result) {
				result = msg.Get(m.Result).Message()
			}
			return nil
		})
	var ir *bridge.InputRequiredError
	switch {
	case errors.As(err, &ir):
		return nil, ir
	case err != nil:
		return nil, f.rpc.Error(what, err)
	case result == nil:
		return nil, &jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: what + ": the backend ended the stream without a result"}
	}
	return result, nil
}

// complete serves completion/complete: the completion RPC of the service
// that declares the referenced prompt or resource template. A reference to
// something whose service completes nothing gets no values.
func (f *features) complete(ctx context.Context, req *mcp.CompleteRequest) (*mcp.CompleteResult, error) {
	ref := req.Params.Ref
	if ref == nil {
		return nil, &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: "completion/complete: ref is missing"}
	}
	in := &mcpv1.CompleteRequest{Argument: req.Params.Argument.Name, Value: req.Params.Argument.Value}
	if c := req.Params.Context; c != nil && len(c.Arguments) > 0 {
		in.Context = c.Arguments
	}
	var svc protoreflect.FullName
	switch ref.Type {
	case "ref/prompt":
		p := f.cat.Load().Prompt(ref.Name)
		if p == nil {
			return nil, &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: fmt.Sprintf("completion/complete: unknown prompt %q", ref.Name)}
		}
		in.Ref = &mcpv1.CompleteRequest_Prompt{Prompt: ref.Name}
		svc = p.Desc.Parent().FullName()
	case "ref/resource":
		for _, r := range f.cat.Load().Resources() {
			if r.URITemplate == ref.URI {
				svc = r.Desc.Parent().FullName()
			}
		}
		if svc == "" {
			return nil, &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: fmt.Sprintf("completion/complete: unknown resource template %q", ref.URI)}
		}
		in.Ref = &mcpv1.CompleteRequest_ResourceTemplate{ResourceTemplate: ref.URI}
	default:
		return nil, &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: fmt.Sprintf("completion/complete: unknown ref type %q", ref.Type)}
	}
	m := f.cat.Load().Completion(svc)
	if m == nil {
		return &mcp.CompleteResult{Completion: mcp.CompletionResultDetails{Values: []string{}}}, nil
	}
	out := m.NewResponse()
	if err := f.rpc.Invoke(ctx, m, "completion/complete", header(req.Extra), bridge.CapabilitiesOf(req.ClientCapabilities()), in, out); err != nil {
		return nil, f.rpc.Error("completion/complete", err)
	}
	res, err := bridge.CompleteResult(out.ProtoReflect())
	if err != nil {
		return nil, &jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: fmt.Sprintf("completion/complete: the backend's answer is malformed: %v", err)}
	}
	return res, nil
}

// subscribe serves resources/subscribe: the SDK keeps the session's
// subscription; the edge makes sure the update stream of the resource's
// service runs.
func (f *features) subscribe(ctx context.Context, req *mcp.SubscribeRequest) error {
	w, err := f.watchFor(req.Params.URI)
	if err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.watches[w.FullMethod] {
		f.watches[w.FullMethod] = true
		go f.watch(w.FullMethod)
	}
	return nil
}

// unsubscribe serves resources/unsubscribe; the SDK forgets the
// subscription, and the update stream stays for the next subscriber.
func (f *features) unsubscribe(ctx context.Context, req *mcp.UnsubscribeRequest) error {
	_, err := f.watchFor(req.Params.URI)
	return err
}

// watchFor finds the update stream of the service that serves uri.
func (f *features) watchFor(uri string) (*catalog.ResourceWatch, error) {
	cat := f.cat.Load()
	r, _, ok := cat.ReadRequest(uri)
	if !ok {
		return nil, mcp.ResourceNotFoundError(uri)
	}
	svc := r.Desc.Parent().FullName()
	for _, w := range cat.ResourceWatches() {
		if w.Service == svc {
			return w, nil
		}
	}
	return nil, &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: fmt.Sprintf("resources/subscribe: %s sends no updates of %s (its service has no resource_updates RPC)", svc, uri)}
}

// watch keeps the stream of the resource_updates RPC fullMethod open until
// the edge closes or the RPC leaves the catalog, reopening it with backoff
// when it fails or ends, and turns each ResourceUpdated into
// notifications/resources/updated for the sessions subscribed to the URI.
func (f *features) watch(fullMethod string) {
	defer func() {
		f.mu.Lock()
		delete(f.watches, fullMethod)
		f.mu.Unlock()
	}()
	delay := 100 * time.Millisecond
	for f.ctx.Err() == nil {
		w := f.currentWatch(fullMethod)
		if w == nil {
			return
		}
		start := time.Now()
		err := f.watchOnce(w)
		if f.ctx.Err() != nil {
			return
		}
		if time.Since(start) > time.Minute {
			delay = 100 * time.Millisecond
		}
		f.logger.Warn("resource update stream ended; reopening", "rpc", w.FullMethod, "error", err, "retry_in", delay)
		select {
		case <-f.ctx.Done():
			return
		case <-time.After(delay):
		}
		delay = min(2*delay, 30*time.Second)
	}
}

// currentWatch returns the current catalog's resource_updates RPC
// fullMethod, nil if it has left it.
func (f *features) currentWatch(fullMethod string) *catalog.ResourceWatch {
	for _, w := range f.cat.Load().ResourceWatches() {
		if w.FullMethod == fullMethod {
			return w
		}
	}
	return nil
}

func (f *features) watchOnce(w *catalog.ResourceWatch) error {
	conn, ctx, cancel, err := f.rpc.Conn(f.ctx, &w.Method, "resources/subscribe", nil, 0)
	if err != nil {
		return err
	}
	defer cancel()
	// The stream lives as long as the edge, not the feature deadline.
	ctx, cancelStream := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelStream()
	stop := context.AfterFunc(f.ctx, cancelStream)
	defer stop()
	cs, err := bridge.OpenServerStream(ctx, conn, w.FullMethod, &mcpv1.WatchResourcesRequest{})
	if err != nil {
		return err
	}
	for {
		msg := w.NewResponse()
		if err := cs.RecvMsg(msg); err != nil {
			if errors.Is(err, io.EOF) {
				return errors.New("the backend ended the stream")
			}
			return err
		}
		u, err := asUpdated(msg)
		if err != nil || u.GetUri() == "" {
			continue
		}
		if err := f.server.ResourceUpdated(f.ctx, &mcp.ResourceUpdatedNotificationParams{URI: u.GetUri()}); err != nil {
			f.logger.Debug("notifying a resource update failed", "uri", u.GetUri(), "error", err)
		}
	}
}

func asUpdated(m proto.Message) (*mcpv1.ResourceUpdated, error) {
	if u, ok := m.(*mcpv1.ResourceUpdated); ok {
		return u, nil
	}
	b, err := proto.Marshal(m)
	if err != nil {
		return nil, err
	}
	u := &mcpv1.ResourceUpdated{}
	return u, proto.Unmarshal(b, u)
}
