package conformance

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	conformancev1 "github.com/toolwire/toolwire/gen/go/examples/conformance/v1"
	mcpv1 "github.com/toolwire/toolwire/gen/go/toolwire/mcp/v1"
	"github.com/toolwire/toolwire/server"
)

// This file holds the fixtures other than tools: resources, resource
// updates, prompts and completions.

// WatchedResourceURI is the resource WatchResources reports changes of.
const WatchedResourceURI = "test://watched-resource"

// DefaultUpdateInterval is how often WatchResources reports that
// [WatchedResourceURI] changed, unless [Service.UpdateInterval] says
// otherwise.
const DefaultUpdateInterval = 3 * time.Second

// ReadStaticText reads test://static-text.
func (*Service) ReadStaticText(context.Context, *conformancev1.ReadStaticTextRequest) (*mcpv1.ResourceResult, error) {
	return &mcpv1.ResourceResult{Contents: []*mcpv1.ResourceContents{
		textContents("test://static-text", "text/plain", "This is the content of the static text resource."),
	}}, nil
}

// ReadStaticBinary reads test://static-binary: the test PNG.
func (*Service) ReadStaticBinary(context.Context, *conformancev1.ReadStaticBinaryRequest) (*mcpv1.ResourceResult, error) {
	return &mcpv1.ResourceResult{Contents: []*mcpv1.ResourceContents{
		blobContents("test://static-binary", "image/png", pngData()),
	}}, nil
}

// ReadTemplate reads test://template/{id}/data: a JSON document naming the
// id.
func (*Service) ReadTemplate(_ context.Context, req *conformancev1.ReadTemplateRequest) (*mcpv1.ResourceResult, error) {
	id := req.GetId()
	doc := jsonText(struct {
		ID           string `json:"id"`
		TemplateTest bool   `json:"templateTest"`
		Data         string `json:"data"`
	}{id, true, "Data for ID: " + id})
	return &mcpv1.ResourceResult{Contents: []*mcpv1.ResourceContents{
		textContents("test://template/"+url.PathEscape(id)+"/data", "application/json", doc),
	}}, nil
}

// ReadWatchedResource reads [WatchedResourceURI].
func (*Service) ReadWatchedResource(context.Context, *conformancev1.ReadWatchedResourceRequest) (*mcpv1.ResourceResult, error) {
	return &mcpv1.ResourceResult{Contents: []*mcpv1.ResourceContents{
		textContents(WatchedResourceURI, "text/plain", "Watched resource content"),
	}}, nil
}

// WatchResources reports that [WatchedResourceURI] changed every
// UpdateInterval until the call ends, whatever URIs the request names: the
// edge filters.
func (s *Service) WatchResources(_ *mcpv1.WatchResourcesRequest, stream grpc.ServerStreamingServer[mcpv1.ResourceUpdated]) error {
	interval := s.UpdateInterval
	if interval <= 0 {
		interval = DefaultUpdateInterval
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			if err := stream.Send(&mcpv1.ResourceUpdated{Uri: WatchedResourceURI}); err != nil {
				return err
			}
		case <-stream.Context().Done():
			return server.ContextError(stream.Context())
		}
	}
}

// TestSimplePrompt is a prompt of one user message.
func (*Service) TestSimplePrompt(context.Context, *conformancev1.TestSimplePromptRequest) (*mcpv1.PromptResult, error) {
	return &mcpv1.PromptResult{
		Description: "A simple test prompt",
		Messages:    []*mcpv1.PromptMessage{userMessage(text("This is a simple prompt for testing."))},
	}, nil
}

// TestPromptWithArguments is a prompt that quotes its two arguments.
func (*Service) TestPromptWithArguments(_ context.Context, req *conformancev1.TestPromptWithArgumentsRequest) (*mcpv1.PromptResult, error) {
	return &mcpv1.PromptResult{
		Description: "A prompt with arguments",
		Messages: []*mcpv1.PromptMessage{userMessage(text(
			"Prompt with arguments: arg1='" + req.GetArg1() + "', arg2='" + req.GetArg2() + "'",
		))},
	}, nil
}

