package bridge

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/toolwire/toolwire/edge/catalog"
	"github.com/toolwire/toolwire/edge/observe"
	"github.com/toolwire/toolwire/edge/policy/authn"
	"github.com/toolwire/toolwire/internal/credential"
)

// Defaults for [Options].
const (
	DefaultTimeout = 60 * time.Second
	MaxTimeout     = 10 * time.Minute
)

// Resolver finds the connection to the backend that serves a service.
type Resolver func(service protoreflect.FullName) (grpc.ClientConnInterface, bool)

// Options configure a [Bridge]. The zero value is usable.
type Options struct {
	// DefaultTimeout is a call's deadline when neither the tool nor the client
	// sets one; zero means [DefaultTimeout].
	DefaultTimeout time.Duration
	// MaxTimeout caps every deadline; zero means [MaxTimeout].
	MaxTimeout time.Duration
	// Metrics records tool calls; nil means metrics on the default registry.
	Metrics *observe.Metrics
	// Logger logs failures of the edge itself; nil means slog.Default().
	Logger *slog.Logger
	// Barrier, if set, runs before the result of a call that forwarded
	// events, to make sure the client has taken them in first (see
	// edge.Edge's barrier).
	Barrier func(ctx context.Context, req *mcp.CallToolRequest)
	// RequirePrincipal refuses calls whose context carries no
	// authenticated principal (authn.FromContext) with [CodeUnauthenticated].
	// Without it such calls are trusted local use (stdio, an edge without
	// authentication) and skip the scope check.
	RequirePrincipal bool
	// Credentials, if not nil, mints an internal credential for each call
	// that has a principal, for the tool's backend (audience: the tool's
	// gRPC service name), into the call's gRPC metadata. The client's own
	// token is never forwarded.
	Credentials *credential.Minter
	// Admit, if set, is asked for every call once it is authorized, before
	// its arguments are read or its backend called: it is where rate and
	// concurrency limits refuse calls (edge.Limits), on every transport and
	// both the SDK's and the fast path. A non-nil error refuses the call and
	// becomes its JSON-RPC error (use a *jsonrpc.Error for a code of your
	// own), unless ctx has ended, when the call is dropped. A non-nil release
	// runs when the call ends.
	Admit func(ctx context.Context, tool *catalog.Tool) (release func(), err error)
	// StateKey is the HMAC-SHA256 key that seals the requestState of
	// 2026-07-28 calls that need input (see mrtr.go). Every replica a
	// client's retry may reach must share it; nil means a random key for
	// this process, which suits one replica.
	StateKey []byte
	// StateTTL is how long a requestState stays valid; zero means
	// [DefaultStateTTL].
	StateTTL time.Duration
}

// Bridge serves a catalog's tools by calling their backends.
type Bridge struct {
	tools  []*boundTool
	logger *slog.Logger
	sealer *Sealer
	// opts are New's options, defaults applied, for [Bridge.With].
	opts Options
}

// boundTool is a tool with everything its calls need resolved up front.
type boundTool struct {
	tool           *catalog.Tool
	conn           grpc.ClientConnInterface
	metrics        *observe.ToolMetrics
	defaultTimeout time.Duration
	events         []eventField
	logger         *slog.Logger
	barrier        func(ctx context.Context, req *mcp.CallToolRequest)
	// requirePrincipal and minter are Options.RequirePrincipal and
	// Options.Credentials; audience is the tool's gRPC service name.
	requirePrincipal bool
	minter           *credential.Minter
	audience         string
	// admit is Options.Admit.
	admit func(ctx context.Context, tool *catalog.Tool) (release func(), err error)
	// in and out are the fast protojson paths of the request and response
	// messages, when they are flat (see transcode.go); nil otherwise.
	in, out *flatCodec
	// requests and responses hold empty messages for reuse (see recycle).
	requests, responses sync.Pool
	// sealer seals the requestState of 2026-07-28 calls of bidi tools.
	sealer *Sealer
}

