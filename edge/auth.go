package edge

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/tidwall/gjson"

	"github.com/toolwire/toolwire/edge/policy/authn"
)

// How authentication and authorization reach every transport:
//
//   - Handler runs the Host and Origin guard, then Options.Auth's middleware,
//     on every request to /mcp and /sse: no request reaches a transport
//     unauthenticated. The principal goes into the request's context.
//   - The fast path runs its calls on the request's context, so the bridge
//     finds the principal there.
//   - The SDK runs calls on contexts of its own. For Streamable HTTP the
//     principal also travels as the SDK's auth.TokenInfo (which the SDK puts
//     in RequestExtra, and binds its sessions to); for HTTP+SSE it is the
//     principal of the GET that opened the session (sse.go binds the
//     session's POSTs to it). withPrincipal, a receiving middleware, puts it
//     back into the handler's context.
//   - A POST whose tools/call names a tool the principal lacks a scope for
//     is refused before any transport sees it, with HTTP 403
//     insufficient_scope and the scopes to step up to (refuseScopes), as
//     the MCP authorization spec asks of HTTP transports.
//   - The bridge (boundTool.call) authorizes every tools/call, on either path,
//     against the tool's scopes, as the last line and for stdio (a JSON-RPC
//     error, -32003, with the missing scopes); withPrincipal filters
//     tools/list down to the tools the principal may call.
//   - stdio has no HTTP and no authentication: it is trusted local use.

// tokenInfoKey is the auth.TokenInfo Extra key that carries the principal.
const tokenInfoKey = "io.github.toolwire/principal"

// authenticate wraps h with the authenticator's middleware and hands the
// principal to the SDK as an auth.TokenInfo.
func (e *Edge) authenticate(h http.Handler) http.Handler {
	toSDK := auth.RequireBearerToken(func(_ context.Context, _ string, r *http.Request) (*auth.TokenInfo, error) {
		p, ok := authn.FromContext(r.Context())
		if !ok {
			return nil, auth.ErrInvalidToken
		}
		ti := p.TokenInfo()
		ti.Extra = map[string]any{tokenInfoKey: p}
		return ti, nil
	}, &auth.RequireBearerTokenOptions{AllowMissingExpiration: true})
	return e.auth.Middleware(toSDK(e.refuseScopes(h)))
}

// scopeScanMax is the largest body refuseScopes reads; a larger one goes on
// unread, and the bridge refuses its call (JSON-RPC -32003) if a scope is
// missing.
const scopeScanMax = 1 << 20

// refuseScopes answers 403 insufficient_scope to a POST carrying a
// tools/call (alone or in a batch) of a tool whose scopes the request's
// principal lacks; the challenge names the scopes to ask for. Other
// requests go on with their body as it came.
func (e *Edge) refuseScopes(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := authn.FromContext(r.Context())
		if r.Method != http.MethodPost || !ok || r.Body == nil {
			h.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, scopeScanMax+1))
		rest := r.Body
		r.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(body), rest), rest}
		if err != nil || len(body) > scopeScanMax {
			h.ServeHTTP(w, r)
			return
		}
		var required []string
		check := func(msg gjson.Result) {
			if msg.Get("method").String() != "tools/call" {
				return
			}
			scopes := e.toolScopes(msg.Get("params.name").String())
			if !p.HasScopes(scopes...) {
				required = append(required, scopes...)
			}
		}
		if root := gjson.ParseBytes(body); root.IsArray() {
			root.ForEach(func(_, m gjson.Result) bool { check(m); return true })
		} else {
			check(root)
		}
		if required != nil {
			e.auth.WriteInsufficientScope(w, required)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// serveMetadata adds the protected resource metadata (RFC 9728) to mux, at
// the well-known path and, for a resource URL with a path, at the path RFC
// 9728 §3.1 derives from it.
func serveMetadata(mux *http.ServeMux, md authn.ResourceMetadata) error {
	h, err := authn.MetadataHandler(md)
	if err != nil {
		return err
	}
	mux.Handle(authn.WellKnownPath, h)
	at, err := authn.MetadataURL(md.Resource)
	if err != nil {
		return err
	}
	u, err := url.Parse(at)
	if err != nil {
		return err
	}
	if u.Path != authn.WellKnownPath {
		mux.Handle(u.Path, h)
	}
	return nil
}

// principalOf finds the principal of an SDK request: in ctx (the fast path
// never gets here, but a transport may run the handler on the request's
// context), in the SDK's TokenInfo (Streamable HTTP), or the principal of
// the GET that opened the session (HTTP+SSE).
func (e *Edge) principalOf(ctx context.Context, req mcp.Request) (*authn.Principal, bool) {
	if p, ok := authn.FromContext(ctx); ok {
		return p, true
	}
	if x := req.GetExtra(); x != nil && x.TokenInfo != nil {
		if p, ok := x.TokenInfo.Extra[tokenInfoKey].(*authn.Principal); ok && p != nil {
			return p, true
		}
	}
	if ss, ok := req.GetSession().(*mcp.ServerSession); ok {
		if parent, ok := e.sessionParent(ss); ok {
			return authn.FromContext(parent)
		}
	}
	return nil, false
}

// withPrincipal is a receiving middleware that puts the request's principal
// into the handler's context, for the bridge, and shows a principal only
// the tools it may call in tools/list.
func (e *Edge) withPrincipal(next mcp.MethodHandler) mcp.MethodHandler {
	return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
		p, ok := e.principalOf(ctx, req)
		if !ok {
			return next(ctx, method, req)
		}
		ctx = authn.WithPrincipal(ctx, p)
		res, err := next(ctx, method, req)
		if method != "tools/list" || err != nil {
			return res, err
		}
		list, ok := res.(*mcp.ListToolsResult)
		if !ok {
			return res, err
		}
		filtered := *list
		filtered.Tools = make([]*mcp.Tool, 0, len(list.Tools))
		for _, t := range list.Tools {
			if p.HasScopes(e.toolScopes(t.Name)...) {
				filtered.Tools = append(filtered.Tools, t)
			}
		}
		return &filtered, nil
	}
}
