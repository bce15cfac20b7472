package server

import (
	"strings"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	mcpv1 "github.com/toolwire/toolwire/gen/go/toolwire/mcp/v1"
	"github.com/toolwire/toolwire/internal/credential"
)

// ToolScopes returns the scopes the (toolwire.mcp.v1.tool) option of
// fullMethod ("/package.Service/Method") requires, looked up in the
// descriptors linked into the program: the same rule the edge applies to
// the tool, for [CredentialOptions.RequiredScopes]. An unknown method, or
// one without scopes, requires none.
func ToolScopes(fullMethod string) []string {
	svc, method, ok := strings.Cut(strings.TrimPrefix(fullMethod, "/"), "/")
	if !ok {
		return nil
	}
	d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(svc))
	if err != nil {
		return nil
	}
	sd, ok := d.(protoreflect.ServiceDescriptor)
	if !ok {
		return nil
	}
	md := sd.Methods().ByName(protoreflect.Name(method))
	if md == nil {
		return nil
	}
	opt, _ := proto.GetExtension(md.Options(), mcpv1.E_Tool).(*mcpv1.ToolOptions)
	return opt.GetScopes()
}

// LoadCredentialVerifier returns a verifier of the edge's credentials for
// [Options.Credentials]: the edge's public keys come from the PEM file at
// path (see credential.LoadPublicKeys), and the credentials must be minted
// for one of audiences, the gRPC services the backend serves.
func LoadCredentialVerifier(path string, audiences ...string) (*credential.Verifier, error) {
	keys, err := credential.LoadPublicKeys(path)
	if err != nil {
		return nil, err
	}
	return credential.NewVerifier(keys, audiences, nil)
}