type eventField struct {
	fd   protoreflect.FieldDescriptor
	kind catalog.EventKind
}

// New binds every tool of cat to its backend connection. It fails when a
// tool's service has no connection.
func New(cat *catalog.Catalog, resolve Resolver, opts *Options) (*Bridge, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.DefaultTimeout <= 0 {
		o.DefaultTimeout = DefaultTimeout
	}
	if o.MaxTimeout <= 0 {
		o.MaxTimeout = MaxTimeout
	}
	if o.Metrics == nil {
		o.Metrics = observe.NewMetrics(nil)
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return bind(cat, resolve, o, NewSealer(o.StateKey, o.StateTTL))
}

// With binds the tools of cat, a catalog that changed at run time, to the
// backends resolve finds, with b's options, metrics and sealer (so that a
// requestState sealed before the change still opens). b is left as it was:
// the calls it is serving finish on it.
func (b *Bridge) With(cat *catalog.Catalog, resolve Resolver) (*Bridge, error) {
	return bind(cat, resolve, b.opts, b.sealer)
}

// bind is New with o's defaults applied and the sealer chosen.
func bind(cat *catalog.Catalog, resolve Resolver, o Options, sealer *Sealer) (*Bridge, error) {
	b := &Bridge{logger: o.Logger, sealer: sealer, opts: o}
	for _, t := range cat.Tools() {
		svc := t.Method.Parent().FullName()
		conn, ok := resolve(svc)
		if !ok {
			return nil, fmt.Errorf("tool %s: no backend serves %s", t.Name, svc)
		}
		d := o.DefaultTimeout
		if t.DefaultTimeout > 0 {
			d = t.DefaultTimeout
		}
		d = min(d, o.MaxTimeout)
		if t.MaxTimeout > 0 {
			d = min(d, t.MaxTimeout)
		}
		bt := &boundTool{
			tool:             t,
			conn:             conn,
			metrics:          o.Metrics.Tool(t.Name),
			defaultTimeout:   d,
			logger:           o.Logger,
			barrier:          o.Barrier,
			requirePrincipal: o.RequirePrincipal,
			minter:           o.Credentials,
			audience:         string(svc),
			admit:            o.Admit,
			in:               newFlatCodec(t.Method.Input()),
			out:              newFlatCodec(t.Method.Output()),
			sealer:           b.sealer,
		}
		bt.requests.New = func() any { return t.NewRequest() }
		bt.responses.New = func() any { return t.NewResponse() }
		fields := t.Method.Output().Fields()
		for num, kind := range t.Events {
			bt.events = append(bt.events, eventField{fd: fields.ByNumber(num), kind: kind})
		}
		b.tools = append(b.tools, bt)
	}
	return b, nil
}

// Add registers every tool on s.
func (b *Bridge) Add(s *mcp.Server) {
	for _, bt := range b.tools {
		s.AddTool(bt.mcpTool(), bt.handle)
	}
}

// MCPTool returns the listing of the tool called name, as [Bridge.Add]
// registers it.
func (b *Bridge) MCPTool(name string) (*mcp.Tool, bool) {
	for _, bt := range b.tools {
		if bt.tool.Name == name {
			return bt.mcpTool(), true
		}
	}
	return nil, false
}

// Sealer returns the sealer of the bridge's requestState, for other
// requests that may need input on 2026-07-28 (prompts, resources): their
// states are sealed under the same key.
func (b *Bridge) Sealer() *Sealer { return b.sealer }

// ToolHandler returns the handler of the tool called name, the one Add
// registers, for callers that dispatch calls themselves, such as benchmarks.
func (b *Bridge) ToolHandler(name string) (mcp.ToolHandler, bool) {
	for _, bt := range b.tools {
		if bt.tool.Name == name {
			return bt.handle, true
		}
	}
	return nil, false
}

// dropMarker is the text of the result the bridge returns for a call whose
// client cancelled it or went away. MCP says no response is sent for a
// cancelled request, but the SDK writes whatever the handler returns; the
// edge's writers drop any message that carries this marker (see
// [DropMarker]). It is random per process, so no client can forge it.
var dropMarker = "toolwire-cancelled-" + rand.Text()

// DropMarker returns the text that marks a response as one to drop.
func DropMarker() string { return dropMarker }

func (bt *boundTool) mcpTool() *mcp.Tool {
	t := bt.tool
	a := &mcp.ToolAnnotations{
		Title:           t.Title,
		DestructiveHint: t.Annotations.Destructive,
		OpenWorldHint:   t.Annotations.OpenWorld,
	}
	if t.Annotations.ReadOnly != nil {
		a.ReadOnlyHint = *t.Annotations.ReadOnly
	}
	if t.Annotations.Idempotent != nil {
		a.IdempotentHint = *t.Annotations.Idempotent
	}
	mt := &mcp.Tool{
		Name:        t.Name,
		Title:       t.Title,
		Description: t.Description,
		Annotations: a,
		InputSchema: t.InputSchema,
	}
	// A tool whose result is only content blocks has no output schema; a
	// nil json.RawMessage in the interface would be "outputSchema": null.
	if len(t.OutputSchema) > 0 {
		mt.OutputSchema = t.OutputSchema
	}
	return mt
}

var (
	unmarshalOpts = protojson.UnmarshalOptions{}
	marshalOpts   = protojson.MarshalOptions{UseProtoNames: true}
	emptyArgs     = json.RawMessage("{}")
)

// Call is one tools/call as a transport hands it to the bridge: the SDK's
// handler builds one from its request, the edge's fast path from the raw
// body (see edge/fastpath.go).
type Call struct {
	// Args are the call's JSON arguments; empty or null means {}.
	Args json.RawMessage
	// Timeout is the client's deadline hint (_meta MetaTimeoutMs); zero
	// means none.
	Timeout time.Duration
	// Trace context and request id, as the client sent them: in _meta
	// (MetaTraceparent set) and in HTTP headers. See outgoing.
	MetaTraceparent, MetaTracestate    string
	HeaderRequestID, HeaderTraceparent string
	HeaderTracestate                   string
	// Caps are the client's capabilities ([CapabilitiesOf]): they go to the
	// backend in metadata, and a tool's required_client_capabilities are
	// checked against them. Without [CapsKnown] the call comes from no MCP
	// client, declares nothing, and the backend learns nothing.
	Caps Capabilities
	// Asker answers the input rounds of a bidi-streaming tool (a session's,
	// see [SessionAsker]); nil, when RoundTrip is nil too, answers every
	// request with an InputError.
	Asker Asker
	// RoundTrip, when set, makes the call a 2026-07-28 request whose input
	// rounds are answered by the multi-round-trip protocol (mrtr.go): the
	// bridge builds its asker itself, once the arguments are decoded, and
	// ignores Asker.
	RoundTrip *RoundTrip
}

// RoundTrip is what a 2026-07-28 tools/call carries for the
// multi-round-trip protocol.
type RoundTrip struct {
	// State is the requestState the client echoed; empty on a first call.
	State string
	// Responses are the client's inputResponses.
	Responses mcp.InputResponseMap
}

// Answer is how a call ended. Exactly one of these holds: Payload is set
// (success, on the JSON path), Result is set (a result built in full: a
// tool failure, an isError result; the result of a tool with content
// blocks; an input_required result), Err is set (a JSON-RPC error), or
// Dropped (the client cancelled or went away: nothing may be sent).
type Answer struct {
	// Payload is the structured result of a successful call, as JSON.
	Payload json.RawMessage
	// RequestID is the id the call carried to the backend.
	RequestID string
	Result    *mcp.CallToolResult
	Err       error
	Dropped   bool
	// Code is the backend's gRPC status code when the call failed with
	// one (Result or Err says how), OK otherwise: the edge's tasks report
	// a failure of the backend itself (INTERNAL) as a failed task.
	Code codes.Code
}

// Tool is a tool callable without the SDK: the edge's fast path answers
// its calls itself.
type Tool struct{ bt *boundTool }

// Tool returns the tool called name, if there is one the fast path can
// serve: unary and server-streaming tools that need no client
// capabilities (whose refusal the SDK answers with its HTTP status).
func (b *Bridge) Tool(name string) (Tool, bool) {
	for _, bt := range b.tools {
		if bt.tool.Name == name && (bt.tool.Kind == catalog.Unary || bt.tool.Kind == catalog.ServerStream) &&
			len(bt.tool.RequiredClientCapabilities) == 0 {
			return Tool{bt}, true
		}
	}
	return Tool{}, false
}

// Streams reports whether the tool is server-streaming: its calls may send
// events to the sink before their answer.
func (t Tool) Streams() bool { return t.bt.tool.Kind != catalog.Unary }

// Call runs c, sending the events of a streaming tool to sink (which may be
// nil for a unary tool). The call ends when ctx does.
func (t Tool) Call(ctx context.Context, c *Call, sink Sink) Answer { return t.bt.call(ctx, c, sink) }

// Sink receives the events a streaming call forwards to its client. A
// failed send is logged, not fatal: the call goes on, and a client that went
// away cancels it through its context.
type Sink interface {
	// Progress sends notifications/progress, if the client asked for it
	// (a progressToken); total zero means unknown.
	Progress(ctx context.Context, progress, total float64, message string) error
	// Log sends notifications/message, if the client's level admits it.
	Log(ctx context.Context, level mcp.LoggingLevel, logger, data string) error
	// Settle runs after the last event, before the answer is sent.
	Settle(ctx context.Context)
}

// sdkSink sends events through the SDK's session.
type sdkSink struct {
	req     *mcp.CallToolRequest
	barrier func(ctx context.Context, req *mcp.CallToolRequest)
	token   any
}

func (s *sdkSink) Progress(ctx context.Context, progress, total float64, message string) error {
	if s.token == nil {
		return nil
	}
	return s.req.Session.NotifyProgress(ctx, &mcp.ProgressNotificationParams{
		ProgressToken: s.token, Progress: progress, Total: total, Message: message,
	})
}

func (s *sdkSink) Log(ctx context.Context, level mcp.LoggingLevel, logger, data string) error {
	return s.req.Session.Log(ctx, &mcp.LoggingMessageParams{Level: level, Logger: logger, Data: data})
}

func (s *sdkSink) Settle(ctx context.Context) {
	if s.barrier != nil {
		s.barrier(ctx, s.req)
	}
}

// CallOf is the bridge's view of an SDK tools/call request: arguments,
// deadline hint, trace context, request id and client capabilities. It
// sets no Asker.
func CallOf(req *mcp.CallToolRequest) Call {
	c := Call{Args: req.Params.Arguments}
	if m := req.Params.Meta; m != nil {
		c.Timeout, _ = timeoutHint(m)
		if v, ok := m["traceparent"].(string); ok {
			c.MetaTraceparent = v
			c.MetaTracestate, _ = m["tracestate"].(string)
		}
	}
	if req.Extra != nil && req.Extra.Header != nil {
		h := req.Extra.Header
		c.HeaderRequestID = h.Get("X-Request-Id")
		c.HeaderTraceparent = h.Get("Traceparent")
		c.HeaderTracestate = h.Get("Tracestate")
	}
	c.Caps = CapabilitiesOf(req.ClientCapabilities())
	return c
}

// handle is the tool's mcp.ToolHandler.
func (bt *boundTool) handle(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	c := CallOf(req)
	if bt.tool.Kind == catalog.BidiStream {
		if roundTrips(req.Session) {
			c.RoundTrip = &RoundTrip{State: req.Params.RequestState, Responses: req.Params.InputResponses}
		} else if req.Session != nil {
			c.Asker = SessionAsker(req.Session)
		}
	}
	var sink Sink
	if bt.tool.Kind != catalog.Unary {
		sink = &sdkSink{req: req, barrier: bt.barrier, token: req.Params.GetProgressToken()}
	}
	a := bt.call(ctx, &c, sink)
	switch {
	case a.Dropped:
		return toolError(dropMarker), nil
	case a.Err != nil:
		return nil, a.Err
	case a.Result != nil:
		return a.Result, nil
	}
	return okResult(a.RequestID, a.Payload), nil
}

// roundTrips reports whether ss's client speaks 2026-07-28 or later, where
// input is asked for with input_required results rather than requests.
func roundTrips(ss *mcp.ServerSession) bool {
	if ss == nil {
		return false
	}
	p := ss.InitializeParams()
	return p != nil && p.ProtocolVersion >= firstRoundTripVersion
}

// firstRoundTripVersion is the first revision of the multi-round-trip
// protocol.
const firstRoundTripVersion = "2026-07-28"

// call runs one call; a streaming tool's events go to sink.
func (bt *boundTool) call(ctx context.Context, c *Call, sink Sink) (a Answer) {
	bt.metrics.Begin()
	outcome := observe.OutcomeOK
	defer func() { bt.metrics.End(outcome) }()

	// Authorization comes first: a caller that may not call the tool learns
	// nothing of its arguments' rules, and no backend work starts.
	p, _ := authn.FromContext(ctx)
	if err := bt.authorize(p); err != nil {
		outcome = observe.OutcomeRPCError
		return Answer{Err: err}
	}
	// So do the client capabilities the tool needs.
	if req := bt.tool.RequiredClientCapabilities; len(req) > 0 {
		if err := MissingCapabilities(bt.tool.Name, req, c.Caps); err != nil {
			outcome = observe.OutcomeRPCError
			return Answer{Err: err}
		}
	}
	// Limits come next, before any work is spent on the call: a refused
	// call costs its caller a JSON-RPC error and the edge a few map
	// lookups.
	if bt.admit != nil {
		release, err := bt.admit(ctx, bt.tool)
		if err != nil {
			if ctx.Err() != nil {
				outcome = observe.OutcomeCancelled
				return Answer{Dropped: true}
			}
			outcome = observe.OutcomeLimited
			return Answer{Err: err}
		}
		if release != nil {
			defer release()
		}
	}

	in, invalid := bt.request(c.Args)
	if invalid != nil {
		outcome = observe.OutcomeInvalidArgs
		return Answer{Result: invalid}
	}

	timeout := bt.deadline(c.Timeout)
	callCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	callCtx, a.RequestID = outgoing(callCtx, c)
	callCtx, err := withCredential(callCtx, bt.minter, bt.audience, p)
	if err != nil {
		bt.logger.Error("minting a credential failed", "tool", bt.tool.Name, "request_id", a.RequestID, "error", err)
		recycle(&bt.requests, in)
		outcome = observe.OutcomeRPCError
		return Answer{RequestID: a.RequestID, Err: &jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: "internal error"}}
	}

	switch {
	case bt.tool.Kind == catalog.BidiStream:
		a.Payload, a.Result, err = bt.interact(callCtx, c, sink, in, a.RequestID)
	case bt.tool.Content != nil:
		a.Result, err = bt.callContent(callCtx, sink, in, a.RequestID)
	case bt.tool.Kind == catalog.Unary:
		out := bt.responses.Get().(proto.Message)
		if err = bt.conn.Invoke(callCtx, bt.tool.FullMethod, in, out); err == nil {
			a.Payload, err = bt.marshal(out)
		}
		recycle(&bt.responses, out)
	default:
		a.Payload, err = bt.stream(callCtx, sink, in)
	}
	// gRPC has encoded the request (and the in-process invoker copied it).
	recycle(&bt.requests, in)
	if err == nil {
		return a
	}
	a.Payload, a.Result = nil, nil
	var rpcErr *jsonrpc.Error
	switch {
	case errors.As(err, &rpcErr) && ctx.Err() == nil:
		// The edge refused the call's input (an invalid requestState or
		// inputResponses).
		outcome = observe.OutcomeRPCError
		a.Err = rpcErr
		return a
	case ctx.Err() != nil:
		// The client cancelled or went away: nobody is there to answer.
		outcome = observe.OutcomeCancelled
		a.Dropped = true
		return a
	case ourDeadline(callCtx, err):
		outcome = observe.OutcomeDeadline
		a.Result = toolError(fmt.Sprintf("%s: deadline exceeded after %s (the deadline is the smallest of the tool's default %s, the client's %s hint and the edge maximum)",
			bt.tool.Name, timeout, bt.defaultTimeout, MetaTimeoutMs))
		return a
	}
	st, ok := status.FromError(err)
	if !ok {
		bt.logger.Error("tool call failed", "tool", bt.tool.Name, "request_id", a.RequestID, "error", err)
		st = status.New(status.Code(err), "internal error")
	}
	a.Result, a.Err, outcome = fromStatus(bt.tool.Name, st)
	a.Code = st.Code()
	return a
}

