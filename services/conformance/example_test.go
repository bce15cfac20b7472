package conformance_test

import (
	"context"
	"fmt"
	"log"
	"log/slog"

	"google.golang.org/protobuf/types/known/structpb"

	conformancev1 "github.com/toolwire/toolwire/gen/go/examples/conformance/v1"
	mcpv1 "github.com/toolwire/toolwire/gen/go/toolwire/mcp/v1"
	"github.com/toolwire/toolwire/server"
	"github.com/toolwire/toolwire/services/conformance"
)

// A bidi fixture asks its client for input on the stream: here the edge's
// part is played by hand, answering the one round of
// test_input_required_result_elicitation.
func ExampleRegister() {
	ctx, cancel := context.WithCancel(context.Background())
	s := server.New(&server.Options{Logger: slog.New(slog.DiscardHandler)})
	conformance.Register(s.GRPC())
	conn, served, err := s.ServeInMemory(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer func() { _ = conn.Close(); cancel(); <-served }()

	client := conformancev1.NewConformanceServiceClient(conn)
	stream, err := client.TestInputRequiredResultElicitation(ctx)
	if err != nil {
		log.Fatal(err)
	}
	// The first message carries the arguments (none here).
	if err := stream.Send(&conformancev1.TestInputRequiredResultElicitationRequest{}); err != nil {
		log.Fatal(err)
	}
	round, err := stream.Recv()
	if err != nil {
		log.Fatal(err)
	}
	for key, q := range round.GetInputRequests().GetRequests() {
		fmt.Printf("%s: %s\n", key, q.GetElicit().GetMessage())
	}
	name, _ := structpb.NewStruct(map[string]any{"name": "Alice"})
	answer := &mcpv1.InputResponses{Responses: map[string]*mcpv1.InputResponse{
		"user_name": {Kind: &mcpv1.InputResponse_Elicit{Elicit: &mcpv1.ElicitResult{Action: mcpv1.ElicitAction_ELICIT_ACTION_ACCEPT, Content: name}}},
	}}
	if err := stream.Send(&conformancev1.TestInputRequiredResultElicitationRequest{InputResponses: answer}); err != nil {
		log.Fatal(err)
	}
	result, err := stream.Recv()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(result.GetContent()[0].GetText())
	// Output:
	// user_name: What is your name?
	// Hello, Alice!
}
