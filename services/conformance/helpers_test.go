package conformance_test

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/structpb"

	conformancev1 "github.com/toolwire/toolwire/gen/go/examples/conformance/v1"
	mcpv1 "github.com/toolwire/toolwire/gen/go/toolwire/mcp/v1"
	"github.com/toolwire/toolwire/server"
	"github.com/toolwire/toolwire/server/servertest"
	"github.com/toolwire/toolwire/services/conformance"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// waitBound bounds condition waits; the conditions normally hold within
// milliseconds.
const waitBound = 5 * time.Second

// serve runs svc (a zero Service when nil) through server.New, with its
// interceptors and validation, on an in-memory listener.
func serve(t *testing.T, svc *conformance.Service) (conformancev1.ConformanceServiceClient, *grpc.ClientConn, *server.Server) {
	t.Helper()
	s := server.New(&server.Options{Registerer: prometheus.NewRegistry(), Logger: slog.New(slog.DiscardHandler)})
	if svc == nil {
		conformance.Register(s.GRPC())
	} else {
		conformancev1.RegisterConformanceServiceServer(s.GRPC(), svc)
	}
	conn := servertest.Dial(t, s)
	return conformancev1.NewConformanceServiceClient(conn), conn, s
}

// withCapabilities is ctx carrying the client capabilities the edge passes.
func withCapabilities(ctx context.Context, caps string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, server.MDClientCapabilities, caps)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitBound)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", waitBound, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// The test data, as the suite's reference servers have it.
var (
	testPNG = mustBase64("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==")
	testWAV = mustBase64("UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAAB9AAACABAAZGF0YQIAAAA=")
)

func mustBase64(s string) []byte {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

func textC(s string) *mcpv1.Content { return &mcpv1.Content{Kind: &mcpv1.Content_Text{Text: s}} }

func texts(s string) []*mcpv1.Content { return []*mcpv1.Content{textC(s)} }

func imageC(data []byte, mime string) *mcpv1.Content {
	return &mcpv1.Content{Kind: &mcpv1.Content_Image{Image: &mcpv1.Media{Data: data, MimeType: mime}}}
}

func textContents(uri, mime, body string) *mcpv1.ResourceContents {
	return &mcpv1.ResourceContents{Uri: uri, MimeType: mime, Body: &mcpv1.ResourceContents_Text{Text: body}}
}

func embeddedC(uri, mime, body string) *mcpv1.Content {
	return &mcpv1.Content{Kind: &mcpv1.Content_Resource{Resource: textContents(uri, mime, body)}}
}

func user(c *mcpv1.Content) *mcpv1.PromptMessage {
	return &mcpv1.PromptMessage{Role: mcpv1.Role_ROLE_USER, Content: c}
}

// object parses a JSON object into a Struct.
func object(t *testing.T, js string) *structpb.Struct {
	t.Helper()
	s := &structpb.Struct{}
	if err := protojson.Unmarshal([]byte(js), s); err != nil {
		t.Fatalf("object %s: %v", js, err)
	}
	return s
}

// Questions.

func elicitQ(t *testing.T, message, schema string) *mcpv1.InputRequest {
	return &mcpv1.InputRequest{Kind: &mcpv1.InputRequest_Elicit{Elicit: &mcpv1.ElicitRequest{Message: message, RequestedSchema: object(t, schema)}}}
}

func sampleQ(prompt string, maxTokens int32) *mcpv1.InputRequest {
	return &mcpv1.InputRequest{Kind: &mcpv1.InputRequest_Sampling{Sampling: &mcpv1.SamplingRequest{
		Messages:  []*mcpv1.SamplingMessage{{Role: mcpv1.Role_ROLE_USER, Content: textC(prompt)}},
		MaxTokens: maxTokens,
	}}}
}

func rootsQ() *mcpv1.InputRequest {
	return &mcpv1.InputRequest{Kind: &mcpv1.InputRequest_Roots{Roots: &mcpv1.RootsRequest{}}}
}

func questions(reqs map[string]*mcpv1.InputRequest) *mcpv1.InputRequests {
	return &mcpv1.InputRequests{Requests: reqs}
}

const nameSchema = `{"type":"object","properties":{"name":{"type":"string"}},"required":["name"]}`

// Answers.

func answers(resps map[string]*mcpv1.InputResponse) *mcpv1.InputResponses {
	return &mcpv1.InputResponses{Responses: resps}
}

func acceptA(t *testing.T, content string) *mcpv1.InputResponse {
	return &mcpv1.InputResponse{Kind: &mcpv1.InputResponse_Elicit{Elicit: &mcpv1.ElicitResult{
		Action: mcpv1.ElicitAction_ELICIT_ACTION_ACCEPT, Content: object(t, content),
	}}}
}

func declineA() *mcpv1.InputResponse {
	return &mcpv1.InputResponse{Kind: &mcpv1.InputResponse_Elicit{Elicit: &mcpv1.ElicitResult{Action: mcpv1.ElicitAction_ELICIT_ACTION_DECLINE}}}
}

func sampleA(text string) *mcpv1.InputResponse {
	return &mcpv1.InputResponse{Kind: &mcpv1.InputResponse_Sampling{Sampling: &mcpv1.SamplingResult{
		Role: mcpv1.Role_ROLE_ASSISTANT, Content: textC(text), Model: "test-model", StopReason: "endTurn",
	}}}
}

func rootsA(uris ...string) *mcpv1.InputResponse {
	r := &mcpv1.RootsResult{}
	for _, u := range uris {
		r.Roots = append(r.Roots, &mcpv1.Root{Uri: u})
	}
	return &mcpv1.InputResponse{Kind: &mcpv1.InputResponse_Roots{Roots: r}}
}

func errorA(code int32, message string) *mcpv1.InputResponse {
	return &mcpv1.InputResponse{Kind: &mcpv1.InputResponse_Error{Error: &mcpv1.InputError{Code: code, Message: message}}}
}

// step is one exchange of a bidi call: the message the backend must send
// next, and what the test sends back after it (nothing when nil).
type step[Req, Resp any] struct {
	want  *Resp
	reply *Req
}

// converse runs a bidi call: it sends first, then expects each step's
// message in turn, sending each step's reply after it, and then the end of
// the stream with wantCode.
func converse[Req, Resp any](t *testing.T, open func(context.Context, ...grpc.CallOption) (grpc.BidiStreamingClient[Req, Resp], error),
	ctx context.Context, first *Req, steps []step[Req, Resp], wantCode codes.Code,
) {
	t.Helper()
	stream, err := open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.Send(first); err != nil {
		t.Fatal(err)
	}
	for i, s := range steps {
		got, err := stream.Recv()
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if diff := cmp.Diff(s.want, got, protocmp.Transform()); diff != "" {
			t.Fatalf("message %d (-want +got):\n%s", i, diff)
		}
		if s.reply != nil {
			if err := stream.Send(s.reply); err != nil {
				t.Fatalf("reply %d: %v", i, err)
			}
		}
	}
	got, err := stream.Recv()
	if errors.Is(err, io.EOF) {
		err = nil
	} else if err == nil {
		t.Fatalf("unexpected message after the last step: %v", got)
	}
	if status.Code(err) != wantCode {
		t.Fatalf("end of stream: %v, want code %v", err, wantCode)
	}
}
