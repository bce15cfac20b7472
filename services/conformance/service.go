package conformance

import (
	"context"
	"strconv"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/structpb"

	conformancev1 "github.com/toolwire/toolwire/gen/go/examples/conformance/v1"
	mcpv1 "github.com/toolwire/toolwire/gen/go/toolwire/mcp/v1"
	"github.com/toolwire/toolwire/server"
)

// ServiceName is the gRPC service's full name.
const ServiceName = "examples.conformance.v1.ConformanceService"

// Service implements [conformancev1.ConformanceServiceServer]. The zero
// value is ready to use; it holds no state between calls.
type Service struct {
	conformancev1.UnimplementedConformanceServiceServer

	// UpdateInterval is how often WatchResources reports that
	// test://watched-resource changed; zero means [DefaultUpdateInterval].
	UpdateInterval time.Duration
}

// Register registers a zero [Service] on s.
func Register(s grpc.ServiceRegistrar) {
	conformancev1.RegisterConformanceServiceServer(s, &Service{})
}

// sleep waits d, or returns the call's end as a status error if ctx ends
// first.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return server.ContextError(ctx)
	}
}

// TestSimpleText returns one text block.
func (*Service) TestSimpleText(context.Context, *conformancev1.TestSimpleTextRequest) (*conformancev1.TestSimpleTextResponse, error) {
	return &conformancev1.TestSimpleTextResponse{Content: texts("This is a simple text response for testing.")}, nil
}

// TestImageContent returns the test PNG.
func (*Service) TestImageContent(context.Context, *conformancev1.TestImageContentRequest) (*conformancev1.TestImageContentResponse, error) {
	return &conformancev1.TestImageContentResponse{Content: []*mcpv1.Content{image(pngData(), "image/png")}}, nil
}

// TestAudioContent returns the test WAV.
func (*Service) TestAudioContent(context.Context, *conformancev1.TestAudioContentRequest) (*conformancev1.TestAudioContentResponse, error) {
	return &conformancev1.TestAudioContentResponse{Content: []*mcpv1.Content{audio(wavData(), "audio/wav")}}, nil
}

// TestEmbeddedResource returns an embedded text resource.
func (*Service) TestEmbeddedResource(context.Context, *conformancev1.TestEmbeddedResourceRequest) (*conformancev1.TestEmbeddedResourceResponse, error) {
	return &conformancev1.TestEmbeddedResourceResponse{Content: []*mcpv1.Content{
		embedded("test://embedded-resource", "text/plain", "This is an embedded resource content."),
	}}, nil
}

// TestMultipleContentTypes returns a text, an image and an embedded
// resource.
func (*Service) TestMultipleContentTypes(context.Context, *conformancev1.TestMultipleContentTypesRequest) (*conformancev1.TestMultipleContentTypesResponse, error) {
	return &conformancev1.TestMultipleContentTypesResponse{Content: []*mcpv1.Content{
		text("Multiple content types test:"),
		image(pngData(), "image/png"),
		embedded("test://mixed-content-resource", "application/json", `{"test":"data","value":123}`),
	}}, nil
}

// TestToolWithLogging logs three lines at info level, 50 ms apart, then
// answers.
func (*Service) TestToolWithLogging(_ *conformancev1.TestToolWithLoggingRequest, stream grpc.ServerStreamingServer[conformancev1.TestToolWithLoggingResponse]) error {
	lines := []string{"Tool execution started", "Tool processing data", "Tool execution completed"}
	for i, line := range lines {
		if i > 0 {
			if err := sleep(stream.Context(), 50*time.Millisecond); err != nil {
				return err
			}
		}
		log := &mcpv1.Log{Level: mcpv1.LogLevel_LOG_LEVEL_INFO, Logger: "test_tool_with_logging", Message: line}
		if err := stream.Send(&conformancev1.TestToolWithLoggingResponse{Log: log}); err != nil {
			return err
		}
	}
	return stream.Send(&conformancev1.TestToolWithLoggingResponse{Content: texts("Tool with logging executed successfully")})
}

