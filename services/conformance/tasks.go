package conformance

import (
	"cmp"
	"context"
	"fmt"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	conformancev1 "github.com/toolwire/toolwire/gen/go/examples/conformance/v1"
	mcpv1 "github.com/toolwire/toolwire/gen/go/toolwire/mcp/v1"
	"github.com/toolwire/toolwire/server"
)

// This file holds the fixtures of the io.modelcontextprotocol/tasks
// extension (SEP-2663). Whether a call is a task is the edge's decision,
// from the tool's task_support: a unary or server-streaming task tool is a
// task at once; a bidi one becomes a task with its first message, unless
// that message asks for input, which the edge then asks synchronously
// (MRTR) first. So a bidi fixture that must run as a task before it asks
// reports progress first.

// FailingJobMessage is the error failing_job always fails with.
const FailingJobMessage = "the job failed, as it always does"

// ProtocolErrorMessage is the error protocol_error_job always fails with.
const ProtocolErrorMessage = "simulated internal failure"

// failingJobDelay is how long failing_job works before it fails.
const failingJobDelay = time.Second

// Greet answers "Hello, {name}!".
func (*Service) Greet(_ context.Context, req *conformancev1.GreetRequest) (*conformancev1.GreetResponse, error) {
	return &conformancev1.GreetResponse{Content: texts("Hello, " + req.GetName() + "!")}, nil
}

// SlowCompute reports progress at once and after each second of its
// seconds, then answers; it stops with the call (a cancelled task).
func (*Service) SlowCompute(req *conformancev1.SlowComputeRequest, stream grpc.ServerStreamingServer[conformancev1.SlowComputeResponse]) error {
	n := req.GetSeconds()
	for i := range n + 1 {
		if i > 0 {
			if err := sleep(stream.Context(), time.Second); err != nil {
				return err
			}
		}
		p := server.Progress(float64(i), float64(n), fmt.Sprintf("%d of %d s", i, n))
		if err := stream.Send(&conformancev1.SlowComputeResponse{Progress: p}); err != nil {
			return err
		}
	}
	return stream.Send(&conformancev1.SlowComputeResponse{Content: texts(
		fmt.Sprintf("slow_compute %q: done after %d s", req.GetLabel(), n),
	)})
}

// FailingJob works for about a second, then fails with
// codes.FailedPrecondition and [FailingJobMessage]: a tool execution error,
// which the edge makes an isError result (a completed task).
func (*Service) FailingJob(ctx context.Context, _ *conformancev1.FailingJobRequest) (*conformancev1.FailingJobResponse, error) {
	if err := sleep(ctx, failingJobDelay); err != nil {
		return nil, err
	}
	return nil, status.Error(codes.FailedPrecondition, FailingJobMessage)
}

// ProtocolErrorJob fails at once with codes.Internal and
// [ProtocolErrorMessage], the status a crashed backend's recovered panic
// gives: a protocol-level failure rather than a tool execution error.
func (*Service) ProtocolErrorJob(context.Context, *conformancev1.ProtocolErrorJobRequest) (*conformancev1.ProtocolErrorJobResponse, error) {
	return nil, status.Error(codes.Internal, ProtocolErrorMessage)
}

// ConfirmDelete reports progress, asks the user to confirm the deletion
// ("confirm", a boolean), and answers "Deleted <filename>." when the user
// accepted with confirm true, "Kept <filename>." otherwise. It deletes
// nothing.
func (*Service) ConfirmDelete(stream grpc.BidiStreamingServer[conformancev1.ConfirmDeleteRequest, conformancev1.ConfirmDeleteResponse]) error {
	args, err := arguments(stream)
	if err != nil {
		return err
	}
	name := args.GetFilename()
	if err := stream.Send(&conformancev1.ConfirmDeleteResponse{Progress: server.Progress(0, 1, "waiting for confirmation")}); err != nil {
		return err
	}
	q, err := elicit(fmt.Sprintf("Delete %s?", name),
		`{"type":"object","properties":{"confirm":{"type":"boolean","description":"Whether to delete the file"}},"required":["confirm"]}`)
	if err != nil {
		return err
	}
	resps, err := ask(stream, func(r *mcpv1.InputRequests) *conformancev1.ConfirmDeleteResponse {
		return &conformancev1.ConfirmDeleteResponse{InputRequests: r}
	}, map[string]*mcpv1.InputRequest{"confirm": q})
	if err != nil {
		return err
	}
	if ok, _ := acceptedContent(resps, "confirm")["confirm"].(bool); ok {
		return stream.Send(&conformancev1.ConfirmDeleteResponse{Content: texts("Deleted " + name + ".")})
	}
	return stream.Send(&conformancev1.ConfirmDeleteResponse{Content: texts("Kept " + name + ".")})
}

// MultiInput reports progress, asks at once for a name ("name") and a
// confirmation ("confirm"), and answers "multi_input: name=<name>,
// confirm=<bool>" from the accepted answers.
func (*Service) MultiInput(stream grpc.BidiStreamingServer[conformancev1.MultiInputRequest, conformancev1.MultiInputResponse]) error {
	if _, err := arguments(stream); err != nil {
		return err
	}
	if err := stream.Send(&conformancev1.MultiInputResponse{Progress: server.Progress(0, 1, "waiting for input")}); err != nil {
		return err
	}
	name, err := elicit("What is your name?", nameSchema)
	if err != nil {
		return err
	}
	confirm, err := elicit("Do you confirm?",
		`{"type":"object","properties":{"confirm":{"type":"boolean"}},"required":["confirm"]}`)
	if err != nil {
		return err
	}
	resps, err := ask(stream, func(r *mcpv1.InputRequests) *conformancev1.MultiInputResponse {
		return &conformancev1.MultiInputResponse{InputRequests: r}
	}, map[string]*mcpv1.InputRequest{"name": name, "confirm": confirm})
	if err != nil {
		return err
	}
	ok, _ := acceptedContent(resps, "confirm")["confirm"].(bool)
	return stream.Send(&conformancev1.MultiInputResponse{Content: texts(
		fmt.Sprintf("multi_input: name=%s, confirm=%t", cmp.Or(acceptedString(resps, "name", "name"), "unknown"), ok),
	)})
}

// TestToolWithTask asks for the caller's name ("user_name") before
// anything else, until an accepted answer carries one; then it reports
// progress, which makes the call a task, and answers "Hello, <name>!".
func (*Service) TestToolWithTask(stream grpc.BidiStreamingServer[conformancev1.TestToolWithTaskRequest, conformancev1.TestToolWithTaskResponse]) error {
	if _, err := arguments(stream); err != nil {
		return err
	}
	name, err := askString(stream, func(r *mcpv1.InputRequests) *conformancev1.TestToolWithTaskResponse {
		return &conformancev1.TestToolWithTaskResponse{InputRequests: r}
	}, "user_name", "What is your name?", nameSchema, "name")
	if err != nil {
		return err
	}
	if err := stream.Send(&conformancev1.TestToolWithTaskResponse{Progress: server.Progress(0, 1, "greeting "+name)}); err != nil {
		return err
	}
	return stream.Send(&conformancev1.TestToolWithTaskResponse{Content: texts("Hello, " + name + "!")})
}
