package bridge

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/toolwire/toolwire/edge/catalog"
	"github.com/toolwire/toolwire/edge/policy/authn"
	mcpv1 "github.com/toolwire/toolwire/gen/go/toolwire/mcp/v1"
	"github.com/toolwire/toolwire/internal/credential"
)

// Features calls the backends of the MCP features that are not tools
// (resources, prompts, completions, resource update streams) under the
// same policy as tool calls: the caller's scopes, a deadline, the request
// id and trace context, and the internal credential of the caller.
type Features struct {
	resolve          Resolver
	timeout          time.Duration
	requirePrincipal bool
	minter           *credential.Minter
	logger           *slog.Logger
}

// NewFeatures returns the feature caller for the backends resolve finds;
// opts are the bridge's (DefaultTimeout, MaxTimeout, RequirePrincipal,
// Credentials and Logger apply).
func NewFeatures(resolve Resolver, opts *Options) *Features {
	var o Options
	if opts != nil {
		o = *opts
	}
	f := &Features{resolve: resolve, requirePrincipal: o.RequirePrincipal, minter: o.Credentials, logger: o.Logger}
	f.timeout = o.DefaultTimeout
	if f.timeout <= 0 {
		f.timeout = DefaultTimeout
	}
	if o.MaxTimeout > 0 {
		f.timeout = min(f.timeout, o.MaxTimeout)
	}
	if f.logger == nil {
		f.logger = slog.Default()
	}
	return f
}

// Check verifies that every feature RPC of cat has a backend.
func (f *Features) Check(cat *catalog.Catalog) error {
	var ms []*catalog.Method
	for _, r := range cat.Resources() {
		ms = append(ms, &r.Method)
	}
	for _, p := range cat.Prompts() {
		ms = append(ms, &p.Method)
	}
	for _, w := range cat.ResourceWatches() {
		ms = append(ms, &w.Method)
	}
	for _, svc := range cat.Services() {
		if m := cat.Completion(svc); m != nil {
			ms = append(ms, m)
		}
	}
	for _, m := range ms {
		if _, ok := f.resolve(m.Desc.Parent().FullName()); !ok {
			return fmt.Errorf("%s: no backend serves %s", m.Desc.FullName(), m.Desc.Parent().FullName())
		}
	}
	return nil
}

// Conn returns the connection to m's backend and the outgoing context of a
// call of m on behalf of ctx's caller: authorized against m's scopes, with
// the deadline (also returned as cancel), the request's ids and the
// caller's credential. header holds the HTTP request's headers, if any, and
// caps the client's capabilities (the zero value: no MCP client).
func (f *Features) Conn(ctx context.Context, m *catalog.Method, what string, header http.Header, caps Capabilities) (grpc.ClientConnInterface, context.Context, context.CancelFunc, error) {
	conn, ok := f.resolve(m.Desc.Parent().FullName())
	if !ok {
		return nil, nil, nil, &jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: what + ": no backend"}
	}
	p, _ := authn.FromContext(ctx)
	if err := f.authorize(p, what, m.Scopes); err != nil {
		return nil, nil, nil, err
	}
	callCtx, cancel := context.WithTimeout(ctx, f.timeout)
	c := &Call{Caps: caps}
	if header != nil {
		c.HeaderRequestID = header.Get("X-Request-Id")
		c.HeaderTraceparent = header.Get("Traceparent")
		c.HeaderTracestate = header.Get("Tracestate")
	}
	callCtx, _ = outgoing(callCtx, c)
	callCtx, err := withCredential(callCtx, f.minter, string(m.Desc.Parent().FullName()), p)
	if err != nil {
		cancel()
		f.logger.Error("minting a credential failed", "rpc", m.FullMethod, "error", err)
		return nil, nil, nil, &jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: "internal error"}
	}
	return conn, callCtx, cancel, nil
}

// Invoke makes a unary call of m. A refusal by the edge is a JSON-RPC
// error; a failure of the backend call is its gRPC status error, for the
// caller to map with [Features.Error] or otherwise.
func (f *Features) Invoke(ctx context.Context, m *catalog.Method, what string, header http.Header, caps Capabilities, in, out proto.Message) error {
	conn, callCtx, cancel, err := f.Conn(ctx, m, what, header, caps)
	if err != nil {
		return err
	}
	defer cancel()
	return conn.Invoke(callCtx, m.FullMethod, in, out)
}