// TestToolWithProgress reports progress 0, 50 and 100 out of 100, 50 ms
// apart, then answers.
func (*Service) TestToolWithProgress(_ *conformancev1.TestToolWithProgressRequest, stream grpc.ServerStreamingServer[conformancev1.TestToolWithProgressResponse]) error {
	for i, done := range []float64{0, 50, 100} {
		if i > 0 {
			if err := sleep(stream.Context(), 50*time.Millisecond); err != nil {
				return err
			}
		}
		p := server.Progress(done, 100, "Completed step "+strconv.Itoa(int(done))+" of 100")
		if err := stream.Send(&conformancev1.TestToolWithProgressResponse{Progress: p}); err != nil {
			return err
		}
	}
	return stream.Send(&conformancev1.TestToolWithProgressResponse{Content: texts("Tool with progress executed successfully")})
}

// ErrorHandlingMessage is the error test_error_handling always fails with.
const ErrorHandlingMessage = "This tool intentionally returns an error for testing"

// TestErrorHandling always fails with codes.Unknown and
// [ErrorHandlingMessage], which the edge turns into an isError result.
func (*Service) TestErrorHandling(context.Context, *conformancev1.TestErrorHandlingRequest) (*conformancev1.TestErrorHandlingResponse, error) {
	return nil, status.Error(codes.Unknown, ErrorHandlingMessage)
}

// JsonSchema202012Tool echoes its arguments, which the edge has validated
// against the tool's verbatim schema.
func (*Service) JsonSchema202012Tool(_ context.Context, args *structpb.Struct) (*conformancev1.JsonSchema202012ToolResponse, error) {
	return &conformancev1.JsonSchema202012ToolResponse{
		Content: texts("JSON Schema 2020-12 tool called with: " + jsonText(args.AsMap())),
	}, nil
}

// TestReconnection waits 100 ms and answers.
func (*Service) TestReconnection(ctx context.Context, _ *conformancev1.TestReconnectionRequest) (*conformancev1.TestReconnectionResponse, error) {
	if err := sleep(ctx, 100*time.Millisecond); err != nil {
		return nil, err
	}
	return &conformancev1.TestReconnectionResponse{Content: texts(
		"Reconnection test completed successfully. If you received this, the client properly reconnected after stream closure.",
	)}, nil
}

// TestXMcpHeader answers with the region it was given.
func (*Service) TestXMcpHeader(_ context.Context, args *structpb.Struct) (*conformancev1.TestXMcpHeaderResponse, error) {
	return &conformancev1.TestXMcpHeaderResponse{Content: texts("region=" + args.GetFields()["region"].GetStringValue())}, nil
}

// TestMissingCapability answers; the edge calls it only for a client that
// declared sampling.
func (*Service) TestMissingCapability(context.Context, *conformancev1.TestMissingCapabilityRequest) (*conformancev1.TestMissingCapabilityResponse, error) {
	return &conformancev1.TestMissingCapabilityResponse{Content: texts("Client declared the sampling capability; tool executed.")}, nil
}

// TestStreamingElicitation reports progress twice, then answers: its stream
// carries events and the result, never a request.
func (*Service) TestStreamingElicitation(_ *conformancev1.TestStreamingElicitationRequest, stream grpc.ServerStreamingServer[conformancev1.TestStreamingElicitationResponse]) error {
	for i := 1; i <= 2; i++ {
		p := server.Progress(float64(i), 2, "step "+strconv.Itoa(i)+" of 2")
		if err := stream.Send(&conformancev1.TestStreamingElicitationResponse{Progress: p}); err != nil {
			return err
		}
	}
	return stream.Send(&conformancev1.TestStreamingElicitationResponse{Content: texts("stream observed: result frames only, no top-level requests")})
}

// TestLoggingTool logs one line at info level, then answers.
func (*Service) TestLoggingTool(_ *conformancev1.TestLoggingToolRequest, stream grpc.ServerStreamingServer[conformancev1.TestLoggingToolResponse]) error {
	log := &mcpv1.Log{Level: mcpv1.LogLevel_LOG_LEVEL_INFO, Logger: "test_logging_tool", Message: "test_logging_tool executed"}
	if err := stream.Send(&conformancev1.TestLoggingToolResponse{Log: log}); err != nil {
		return err
	}
	return stream.Send(&conformancev1.TestLoggingToolResponse{Content: texts("Log attempted; the edge forwards it only to a client that set a log level.")})
}
