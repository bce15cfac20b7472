package bridge

import (
	"fmt"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	mcpv1 "github.com/toolwire/toolwire/gen/go/toolwire/mcp/v1"
)

// This file converts the content types of toolwire.mcp.v1 (events.proto) to
// the SDK's. Backends fronted through gRPC reflection hand the edge dynamic
// messages, so every converter takes a protoreflect.Message and goes through
// the generated type (as).

// as returns m as the generated message T: m itself when it is one, or a
// copy decoded from m's wire form (a dynamic message of the same type).
func as[T proto.Message](m protoreflect.Message, empty T) (T, error) {
	if v, ok := m.Interface().(T); ok {
		return v, nil
	}
	b, err := proto.Marshal(m.Interface())
	if err != nil {
		return empty, err
	}
	if err := proto.Unmarshal(b, empty); err != nil {
		return empty, err
	}
	return empty, nil
}

// ContentOf converts one toolwire.mcp.v1.Content message.
func ContentOf(m protoreflect.Message) (mcp.Content, error) {
	c, err := as(m, &mcpv1.Content{})
	if err != nil {
		return nil, err
	}
	return content(c)
}

// ContentList converts a list field of toolwire.mcp.v1.Content messages.
func ContentList(l protoreflect.List) ([]mcp.Content, error) {
	out := make([]mcp.Content, 0, l.Len())
	for i := range l.Len() {
		c, err := ContentOf(l.Get(i).Message())
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// content converts a content block; an empty one is an error, so a backend
// that forgot to set it learns of it rather than its client.
func content(c *mcpv1.Content) (mcp.Content, error) {
	switch k := c.GetKind().(type) {
	case *mcpv1.Content_Text:
		return &mcp.TextContent{Text: k.Text}, nil
	case *mcpv1.Content_Image:
		return &mcp.ImageContent{Data: k.Image.GetData(), MIMEType: k.Image.GetMimeType()}, nil
	case *mcpv1.Content_Audio:
		return &mcp.AudioContent{Data: k.Audio.GetData(), MIMEType: k.Audio.GetMimeType()}, nil
	case *mcpv1.Content_ResourceLink:
		l := k.ResourceLink
		r := &mcp.ResourceLink{URI: l.GetUri(), Name: l.GetName(), Title: l.GetTitle(), Description: l.GetDescription(), MIMEType: l.GetMimeType()}
		if l.Size != nil {
			r.Size = l.Size
		}
		return r, nil
	case *mcpv1.Content_Resource:
		rc, err := resourceContents(k.Resource)
		if err != nil {
			return nil, err
		}
		return &mcp.EmbeddedResource{Resource: rc}, nil
	}
	return nil, fmt.Errorf("content block with no kind set")
}

// ResourceContentsOf converts one toolwire.mcp.v1.ResourceContents message.
func ResourceContentsOf(m protoreflect.Message) (*mcp.ResourceContents, error) {
	rc, err := as(m, &mcpv1.ResourceContents{})
	if err != nil {
		return nil, err
	}
	return resourceContents(rc)
}

func resourceContents(rc *mcpv1.ResourceContents) (*mcp.ResourceContents, error) {
	if rc.GetUri() == "" {
		return nil, fmt.Errorf("resource contents with no uri")
	}
	out := &mcp.ResourceContents{URI: rc.GetUri(), MIMEType: rc.GetMimeType()}
	switch b := rc.GetBody().(type) {
	case *mcpv1.ResourceContents_Text:
		out.Text = b.Text
	case *mcpv1.ResourceContents_Blob:
		out.Blob = b.Blob
		if out.Blob == nil {
			out.Blob = []byte{}
		}
	default:
		// Neither set: an empty text resource.
	}
	return out, nil
}

// RoleOf maps toolwire.mcp.v1.Role to MCP's role; unspecified is "user".
func RoleOf(r mcpv1.Role) mcp.Role {
	if r == mcpv1.Role_ROLE_ASSISTANT {
		return "assistant"
	}
	return "user"
}