// authorize is boundTool.authorize for a feature: the same rules, and the
// same errors.
func (f *Features) authorize(p *authn.Principal, what string, scopes []string) error {
	bt := &boundTool{tool: &catalog.Tool{Name: what, Scopes: scopes}, requirePrincipal: f.requirePrincipal}
	return bt.authorize(p)
}

// Error maps a backend's failure of a feature call to the JSON-RPC error
// its client gets (statusTable's featureCode column), what naming the
// request ("resources/read test://x").
func (f *Features) Error(what string, err error) error {
	var je *jsonrpc.Error
	if errors.As(err, &je) {
		return err
	}
	st, ok := status.FromError(err)
	if !ok {
		f.logger.Error("feature call failed", "request", what, "error", err)
		st = status.New(codes.Internal, "internal error")
	}
	m, ok := statusTable[st.Code()]
	if !ok {
		m = statusTable[codes.Unknown]
	}
	code := m.rpcCode
	if code == 0 {
		code = m.featureCode
	}
	if code == 0 {
		code = jsonrpc.CodeInternalError
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s failed (%s)", what, codeName(st.Code()))
	if msg := st.Message(); msg != "" {
		b.WriteString(": ")
		b.WriteString(msg)
	}
	if m.hint != "" {
		b.WriteString(" — ")
		b.WriteString(m.hint)
	}
	return &jsonrpc.Error{Code: code, Message: b.String()}
}

// ReadResult converts a toolwire.mcp.v1.ResourceResult message.
func ReadResult(m protoreflect.Message) (*mcp.ReadResourceResult, error) {
	r, err := as(m, &mcpv1.ResourceResult{})
	if err != nil {
		return nil, err
	}
	out := &mcp.ReadResourceResult{Contents: make([]*mcp.ResourceContents, 0, len(r.GetContents()))}
	for _, c := range r.GetContents() {
		rc, err := resourceContents(c)
		if err != nil {
			return nil, err
		}
		out.Contents = append(out.Contents, rc)
	}
	return out, nil
}

// PromptResult converts a toolwire.mcp.v1.PromptResult message.
func PromptResult(m protoreflect.Message) (*mcp.GetPromptResult, error) {
	r, err := as(m, &mcpv1.PromptResult{})
	if err != nil {
		return nil, err
	}
	out := &mcp.GetPromptResult{Description: r.GetDescription(), Messages: make([]*mcp.PromptMessage, 0, len(r.GetMessages()))}
	for _, pm := range r.GetMessages() {
		c, err := content(pm.GetContent())
		if err != nil {
			return nil, err
		}
		out.Messages = append(out.Messages, &mcp.PromptMessage{Role: RoleOf(pm.GetRole()), Content: c})
	}
	return out, nil
}

// CompleteResult converts a toolwire.mcp.v1.CompleteResult message. MCP
// allows at most 100 values; more are cut, and hasMore set.
func CompleteResult(m protoreflect.Message) (*mcp.CompleteResult, error) {
	r, err := as(m, &mcpv1.CompleteResult{})
	if err != nil {
		return nil, err
	}
	d := mcp.CompletionResultDetails{Values: r.GetValues(), HasMore: r.GetHasMore(), Total: int(r.GetTotal())}
	if d.Values == nil {
		d.Values = []string{}
	}
	if len(d.Values) > 100 {
		d.Values, d.HasMore = d.Values[:100], true
	}
	return &mcp.CompleteResult{Completion: d}, nil
}

// OpenServerStream opens a server-streaming call of method on conn and
// sends in, its one request.
func OpenServerStream(ctx context.Context, conn grpc.ClientConnInterface, method string, in proto.Message) (grpc.ClientStream, error) {
	cs, err := conn.NewStream(ctx, &serverStreamDesc, method)
	if err != nil {
		return nil, err
	}
	if err := cs.SendMsg(in); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	if err := cs.CloseSend(); err != nil {
		return nil, err
	}
	return cs, nil
}