// request checks the call's JSON arguments against the input schema and
// decodes them into the request message. When they are invalid it returns
// the isError result that says why instead.
func (bt *boundTool) request(args json.RawMessage) (proto.Message, *mcp.CallToolResult) {
	if len(args) == 0 || string(args) == "null" {
		args = emptyArgs
	}
	if v := bt.tool.ValidateArgs(args); len(v) > 0 {
		return nil, violationsResult(bt.tool.Name, v)
	}
	in := bt.requests.Get().(proto.Message)
	if bt.in != nil && bt.in.decode(args, in) {
		return in, nil
	}
	if err := unmarshalOpts.Unmarshal(args, in); err != nil {
		recycle(&bt.requests, in)
		return nil, toolError(fmt.Sprintf("%s: invalid arguments: %v", bt.tool.Name, err))
	}
	if bt.tool.Answers != nil {
		// Answers come from the client's answers, never its arguments.
		in.ProtoReflect().Clear(bt.tool.Answers)
	}
	return in, nil
}

// recycle empties m and keeps it for a later call. A request goes back once
// the call has sent it, a unary response once it is marshalled: nothing
// keeps them after that (the edge's connections have no client
// interceptors, and gRPC retries resend the encoded bytes).
func recycle(pool *sync.Pool, m proto.Message) {
	proto.Reset(m)
	pool.Put(m)
}

