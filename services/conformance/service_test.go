package conformance_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"

	conformancev1 "github.com/toolwire/toolwire/gen/go/examples/conformance/v1"
	mcpv1 "github.com/toolwire/toolwire/gen/go/toolwire/mcp/v1"
	"github.com/toolwire/toolwire/services/conformance"
)

// TestEveryMethodImplemented calls every RPC of the service with an empty
// message: none may answer Unimplemented.
func TestEveryMethodImplemented(t *testing.T) {
	_, conn, _ := serve(t, &conformance.Service{UpdateInterval: time.Millisecond})
	desc := conformancev1.ConformanceService_ServiceDesc
	if desc.ServiceName != conformance.ServiceName {
		t.Errorf("ServiceName = %q, want %q", conformance.ServiceName, desc.ServiceName)
	}
	call := func(t *testing.T, method string, streams grpc.StreamDesc) error {
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
		defer cancel()
		full := "/" + desc.ServiceName + "/" + method
		if !streams.ServerStreams && !streams.ClientStreams {
			return conn.Invoke(ctx, full, &emptypb.Empty{}, &emptypb.Empty{})
		}
		cs, err := conn.NewStream(ctx, &streams, full)
		if err != nil {
			return err
		}
		if err := cs.SendMsg(&emptypb.Empty{}); err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		if err := cs.CloseSend(); err != nil {
			return err
		}
		return cs.RecvMsg(&emptypb.Empty{})
	}
	n := 0
	for _, m := range desc.Methods {
		n++
		t.Run(m.MethodName, func(t *testing.T) {
			if err := call(t, m.MethodName, grpc.StreamDesc{}); status.Code(err) == codes.Unimplemented {
				t.Error(err)
			}
		})
	}
	for _, m := range desc.Streams {
		n++
		t.Run(m.StreamName, func(t *testing.T) {
			d := grpc.StreamDesc{ServerStreams: m.ServerStreams, ClientStreams: m.ClientStreams}
			if err := call(t, m.StreamName, d); status.Code(err) == codes.Unimplemented {
				t.Error(err)
			}
		})
	}
	if n != 44 {
		t.Errorf("the service has %d methods; update this test's count (44) when fixtures come or go", n)
	}
}

