package authn

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
)

// WellKnownPath is the well-known URI suffix of protected resource metadata
// (RFC 9728 §3).
const WellKnownPath = "/.well-known/oauth-protected-resource"

// ResourceMetadata is the protected resource metadata of RFC 9728 §2 that
// the edge publishes: where MCP clients learn which authorization server to
// get a token from, and for which scopes.
type ResourceMetadata struct {
	// Resource is the edge's resource identifier: the URL of its MCP
	// endpoint, the same value as [JWTConfig.Audience]. Required.
	Resource string `json:"resource"`
	// AuthorizationServers are the issuer identifiers of the authorization
	// servers whose tokens the edge accepts.
	AuthorizationServers []string `json:"authorization_servers,omitempty"`
	// ScopesSupported are the scopes the edge's tools use.
	ScopesSupported []string `json:"scopes_supported,omitempty"`
	// BearerMethodsSupported is always ["header"]: tokens in a form body or
	// the query (RFC 6750 §2.2, §2.3) are not read, and OAuth 2.1 forbids
	// the query.
	BearerMethodsSupported []string `json:"bearer_methods_supported"`
	// ResourceName is a human-readable name, optional.
	ResourceName string `json:"resource_name,omitempty"`
	// ResourceDocumentation is a URL of documentation for developers,
	// optional.
	ResourceDocumentation string `json:"resource_documentation,omitempty"`
}

// MetadataURL returns where the metadata of resource is published, by RFC
// 9728 §3.1: [WellKnownPath] inserted between the host and the path, so that
// https://edge.example/mcp publishes at
// https://edge.example/.well-known/oauth-protected-resource/mcp.
func MetadataURL(resource string) (string, error) {
	u, err := parseResource(resource)
	if err != nil {
		return "", err
	}
	// §3.1: a slash right after the host, alone, is dropped before the
	// insertion; any other path and the query are kept after it.
	path := u.EscapedPath()
	if path == "/" {
		path = ""
	}
	out := u.Scheme + "://" + u.Host + WellKnownPath + path
	if u.RawQuery != "" {
		out += "?" + u.RawQuery
	}
	return out, nil
}

// parseResource checks a resource identifier as RFC 9728 §1.2 and RFC 8707
// §2 define it: an absolute http(s) URL without a fragment.
func parseResource(resource string) (*url.URL, error) {
	u, err := url.Parse(resource)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("authn: resource %q is not an absolute http(s) URL without fragment", resource)
	}
	return u, nil
}

// MetadataHandler serves md, with BearerMethodsSupported set to
// ["header"], for GET and HEAD. Mount it at the path of
// [MetadataURL](md.Resource); an edge that serves one resource may also
// mount it at [WellKnownPath], where clients that do not insert the path
// look.
//
// The metadata is public, and browser-based MCP clients fetch it cross
// origin, so every origin may read it.
func MetadataHandler(md ResourceMetadata) (http.Handler, error) {
	if _, err := parseResource(md.Resource); err != nil {
		return nil, err
	}
	md.BearerMethodsSupported = []string{"header"}
	body, err := json.Marshal(md)
	if err != nil {
		return nil, err
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", "*")
		switch r.Method {
		case http.MethodGet, http.MethodHead:
		case http.MethodOptions:
			h.Set("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS")
			h.Set("Access-Control-Allow-Headers", "MCP-Protocol-Version")
			w.WriteHeader(http.StatusNoContent)
			return
		default:
			h.Set("Allow", "GET, HEAD, OPTIONS")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		h.Set("Content-Type", "application/json")
		h.Set("Cache-Control", "public, max-age=3600")
		w.WriteHeader(http.StatusOK)
		if r.Method == http.MethodGet {
			_, _ = w.Write(body)
		}
	}), nil
}