// marshal encodes a response message as protojson does.
func (bt *boundTool) marshal(m proto.Message) ([]byte, error) {
	if bt.out != nil {
		if b, ok := bt.out.encode(m); ok {
			return b, nil
		}
	}
	return marshalOpts.Marshal(m)
}

// okResult is the result of a successful call: the payload as structured
// content and as text, and the request id in _meta.
//
// Every call builds one, so it takes one allocation besides the _meta map:
// the result, its content and the values behind its interfaces live in one
// struct. The text shares the payload's bytes, which nothing modifies once
// marshalled; StructuredContent is a *json.RawMessage and the request id a
// *string, which encode to JSON as the values do.
func okResult(requestID string, payload json.RawMessage) *mcp.CallToolResult {
	r := &okAlloc{payload: payload, requestID: requestID}
	r.text.Text = unsafe.String(unsafe.SliceData(payload), len(payload))
	r.content[0] = &r.text
	r.res = mcp.CallToolResult{
		Meta:              mcp.Meta{MetaRequestID: &r.requestID},
		Content:           r.content[:],
		StructuredContent: &r.payload,
	}
	return &r.res
}

type okAlloc struct {
	res       mcp.CallToolResult
	text      mcp.TextContent
	content   [1]mcp.Content
	payload   json.RawMessage
	requestID string
}

