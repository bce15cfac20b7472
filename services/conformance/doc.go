// Package conformance implements examples.conformance.v1.ConformanceService:
// the fixtures of the official MCP conformance suite
// (@modelcontextprotocol/conformance), as a gRPC backend the edge serves
// like any other. It holds every fixture the suite's scenarios call by name:
//
//   - tools returning each kind of content block, logging, reporting
//     progress, failing, and asking the client for input (sampling,
//     elicitation, roots) in one or several rounds;
//   - the task fixtures of the io.modelcontextprotocol/tasks extension
//     (greet, slow_compute, failing_job, protocol_error_job,
//     confirm_delete, multi_input, test_tool_with_task);
//   - the resources test://static-text, test://static-binary,
//     test://watched-resource and the template test://template/{id}/data,
//     with a stream of the watched resource's updates;
//   - the prompts, and the completion of their arguments.
//
// A tool that asks for input is a bidi-streaming RPC: it sends a
// toolwire.mcp.v1.InputRequests, one round of questions, and reads the
// answers from the next request message. It asks the same questions for
// the same arguments and answers, so that the edge may replay the rounds.
//
// In a process of its own, [Run] serves it; to serve it beside other
// services, call [Register] on a [server.Server]'s gRPC server:
//
//	s := server.New(nil)
//	conformance.Register(s.GRPC())
//	err := s.Serve(ctx, lis)
package conformance
