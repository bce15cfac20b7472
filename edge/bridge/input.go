package bridge

import (
	"encoding/json"
	"fmt"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"google.golang.org/protobuf/types/known/structpb"

	mcpv1 "github.com/toolwire/toolwire/gen/go/toolwire/mcp/v1"
)

// This file converts input rounds between toolwire.mcp.v1 (InputRequests,
// InputResponses) and the SDK's types: each InputRequest becomes the params
// of elicitation/create, sampling/createMessage or roots/list, and each
// answer the InputResponse the backend reads.

// InputRequestOf converts one input request to the SDK's params of the
// server-to-client request it stands for: *mcp.ElicitParams,
// *mcp.CreateMessageParams or *mcp.ListRootsParams.
func InputRequestOf(r *mcpv1.InputRequest) (mcp.InputRequest, error) {
	switch k := r.GetKind().(type) {
	case *mcpv1.InputRequest_Elicit:
		schema := k.Elicit.GetRequestedSchema().AsMap()
		if len(schema) == 0 {
			// An empty form: the user can only accept, decline or cancel.
			schema = map[string]any{"type": "object", "properties": map[string]any{}}
		}
		return &mcp.ElicitParams{Message: k.Elicit.GetMessage(), RequestedSchema: schema}, nil
	case *mcpv1.InputRequest_Sampling:
		s := k.Sampling
		p := &mcp.CreateMessageParams{
			IncludeContext: s.GetIncludeContext(),
			MaxTokens:      int64(s.GetMaxTokens()),
			Messages:       make([]*mcp.SamplingMessage, 0, len(s.GetMessages())),
			StopSequences:  s.GetStopSequences(),
			SystemPrompt:   s.GetSystemPrompt(),
			Temperature:    s.GetTemperature(),
		}
		for i, m := range s.GetMessages() {
			c, err := content(m.GetContent())
			if err != nil {
				return nil, fmt.Errorf("sampling message %d: %w", i, err)
			}
			p.Messages = append(p.Messages, &mcp.SamplingMessage{Role: RoleOf(m.GetRole()), Content: c})
		}
		if mp := s.GetModelPreferences(); mp != nil {
			b, err := json.Marshal(mp.AsMap())
			if err == nil {
				p.ModelPreferences = &mcp.ModelPreferences{}
				err = json.Unmarshal(b, p.ModelPreferences)
			}
			if err != nil {
				return nil, fmt.Errorf("sampling model_preferences: %w", err)
			}
		}
		if md := s.GetMetadata(); md != nil {
			p.Metadata = md.AsMap()
		}
		return p, nil
	case *mcpv1.InputRequest_Roots:
		return &mcp.ListRootsParams{}, nil
	}
	return nil, fmt.Errorf("input request with no kind set")
}

// capabilityOf is the client capability an input request needs.
func capabilityOf(r *mcpv1.InputRequest) (Capabilities, string) {
	switch r.GetKind().(type) {
	case *mcpv1.InputRequest_Elicit:
		return CapElicitation, "elicitation"
	case *mcpv1.InputRequest_Sampling:
		return CapSampling, "sampling"
	case *mcpv1.InputRequest_Roots:
		return CapRoots, "roots"
	}
	return 0, "unknown"
}

// InputResponseOf converts a client's answer (*mcp.ElicitResult,
// *mcp.CreateMessageResult, *mcp.CreateMessageWithToolsResult or
// *mcp.ListRootsResult) to the InputResponse the backend reads.
func InputResponseOf(v mcp.InputResponse) (*mcpv1.InputResponse, error) {
	switch r := v.(type) {
	case *mcp.ElicitResult:
		e := &mcpv1.ElicitResult{Action: elicitAction(r.Action)}
		if r.Content != nil {
			s, err := structpb.NewStruct(r.Content)
			if err != nil {
				return nil, fmt.Errorf("elicitation content: %w", err)
			}
			e.Content = s
		}
		return &mcpv1.InputResponse{Kind: &mcpv1.InputResponse_Elicit{Elicit: e}}, nil
	case *mcp.CreateMessageResult:
		return samplingResponse(r.Role, r.Content, r.Model, r.StopReason)
	case *mcp.CreateMessageWithToolsResult:
		var c mcp.Content
		switch len(r.Content) {
		case 0:
		case 1:
			c = r.Content[0]
		default:
			return nil, fmt.Errorf("sampling result has %d content blocks; one is supported", len(r.Content))
		}
		return samplingResponse(r.Role, c, r.Model, r.StopReason)
	case *mcp.ListRootsResult:
		rr := &mcpv1.RootsResult{Roots: make([]*mcpv1.Root, 0, len(r.Roots))}
		for _, root := range r.Roots {
			if root != nil {
				rr.Roots = append(rr.Roots, &mcpv1.Root{Uri: root.URI, Name: root.Name})
			}
		}
		return &mcpv1.InputResponse{Kind: &mcpv1.InputResponse_Roots{Roots: rr}}, nil
	}
	return nil, fmt.Errorf("unsupported input response %T", v)
}