// ourDeadline reports whether err is the edge's own deadline passing. The
// backend receives the deadline too (grpc-timeout) and may end the stream a
// moment before the edge's timer fires, so a DEADLINE_EXCEEDED status that
// arrives within deadlineSlack of the deadline counts as ours.
func ourDeadline(ctx context.Context, err error) bool {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return true
	}
	dl, ok := ctx.Deadline()
	return ok && status.Code(err) == codes.DeadlineExceeded && time.Until(dl) < deadlineSlack
}

const deadlineSlack = 20 * time.Millisecond

var serverStreamDesc = grpc.StreamDesc{ServerStreams: true}

// stream runs a server-streaming call, forwarding events as they arrive, and
// returns the result payload per the tool's stream mode.
func (bt *boundTool) stream(ctx context.Context, sink Sink, in proto.Message) (json.RawMessage, error) {
	cs, err := OpenServerStream(ctx, bt.conn, bt.tool.FullMethod, in)
	if err != nil {
		return nil, err
	}
	forwarded := false
	var last json.RawMessage
	var items []json.RawMessage
	// One message serves the whole stream: each is forwarded or marshalled
	// before the next is read, and receiving resets it.
	out := bt.responses.Get().(proto.Message)
	defer recycle(&bt.responses, out)
	for {
		if err := cs.RecvMsg(out); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return nil, err
		}
		if bt.forwardEvent(ctx, sink, out.ProtoReflect()) {
			forwarded = true
			continue
		}
		js, err := bt.marshal(out)
		if err != nil {
			return nil, err
		}
		if bt.tool.StreamMode == catalog.StreamCollect {
			items = append(items, js)
		} else {
			last = js
		}
	}
	if forwarded {
		sink.Settle(ctx)
	}
	if bt.tool.StreamMode == catalog.StreamCollect {
		if items == nil {
			items = []json.RawMessage{}
		}
		return json.Marshal(map[string][]json.RawMessage{"items": items})
	}
	if last == nil {
		last = emptyArgs
	}
	return last, nil
}