// TestPromptWithEmbeddedResource is a prompt that embeds a resource at the
// URI it is given, then asks to process it.
func (*Service) TestPromptWithEmbeddedResource(_ context.Context, req *conformancev1.TestPromptWithEmbeddedResourceRequest) (*mcpv1.PromptResult, error) {
	return &mcpv1.PromptResult{
		Description: "A prompt with an embedded resource",
		Messages: []*mcpv1.PromptMessage{
			userMessage(embedded(req.GetResourceUri(), "text/plain", "Embedded resource content for testing.")),
			userMessage(text("Please process the embedded resource above.")),
		},
	}, nil
}

// TestPromptWithImage is a prompt of the test PNG, then a request to
// analyse it.
func (*Service) TestPromptWithImage(context.Context, *conformancev1.TestPromptWithImageRequest) (*mcpv1.PromptResult, error) {
	return &mcpv1.PromptResult{
		Description: "A prompt with an image",
		Messages: []*mcpv1.PromptMessage{
			userMessage(image(pngData(), "image/png")),
			userMessage(text("Please analyze the image above.")),
		},
	}, nil
}

// TestInputRequiredResultPrompt asks for context ("user_context") until an
// accepted answer carries it, and returns a prompt built on it.
func (*Service) TestInputRequiredResultPrompt(stream grpc.BidiStreamingServer[conformancev1.TestInputRequiredResultPromptRequest, conformancev1.TestInputRequiredResultPromptResponse]) error {
	if _, err := arguments(stream); err != nil {
		return err
	}
	got, err := askString(stream, func(r *mcpv1.InputRequests) *conformancev1.TestInputRequiredResultPromptResponse {
		return &conformancev1.TestInputRequiredResultPromptResponse{InputRequests: r}
	}, "user_context", "What context should the prompt use?", contextSchema, "context")
	if err != nil {
		return err
	}
	return stream.Send(&conformancev1.TestInputRequiredResultPromptResponse{Result: &mcpv1.PromptResult{
		Description: "A prompt with elicited context",
		Messages:    []*mcpv1.PromptMessage{userMessage(text("Context: " + got))},
	}})
}

// completions are the candidates Complete offers, by prompt or resource
// template, then by argument.
var completions = map[string]map[string][]string{
	"test_simple_prompt":                {},
	"test_prompt_with_image":            {},
	"test_input_required_result_prompt": {},
	"test_prompt_with_arguments": {
		"arg1": {"testValue1", "testValue2", "testValue3"},
		"arg2": {"testValue1", "testValue2", "testValue3"},
	},
	"test_prompt_with_embedded_resource": {
		"resourceUri": {"test://static-text", "test://static-binary", WatchedResourceURI},
	},
	"test://template/{id}/data": {
		"id": {"1", "2", "3", "123"},
	},
}

// Complete offers the candidates for an argument of this service's prompts
// and resource templates that start with the value typed so far, ignoring
// case. An argument without candidates gets none; a prompt or template this
// service does not serve is NotFound.
func (*Service) Complete(_ context.Context, req *mcpv1.CompleteRequest) (*mcpv1.CompleteResult, error) {
	ref := req.GetPrompt()
	if ref == "" {
		ref = req.GetResourceTemplate()
	}
	args, ok := completions[ref]
	if !ok {
		return nil, status.Errorf(codes.NotFound, "no prompt or resource template %q to complete", ref)
	}
	prefix := strings.ToLower(req.GetValue())
	values := []string{}
	for _, v := range args[req.GetArgument()] {
		if strings.HasPrefix(strings.ToLower(v), prefix) {
			values = append(values, v)
		}
	}
	slices.Sort(values)
	total := int32(len(values))
	return &mcpv1.CompleteResult{Values: values, Total: &total}, nil
}