// answers reports whether resp is an answer of the kind r asks for.
func answers(r *mcpv1.InputRequest, resp mcp.InputResponse) bool {
	switch r.GetKind().(type) {
	case *mcpv1.InputRequest_Elicit:
		_, ok := resp.(*mcp.ElicitResult)
		return ok
	case *mcpv1.InputRequest_Sampling:
		switch resp.(type) {
		case *mcp.CreateMessageResult, *mcp.CreateMessageWithToolsResult:
			return true
		}
	case *mcpv1.InputRequest_Roots:
		_, ok := resp.(*mcp.ListRootsResult)
		return ok
	}
	return false
}

func samplingResponse(role mcp.Role, c mcp.Content, model, stop string) (*mcpv1.InputResponse, error) {
	s := &mcpv1.SamplingResult{Role: roleProto(role), Model: model, StopReason: stop}
	if c != nil {
		pc, err := ContentProto(c)
		if err != nil {
			return nil, fmt.Errorf("sampling content: %w", err)
		}
		s.Content = pc
	}
	return &mcpv1.InputResponse{Kind: &mcpv1.InputResponse_Sampling{Sampling: s}}, nil
}

// inputError is an InputResponse that says the request got no answer.
func inputError(code int64, msg string) *mcpv1.InputResponse {
	return &mcpv1.InputResponse{Kind: &mcpv1.InputResponse_Error{Error: &mcpv1.InputError{Code: int32(code), Message: msg}}}
}

// inputErrorOf is the InputResponse of a client that answered with err.
func inputErrorOf(err error) *mcpv1.InputResponse {
	if werr, ok := err.(*jsonrpc.Error); ok {
		return inputError(werr.Code, werr.Message)
	}
	return inputError(jsonrpc.CodeInternalError, err.Error())
}

// notDeclared is the InputResponse of a request the client cannot be asked.
func notDeclared(capability string) *mcpv1.InputResponse {
	return inputError(mcp.CodeMissingRequiredClientCapabilities, "the client did not declare the "+capability+" capability")
}

func elicitAction(a string) mcpv1.ElicitAction {
	switch a {
	case "accept":
		return mcpv1.ElicitAction_ELICIT_ACTION_ACCEPT
	case "decline":
		return mcpv1.ElicitAction_ELICIT_ACTION_DECLINE
	case "cancel":
		return mcpv1.ElicitAction_ELICIT_ACTION_CANCEL
	}
	return mcpv1.ElicitAction_ELICIT_ACTION_UNSPECIFIED
}

func roleProto(r mcp.Role) mcpv1.Role {
	switch r {
	case "assistant":
		return mcpv1.Role_ROLE_ASSISTANT
	case "user":
		return mcpv1.Role_ROLE_USER
	}
	return mcpv1.Role_ROLE_UNSPECIFIED
}

// ContentProto converts an SDK content block to toolwire.mcp.v1.Content,
// the reverse of [ContentOf]: text, image, audio, resource links and
// embedded resources.
func ContentProto(c mcp.Content) (*mcpv1.Content, error) {
	switch v := c.(type) {
	case *mcp.TextContent:
		return &mcpv1.Content{Kind: &mcpv1.Content_Text{Text: v.Text}}, nil
	case *mcp.ImageContent:
		return &mcpv1.Content{Kind: &mcpv1.Content_Image{Image: &mcpv1.Media{Data: v.Data, MimeType: v.MIMEType}}}, nil
	case *mcp.AudioContent:
		return &mcpv1.Content{Kind: &mcpv1.Content_Audio{Audio: &mcpv1.Media{Data: v.Data, MimeType: v.MIMEType}}}, nil
	case *mcp.ResourceLink:
		return &mcpv1.Content{Kind: &mcpv1.Content_ResourceLink{ResourceLink: &mcpv1.ResourceLink{
			Uri: v.URI, Name: v.Name, Title: v.Title, Description: v.Description, MimeType: v.MIMEType, Size: v.Size,
		}}}, nil
	case *mcp.EmbeddedResource:
		if v.Resource == nil {
			return nil, fmt.Errorf("embedded resource with no contents")
		}
		rc := &mcpv1.ResourceContents{Uri: v.Resource.URI, MimeType: v.Resource.MIMEType}
		if v.Resource.Blob != nil {
			rc.Body = &mcpv1.ResourceContents_Blob{Blob: v.Resource.Blob}
		} else {
			rc.Body = &mcpv1.ResourceContents_Text{Text: v.Resource.Text}
		}
		return &mcpv1.Content{Kind: &mcpv1.Content_Resource{Resource: rc}}, nil
	}
	return nil, fmt.Errorf("unsupported content %T", c)
}