// forwardEvent sends the event m carries, if any, to the client, and reports
// whether m was an event. A failed send is logged, not fatal: the call goes
// on, and a gone client cancels it through its context.
func (bt *boundTool) forwardEvent(ctx context.Context, sink Sink, m protoreflect.Message) bool {
	for _, ef := range bt.events {
		if !m.Has(ef.fd) {
			continue
		}
		ev := m.Get(ef.fd).Message()
		f := ev.Descriptor().Fields()
		var err error
		switch ef.kind {
		case catalog.EventProgress:
			err = sink.Progress(ctx, ev.Get(f.ByNumber(1)).Float(), ev.Get(f.ByNumber(2)).Float(), ev.Get(f.ByNumber(3)).String())
		case catalog.EventLog:
			err = sink.Log(ctx, logLevel(ev.Get(f.ByNumber(1)).Enum()), ev.Get(f.ByNumber(2)).String(), ev.Get(f.ByNumber(3)).String())
		}
		if err != nil && ctx.Err() == nil {
			bt.logger.Debug("forwarding event failed", "tool", bt.tool.Name, "error", err)
		}
		return true
	}
	return false
}

// logLevel maps toolwire.mcp.v1.LogLevel numbers to MCP's RFC 5424 names.
func logLevel(n protoreflect.EnumNumber) mcp.LoggingLevel {
	levels := [...]mcp.LoggingLevel{"info", "debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"}
	if int(n) < len(levels) && n >= 0 {
		return levels[n]
	}
	return "info"
}

// MetaViolations is the isError result _meta key listing argument violations
// as [{"field": "/n", "message": "..."}], for programs; the text says the same
// for models.
const MetaViolations = "io.github.toolwire/violations"

func violationsResult(tool string, vs []catalog.Violation) *mcp.CallToolResult {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: invalid arguments:", tool)
	list := make([]map[string]string, len(vs))
	for i, v := range vs {
		field := v.Field
		if field == "" {
			field = "(arguments)"
		}
		fmt.Fprintf(&b, "\n- %s: %s", field, v.Message)
		list[i] = map[string]string{"field": v.Field, "message": v.Message}
	}
	r := toolError(b.String())
	r.Meta = mcp.Meta{MetaViolations: list}
	return r
}
