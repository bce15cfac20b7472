package conformance_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"

	conformancev1 "github.com/toolwire/toolwire/gen/go/examples/conformance/v1"
	mcpv1 "github.com/toolwire/toolwire/gen/go/toolwire/mcp/v1"
	"github.com/toolwire/toolwire/services/conformance"
)

func TestResources(t *testing.T) {
	client, _, _ := serve(t, nil)
	ctx := t.Context()
	tests := []struct {
		uri  string
		call func() (*mcpv1.ResourceResult, error)
		want *mcpv1.ResourceContents
	}{
		{"test://static-text", func() (*mcpv1.ResourceResult, error) {
			return client.ReadStaticText(ctx, &conformancev1.ReadStaticTextRequest{})
		}, textContents("test://static-text", "text/plain", "This is the content of the static text resource.")},
		{"test://static-binary", func() (*mcpv1.ResourceResult, error) {
			return client.ReadStaticBinary(ctx, &conformancev1.ReadStaticBinaryRequest{})
		}, &mcpv1.ResourceContents{Uri: "test://static-binary", MimeType: "image/png", Body: &mcpv1.ResourceContents_Blob{Blob: testPNG}}},
		{"test://template/123/data", func() (*mcpv1.ResourceResult, error) {
			return client.ReadTemplate(ctx, &conformancev1.ReadTemplateRequest{Id: "123"})
		}, textContents("test://template/123/data", "application/json", `{"id":"123","templateTest":true,"data":"Data for ID: 123"}`)},
		{"test://template/a%20b/data", func() (*mcpv1.ResourceResult, error) {
			return client.ReadTemplate(ctx, &conformancev1.ReadTemplateRequest{Id: "a b"})
		}, textContents("test://template/a%20b/data", "application/json", `{"id":"a b","templateTest":true,"data":"Data for ID: a b"}`)},
		{"test://watched-resource", func() (*mcpv1.ResourceResult, error) {
			return client.ReadWatchedResource(ctx, &conformancev1.ReadWatchedResourceRequest{})
		}, textContents("test://watched-resource", "text/plain", "Watched resource content")},
	}
	for _, tt := range tests {
		t.Run(tt.uri, func(t *testing.T) {
			got, err := tt.call()
			if err != nil {
				t.Fatal(err)
			}
			want := &mcpv1.ResourceResult{Contents: []*mcpv1.ResourceContents{tt.want}}
			if diff := cmp.Diff(want, got, protocmp.Transform()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestWatchResources(t *testing.T) {
	client, _, s := serve(t, &conformance.Service{UpdateInterval: 10 * time.Millisecond})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	start := time.Now()
	stream, err := client.WatchResources(ctx, &mcpv1.WatchResourcesRequest{Uris: []string{"test://static-text"}})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		got, err := stream.Recv()
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(&mcpv1.ResourceUpdated{Uri: conformance.WatchedResourceURI}, got, protocmp.Transform()); diff != "" {
			t.Errorf("update (-want +got):\n%s", diff)
		}
	}
	if d := time.Since(start); d < 30*time.Millisecond {
		t.Errorf("3 updates in %v, want one per 10 ms", d)
	}
	cancel()
	for err == nil {
		_, err = stream.Recv()
	}
	if status.Code(err) != codes.Canceled {
		t.Errorf("Recv after cancel = %v, want Canceled", err)
	}
	waitFor(t, "the handler to return", func() bool {
		return s.InFlight("/"+conformance.ServiceName+"/WatchResources") == 0
	})
}

func TestPrompts(t *testing.T) {
	client, _, _ := serve(t, nil)
	ctx := t.Context()
	tests := []struct {
		name string
		call func() (*mcpv1.PromptResult, error)
		want *mcpv1.PromptResult
	}{
		{"test_simple_prompt", func() (*mcpv1.PromptResult, error) {
			return client.TestSimplePrompt(ctx, &conformancev1.TestSimplePromptRequest{})
		}, &mcpv1.PromptResult{Description: "A simple test prompt", Messages: []*mcpv1.PromptMessage{
			user(textC("This is a simple prompt for testing.")),
		}}},
		{"test_prompt_with_arguments", func() (*mcpv1.PromptResult, error) {
			return client.TestPromptWithArguments(ctx, &conformancev1.TestPromptWithArgumentsRequest{Arg1: "testValue1", Arg2: "testValue2"})
		}, &mcpv1.PromptResult{Description: "A prompt with arguments", Messages: []*mcpv1.PromptMessage{
			user(textC("Prompt with arguments: arg1='testValue1', arg2='testValue2'")),
		}}},
		{"test_prompt_with_embedded_resource", func() (*mcpv1.PromptResult, error) {
			return client.TestPromptWithEmbeddedResource(ctx, &conformancev1.TestPromptWithEmbeddedResourceRequest{ResourceUri: "test://example-resource"})
		}, &mcpv1.PromptResult{Description: "A prompt with an embedded resource", Messages: []*mcpv1.PromptMessage{
			user(embeddedC("test://example-resource", "text/plain", "Embedded resource content for testing.")),
			user(textC("Please process the embedded resource above.")),
		}}},
		{"test_prompt_with_image", func() (*mcpv1.PromptResult, error) {
			return client.TestPromptWithImage(ctx, &conformancev1.TestPromptWithImageRequest{})
		}, &mcpv1.PromptResult{Description: "A prompt with an image", Messages: []*mcpv1.PromptMessage{
			user(imageC(testPNG, "image/png")),
			user(textC("Please analyze the image above.")),
		}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.call()
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got, protocmp.Transform()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestComplete(t *testing.T) {
	client, _, _ := serve(t, nil)
	prompt := func(name, arg, value string) *mcpv1.CompleteRequest {
		return &mcpv1.CompleteRequest{Ref: &mcpv1.CompleteRequest_Prompt{Prompt: name}, Argument: arg, Value: value}
	}
	template := func(uri, arg, value string) *mcpv1.CompleteRequest {
		return &mcpv1.CompleteRequest{Ref: &mcpv1.CompleteRequest_ResourceTemplate{ResourceTemplate: uri}, Argument: arg, Value: value}
	}
	result := func(values ...string) *mcpv1.CompleteResult {
		if values == nil {
			values = []string{}
		}
		return &mcpv1.CompleteResult{Values: values, Total: proto.Int32(int32(len(values)))}
	}
	tests := []struct {
		name string
		req  *mcpv1.CompleteRequest
		want *mcpv1.CompleteResult
	}{
		{"prefix", prompt("test_prompt_with_arguments", "arg1", "test"), result("testValue1", "testValue2", "testValue3")},
		{"ignores case", prompt("test_prompt_with_arguments", "arg2", "TESTVALUE2"), result("testValue2")},
		{"nothing typed", prompt("test_prompt_with_embedded_resource", "resourceUri", ""),
			result("test://static-binary", "test://static-text", "test://watched-resource")},
		{"no match", prompt("test_prompt_with_arguments", "arg1", "x"), result()},
		{"unknown argument", prompt("test_prompt_with_arguments", "arg3", ""), result()},
		{"prompt without arguments", prompt("test_simple_prompt", "x", ""), result()},
		{"template", template("test://template/{id}/data", "id", "1"), result("1", "123")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := client.Complete(t.Context(), tt.req)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got, protocmp.Transform()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	for _, req := range []*mcpv1.CompleteRequest{prompt("no_such_prompt", "a", ""), template("test://nope/{id}", "id", ""), {}} {
		if _, err := client.Complete(t.Context(), req); status.Code(err) != codes.NotFound {
			t.Errorf("Complete(%v) = %v, want NotFound", req, err)
		}
	}
}