func TestContentTools(t *testing.T) {
	client, _, _ := serve(t, nil)
	ctx := t.Context()
	tests := []struct {
		name string
		call func() (proto.Message, error)
		want proto.Message
	}{
		{"test_simple_text", func() (proto.Message, error) {
			return client.TestSimpleText(ctx, &conformancev1.TestSimpleTextRequest{})
		}, &conformancev1.TestSimpleTextResponse{Content: texts("This is a simple text response for testing.")}},
		{"test_image_content", func() (proto.Message, error) {
			return client.TestImageContent(ctx, &conformancev1.TestImageContentRequest{})
		}, &conformancev1.TestImageContentResponse{Content: []*mcpv1.Content{imageC(testPNG, "image/png")}}},
		{"test_audio_content", func() (proto.Message, error) {
			return client.TestAudioContent(ctx, &conformancev1.TestAudioContentRequest{})
		}, &conformancev1.TestAudioContentResponse{Content: []*mcpv1.Content{
			{Kind: &mcpv1.Content_Audio{Audio: &mcpv1.Media{Data: testWAV, MimeType: "audio/wav"}}},
		}}},
		{"test_embedded_resource", func() (proto.Message, error) {
			return client.TestEmbeddedResource(ctx, &conformancev1.TestEmbeddedResourceRequest{})
		}, &conformancev1.TestEmbeddedResourceResponse{Content: []*mcpv1.Content{
			embeddedC("test://embedded-resource", "text/plain", "This is an embedded resource content."),
		}}},
		{"test_multiple_content_types", func() (proto.Message, error) {
			return client.TestMultipleContentTypes(ctx, &conformancev1.TestMultipleContentTypesRequest{})
		}, &conformancev1.TestMultipleContentTypesResponse{Content: []*mcpv1.Content{
			textC("Multiple content types test:"),
			imageC(testPNG, "image/png"),
			embeddedC("test://mixed-content-resource", "application/json", `{"test":"data","value":123}`),
		}}},
		{"test_missing_capability", func() (proto.Message, error) {
			return client.TestMissingCapability(ctx, &conformancev1.TestMissingCapabilityRequest{})
		}, &conformancev1.TestMissingCapabilityResponse{Content: texts("Client declared the sampling capability; tool executed.")}},
		{"test_reconnection", func() (proto.Message, error) {
			return client.TestReconnection(ctx, &conformancev1.TestReconnectionRequest{})
		}, &conformancev1.TestReconnectionResponse{Content: texts(
			"Reconnection test completed successfully. If you received this, the client properly reconnected after stream closure.")}},
		{"greet", func() (proto.Message, error) {
			return client.Greet(ctx, &conformancev1.GreetRequest{Name: "World"})
		}, &conformancev1.GreetResponse{Content: texts("Hello, World!")}},
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

// TestTestData checks the embedded media are what their MIME types say.
func TestTestData(t *testing.T) {
	if !bytes.HasPrefix(testPNG, []byte("\x89PNG\r\n\x1a\n")) {
		t.Errorf("the test image is no PNG: % x", testPNG[:8])
	}
	if !bytes.HasPrefix(testWAV, []byte("RIFF")) || !bytes.Equal(testWAV[8:12], []byte("WAVE")) {
		t.Errorf("the test audio is no WAV: % x", testWAV[:12])
	}
}

func TestStructTools(t *testing.T) {
	client, _, _ := serve(t, nil)
	args, err := structpb.NewStruct(map[string]any{
		"name": "Ada", "contactMethod": "email", "email": "ada@example.com",
		"address": map[string]any{"street": "1 Main St", "city": "London"},
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := client.JsonSchema202012Tool(t.Context(), args)
	if err != nil {
		t.Fatal(err)
	}
	want := &conformancev1.JsonSchema202012ToolResponse{Content: texts(`JSON Schema 2020-12 tool called with: ` +
		`{"address":{"city":"London","street":"1 Main St"},"contactMethod":"email","email":"ada@example.com","name":"Ada"}`)}
	if diff := cmp.Diff(want, got, protocmp.Transform()); diff != "" {
		t.Errorf("json_schema_2020_12_tool (-want +got):\n%s", diff)
	}

	for _, tt := range []struct {
		args map[string]any
		want string
	}{
		{map[string]any{"region": "us-east1", "level": 3}, "region=us-east1"},
		{map[string]any{}, "region="},
	} {
		args, err := structpb.NewStruct(tt.args)
		if err != nil {
			t.Fatal(err)
		}
		got, err := client.TestXMcpHeader(t.Context(), args)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(&conformancev1.TestXMcpHeaderResponse{Content: texts(tt.want)}, got, protocmp.Transform()); diff != "" {
			t.Errorf("test_x_mcp_header(%v) (-want +got):\n%s", tt.args, diff)
		}
	}
}

func TestFailingTools(t *testing.T) {
	client, _, _ := serve(t, nil)
	ctx := t.Context()
	tests := []struct {
		name     string
		call     func() error
		code     codes.Code
		message  string
		minDelay time.Duration
	}{
		{"test_error_handling", func() error {
			_, err := client.TestErrorHandling(ctx, &conformancev1.TestErrorHandlingRequest{})
			return err
		}, codes.Unknown, "This tool intentionally returns an error for testing", 0},
		{"failing_job", func() error {
			_, err := client.FailingJob(ctx, &conformancev1.FailingJobRequest{})
			return err
		}, codes.FailedPrecondition, conformance.FailingJobMessage, 900 * time.Millisecond},
		{"protocol_error_job", func() error {
			_, err := client.ProtocolErrorJob(ctx, &conformancev1.ProtocolErrorJobRequest{})
			return err
		}, codes.Internal, conformance.ProtocolErrorMessage, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			err := tt.call()
			st := status.Convert(err)
			if st.Code() != tt.code || st.Message() != tt.message {
				t.Errorf("got %v, want code %v message %q", err, tt.code, tt.message)
			}
			if d := time.Since(start); d < tt.minDelay {
				t.Errorf("failed after %v, want at least %v", d, tt.minDelay)
			}
		})
	}
}

// TestFailingJobStopsWhenCancelled: a cancelled task's call returns at once.
func TestFailingJobStopsWhenCancelled(t *testing.T) {
	client, _, s := serve(t, nil)
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := client.FailingJob(ctx, &conformancev1.FailingJobRequest{})
	if status.Code(err) != codes.DeadlineExceeded {
		t.Errorf("got %v, want DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Errorf("returned after %v", d)
	}
	waitFor(t, "the handler to return", func() bool {
		return s.InFlight("/"+conformance.ServiceName+"/FailingJob") == 0
	})
}

func TestValidation(t *testing.T) {
	client, _, _ := serve(t, nil)
	ctx := t.Context()
	tests := []struct {
		name string
		call func() error
	}{
		{"greet without a name", func() error {
			_, err := client.Greet(ctx, &conformancev1.GreetRequest{})
			return err
		}},
		{"slow_compute over 600 s", func() error {
			stream, err := client.SlowCompute(ctx, &conformancev1.SlowComputeRequest{Seconds: 601})
			if err != nil {
				return err
			}
			_, err = stream.Recv()
			return err
		}},
		{"prompt without arg2", func() error {
			_, err := client.TestPromptWithArguments(ctx, &conformancev1.TestPromptWithArgumentsRequest{Arg1: "a"})
			return err
		}},
		{"template without id", func() error {
			_, err := client.ReadTemplate(ctx, &conformancev1.ReadTemplateRequest{})
			return err
		}},
		{"test_sampling without a prompt", func() error {
			stream, err := client.TestSampling(ctx)
			if err != nil {
				return err
			}
			if err := stream.Send(&conformancev1.TestSamplingRequest{}); err != nil {
				return err
			}
			_, err = stream.Recv()
			return err
		}},
		{"test_elicitation without a message", func() error {
			stream, err := client.TestElicitation(ctx)
			if err != nil {
				return err
			}
			if err := stream.Send(&conformancev1.TestElicitationRequest{}); err != nil {
				return err
			}
			_, err = stream.Recv()
			return err
		}},
		{"confirm_delete without a filename", func() error {
			stream, err := client.ConfirmDelete(ctx)
			if err != nil {
				return err
			}
			if err := stream.Send(&conformancev1.ConfirmDeleteRequest{}); err != nil {
				return err
			}
			_, err = stream.Recv()
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(); status.Code(err) != codes.InvalidArgument {
				t.Errorf("got %v, want InvalidArgument", err)
			}
		})
	}
}

// recvAll reads a server stream to its end and renders each message.
func recvAll[T proto.Message](t *testing.T, recv func() (T, error)) []string {
	t.Helper()
	var got []string
	for {
		m, err := recv()
		if errors.Is(err, io.EOF) {
			return got
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, describe(m))
	}
}

// describe renders a stream message: its event, or its content.
func describe(m proto.Message) string {
	type contentful interface {
		GetContent() []*mcpv1.Content
	}
	r := m.ProtoReflect()
	if f := r.Descriptor().Fields().ByName("progress"); f != nil && r.Has(f) {
		p := r.Get(f).Message().Interface().(*mcpv1.Progress)
		if p.Total == nil {
			return fmt.Sprintf("progress %v %q", p.GetProgress(), p.GetMessage())
		}
		return fmt.Sprintf("progress %v/%v %q", p.GetProgress(), p.GetTotal(), p.GetMessage())
	}
	if f := r.Descriptor().Fields().ByName("log"); f != nil && r.Has(f) {
		l := r.Get(f).Message().Interface().(*mcpv1.Log)
		return fmt.Sprintf("log %v %s: %s", l.GetLevel(), l.GetLogger(), l.GetMessage())
	}
	var out string
	for _, c := range m.(contentful).GetContent() {
		out += "text " + c.GetText()
	}
	return out
}

func TestStreamingTools(t *testing.T) {
	client, _, _ := serve(t, nil)
	ctx := t.Context()
	tests := []struct {
		name     string
		recv     func(t *testing.T) []string
		want     []string
		minDelay time.Duration
	}{
		{"test_tool_with_logging", func(t *testing.T) []string {
			s, err := client.TestToolWithLogging(ctx, &conformancev1.TestToolWithLoggingRequest{})
			if err != nil {
				t.Fatal(err)
			}
			return recvAll(t, s.Recv)
		}, []string{
			"log LOG_LEVEL_INFO test_tool_with_logging: Tool execution started",
			"log LOG_LEVEL_INFO test_tool_with_logging: Tool processing data",
			"log LOG_LEVEL_INFO test_tool_with_logging: Tool execution completed",
			"text Tool with logging executed successfully",
		}, 100 * time.Millisecond},
		{"test_tool_with_progress", func(t *testing.T) []string {
			s, err := client.TestToolWithProgress(ctx, &conformancev1.TestToolWithProgressRequest{})
			if err != nil {
				t.Fatal(err)
			}
			return recvAll(t, s.Recv)
		}, []string{
			`progress 0/100 "Completed step 0 of 100"`,
			`progress 50/100 "Completed step 50 of 100"`,
			`progress 100/100 "Completed step 100 of 100"`,
			"text Tool with progress executed successfully",
		}, 100 * time.Millisecond},
		{"test_streaming_elicitation", func(t *testing.T) []string {
			s, err := client.TestStreamingElicitation(ctx, &conformancev1.TestStreamingElicitationRequest{})
			if err != nil {
				t.Fatal(err)
			}
			return recvAll(t, s.Recv)
		}, []string{
			`progress 1/2 "step 1 of 2"`,
			`progress 2/2 "step 2 of 2"`,
			"text stream observed: result frames only, no top-level requests",
		}, 0},
		{"test_logging_tool", func(t *testing.T) []string {
			s, err := client.TestLoggingTool(ctx, &conformancev1.TestLoggingToolRequest{})
			if err != nil {
				t.Fatal(err)
			}
			return recvAll(t, s.Recv)
		}, []string{
			"log LOG_LEVEL_INFO test_logging_tool: test_logging_tool executed",
			"text Log attempted; the edge forwards it only to a client that set a log level.",
		}, 0},
		{"slow_compute 0 s", func(t *testing.T) []string {
			s, err := client.SlowCompute(ctx, &conformancev1.SlowComputeRequest{Label: "instant"})
			if err != nil {
				t.Fatal(err)
			}
			return recvAll(t, s.Recv)
		}, []string{
			`progress 0 "0 of 0 s"`,
			`text slow_compute "instant": done after 0 s`,
		}, 0},
		{"slow_compute 1 s", func(t *testing.T) []string {
			s, err := client.SlowCompute(ctx, &conformancev1.SlowComputeRequest{Seconds: 1, Label: "one"})
			if err != nil {
				t.Fatal(err)
			}
			return recvAll(t, s.Recv)
		}, []string{
			`progress 0/1 "0 of 1 s"`,
			`progress 1/1 "1 of 1 s"`,
			`text slow_compute "one": done after 1 s`,
		}, time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			got := tt.recv(t)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("messages (-want +got):\n%s", diff)
			}
			if d := time.Since(start); d < tt.minDelay {
				t.Errorf("took %v, want at least %v", d, tt.minDelay)
			}
		})
	}
}

// TestSlowComputeStopsWhenCancelled: cancelling the call (the task) stops
// the computation at once.
func TestSlowComputeStopsWhenCancelled(t *testing.T) {
	client, _, s := serve(t, nil)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	stream, err := client.SlowCompute(ctx, &conformancev1.SlowComputeRequest{Seconds: 60, Label: "cancel"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := stream.Recv(); err != nil {
		t.Fatal(err)
	}
	cancel()
	for err == nil {
		_, err = stream.Recv()
	}
	if status.Code(err) != codes.Canceled {
		t.Errorf("Recv after cancel = %v, want Canceled", err)
	}
	waitFor(t, "the handler to return", func() bool {
		return s.InFlight("/"+conformance.ServiceName+"/SlowCompute") == 0
	})
}
