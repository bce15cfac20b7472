package conformance

import (
	"cmp"
	"fmt"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	conformancev1 "github.com/toolwire/toolwire/gen/go/examples/conformance/v1"
	mcpv1 "github.com/toolwire/toolwire/gen/go/toolwire/mcp/v1"
	"github.com/toolwire/toolwire/server"
)

// This file holds the tools that ask the client for input: sampling and
// elicitation on session revisions, and the multi-round-trip (MRTR,
// SEP-2322) family of 2026-07-28. The edge carries each round to the
// client and brings its answers back, whatever the revision.

// Requested schemas of the elicitation fixtures.
const (
	elicitationSchema = `{"type":"object","properties":{` +
		`"username":{"type":"string","description":"User's response"},` +
		`"email":{"type":"string","description":"User's email address"}},` +
		`"required":["username","email"]}`
	defaultsSchema = `{"type":"object","properties":{` +
		`"name":{"type":"string","description":"User name","default":"John Doe"},` +
		`"age":{"type":"integer","description":"User age","default":30},` +
		`"score":{"type":"number","description":"User score","default":95.5},` +
		`"status":{"type":"string","description":"User status","enum":["active","inactive","pending"],"default":"active"},` +
		`"verified":{"type":"boolean","description":"Verification status","default":true}}}`
	enumsSchema = `{"type":"object","properties":{` +
		`"untitledSingle":{"type":"string","enum":["option1","option2","option3"]},` +
		`"titledSingle":{"type":"string","oneOf":[{"const":"value1","title":"First Option"},` +
		`{"const":"value2","title":"Second Option"},{"const":"value3","title":"Third Option"}]},` +
		`"legacyEnum":{"type":"string","enum":["opt1","opt2","opt3"],"enumNames":["Option One","Option Two","Option Three"]},` +
		`"untitledMulti":{"type":"array","minItems":1,"maxItems":3,"items":{"type":"string","enum":["option1","option2","option3"]}},` +
		`"titledMulti":{"type":"array","minItems":1,"maxItems":3,"items":{"anyOf":[{"const":"value1","title":"First Option"},` +
		`{"const":"value2","title":"Second Option"},{"const":"value3","title":"Third Option"}]}}}}`
	confirmSchema = `{"type":"object","properties":{"ok":{"type":"boolean"}},"required":["ok"]}`
	colorSchema   = `{"type":"object","properties":{"color":{"type":"string"}},"required":["color"]}`
	contextSchema = `{"type":"object","properties":{"context":{"type":"string"}},"required":["context"]}`
)

// TestSampling asks the client's LLM to answer the prompt and returns
// "LLM response: " and its text. A client that cannot sample fails the
// call.
func (*Service) TestSampling(stream grpc.BidiStreamingServer[conformancev1.TestSamplingRequest, conformancev1.TestSamplingResponse]) error {
	args, err := arguments(stream)
	if err != nil {
		return err
	}
	resps, err := ask(stream, func(r *mcpv1.InputRequests) *conformancev1.TestSamplingResponse {
		return &conformancev1.TestSamplingResponse{InputRequests: r}
	}, map[string]*mcpv1.InputRequest{"sampling": sample(args.GetPrompt(), 100)})
	if err != nil {
		return err
	}
	if _, err := answered(resps, "sampling"); err != nil {
		return err
	}
	t, ok := samplingText(resps, "sampling")
	if !ok {
		return status.Error(codes.FailedPrecondition, "the client did not answer the sampling request with a message")
	}
	return stream.Send(&conformancev1.TestSamplingResponse{Content: texts("LLM response: " + t)})
}

// elicitOnce asks one elicitation and returns the user's answer, rendered,
// for the fixtures that report what they got.
func elicitOnce[Req, Resp any, P answerer[Req]](stream grpc.BidiStreamingServer[Req, Resp], wrap func(*mcpv1.InputRequests) *Resp, message, schema string) (string, error) {
	q, err := elicit(message, schema)
	if err != nil {
		return "", err
	}
	resps, err := ask[Req, Resp, P](stream, wrap, map[string]*mcpv1.InputRequest{"elicitation": q})
	if err != nil {
		return "", err
	}
	r, err := answered(resps, "elicitation")
	if err != nil {
		return "", err
	}
	if r.GetElicit() == nil {
		return "", status.Error(codes.FailedPrecondition, "the client did not answer the elicitation request with an elicitation result")
	}
	return elicitResult(r.GetElicit()), nil
}

// TestElicitation asks the user for a username and an email address, with
// the message it is given, and returns "User response: " and the answer.
func (*Service) TestElicitation(stream grpc.BidiStreamingServer[conformancev1.TestElicitationRequest, conformancev1.TestElicitationResponse]) error {
	args, err := arguments(stream)
	if err != nil {
		return err
	}
	got, err := elicitOnce(stream, func(r *mcpv1.InputRequests) *conformancev1.TestElicitationResponse {
		return &conformancev1.TestElicitationResponse{InputRequests: r}
	}, args.GetMessage(), elicitationSchema)
	if err != nil {
		return err
	}
	return stream.Send(&conformancev1.TestElicitationResponse{Content: texts("User response: " + got)})
}

// TestElicitationSep1034Defaults asks with a schema whose every property
// has a default, and returns "Elicitation completed: " and the answer.
func (*Service) TestElicitationSep1034Defaults(stream grpc.BidiStreamingServer[conformancev1.TestElicitationSep1034DefaultsRequest, conformancev1.TestElicitationSep1034DefaultsResponse]) error {
	if _, err := arguments(stream); err != nil {
		return err
	}
	got, err := elicitOnce(stream, func(r *mcpv1.InputRequests) *conformancev1.TestElicitationSep1034DefaultsResponse {
		return &conformancev1.TestElicitationSep1034DefaultsResponse{InputRequests: r}
	}, "Test defaults for primitives", defaultsSchema)
	if err != nil {
		return err
	}
	return stream.Send(&conformancev1.TestElicitationSep1034DefaultsResponse{Content: texts("Elicitation completed: " + got)})
}

// TestElicitationSep1330Enums asks with a schema of every enum variant of
// SEP-1330, and returns "Elicitation completed: " and the answer.
func (*Service) TestElicitationSep1330Enums(stream grpc.BidiStreamingServer[conformancev1.TestElicitationSep1330EnumsRequest, conformancev1.TestElicitationSep1330EnumsResponse]) error {
	if _, err := arguments(stream); err != nil {
		return err
	}
	got, err := elicitOnce(stream, func(r *mcpv1.InputRequests) *conformancev1.TestElicitationSep1330EnumsResponse {
		return &conformancev1.TestElicitationSep1330EnumsResponse{InputRequests: r}
	}, "Test enum schemas", enumsSchema)
	if err != nil {
		return err
	}
	return stream.Send(&conformancev1.TestElicitationSep1330EnumsResponse{Content: texts("Elicitation completed: " + got)})
}

// untilAnswered asks the questions reqs makes, again with each round's
// answers, until done accepts the answers, for at most maxRounds rounds: a
// missing or unusable answer is asked for again (SEP-2322 re-requests
// missing input rather than failing). reqs may depend on the round's
// number only, so that the questions are the same on a replay.
func untilAnswered[Req, Resp any, P answerer[Req]](stream grpc.BidiStreamingServer[Req, Resp], wrap func(*mcpv1.InputRequests) *Resp,
	reqs func() (map[string]*mcpv1.InputRequest, error), done func(map[string]*mcpv1.InputResponse) bool,
) (map[string]*mcpv1.InputResponse, error) {
	for range maxRounds {
		q, err := reqs()
		if err != nil {
			return nil, err
		}
		resps, err := ask[Req, Resp, P](stream, wrap, q)
		if err != nil {
			return nil, err
		}
		if done(resps) {
			return resps, nil
		}
	}
	return nil, status.Errorf(codes.FailedPrecondition, "no usable answer after %d rounds", maxRounds)
}

// askString asks the elicitation question message, with schema, under key
// until an accepted answer carries a non-empty string field, and returns
// it.
func askString[Req, Resp any, P answerer[Req]](stream grpc.BidiStreamingServer[Req, Resp], wrap func(*mcpv1.InputRequests) *Resp,
	key, message, schema, field string,
) (string, error) {
	q, err := elicit(message, schema)
	if err != nil {
		return "", err
	}
	resps, err := untilAnswered[Req, Resp, P](stream, wrap, one(key, q), func(resps map[string]*mcpv1.InputResponse) bool {
		return acceptedString(resps, key, field) != ""
	})
	if err != nil {
		return "", err
	}
	return acceptedString(resps, key, field), nil
}

// one returns a question set of one question.
func one(key string, q *mcpv1.InputRequest) func() (map[string]*mcpv1.InputRequest, error) {
	return func() (map[string]*mcpv1.InputRequest, error) {
		return map[string]*mcpv1.InputRequest{key: q}, nil
	}
}

// TestInputRequiredResultElicitation asks for the caller's name
// ("user_name") until an accepted answer carries one, and answers
// "Hello, <name>!".
func (*Service) TestInputRequiredResultElicitation(stream grpc.BidiStreamingServer[conformancev1.TestInputRequiredResultElicitationRequest, conformancev1.TestInputRequiredResultElicitationResponse]) error {
	if _, err := arguments(stream); err != nil {
		return err
	}
	name, err := askString(stream, func(r *mcpv1.InputRequests) *conformancev1.TestInputRequiredResultElicitationResponse {
		return &conformancev1.TestInputRequiredResultElicitationResponse{InputRequests: r}
	}, "user_name", "What is your name?", nameSchema, "name")
	if err != nil {
		return err
	}
	return stream.Send(&conformancev1.TestInputRequiredResultElicitationResponse{Content: texts("Hello, " + name + "!")})
}

// TestInputRequiredResultSampling asks the client's LLM for the capital of
// France ("capital_question") until it answers, and returns "Sampling
// response: " and its text.
func (*Service) TestInputRequiredResultSampling(stream grpc.BidiStreamingServer[conformancev1.TestInputRequiredResultSamplingRequest, conformancev1.TestInputRequiredResultSamplingResponse]) error {
	if _, err := arguments(stream); err != nil {
		return err
	}
	resps, err := untilAnswered(stream, func(r *mcpv1.InputRequests) *conformancev1.TestInputRequiredResultSamplingResponse {
		return &conformancev1.TestInputRequiredResultSamplingResponse{InputRequests: r}
	}, one("capital_question", sample("What is the capital of France?", 100)), func(resps map[string]*mcpv1.InputResponse) bool {
		_, ok := samplingText(resps, "capital_question")
		return ok
	})
	if err != nil {
		return err
	}
	t, _ := samplingText(resps, "capital_question")
	return stream.Send(&conformancev1.TestInputRequiredResultSamplingResponse{Content: texts("Sampling response: " + t)})
}

// TestInputRequiredResultListRoots asks for the client's roots
// ("client_roots") until it lists them, and names them.
func (*Service) TestInputRequiredResultListRoots(stream grpc.BidiStreamingServer[conformancev1.TestInputRequiredResultListRootsRequest, conformancev1.TestInputRequiredResultListRootsResponse]) error {
	if _, err := arguments(stream); err != nil {
		return err
	}
	resps, err := untilAnswered(stream, func(r *mcpv1.InputRequests) *conformancev1.TestInputRequiredResultListRootsResponse {
		return &conformancev1.TestInputRequiredResultListRootsResponse{InputRequests: r}
	}, one("client_roots", listRoots()), func(resps map[string]*mcpv1.InputResponse) bool {
		_, ok := rootURIs(resps, "client_roots")
		return ok
	})
	if err != nil {
		return err
	}
	uris, _ := rootURIs(resps, "client_roots")
	return stream.Send(&conformancev1.TestInputRequiredResultListRootsResponse{Content: texts(
		fmt.Sprintf("Client exposed %d root(s): %s", len(uris), strings.Join(uris, ", ")),
	)})
}

// stateOK is the result of the fixtures whose requestState the edge
// carries and checks.
const stateOK = "state-ok: requestState received and confirmation accepted"

// confirmed reports whether the user accepted the "confirm" question.
func confirmed(resps map[string]*mcpv1.InputResponse) bool {
	return acceptedContent(resps, "confirm") != nil
}

// TestInputRequiredResultRequestState asks for a confirmation ("confirm")
// until the user accepts, and answers [stateOK]. The requestState that
// carries the round between retries is the edge's, integrity-protected.
func (*Service) TestInputRequiredResultRequestState(stream grpc.BidiStreamingServer[conformancev1.TestInputRequiredResultRequestStateRequest, conformancev1.TestInputRequiredResultRequestStateResponse]) error {
	if _, err := arguments(stream); err != nil {
		return err
	}
	q, err := elicit("Please confirm", confirmSchema)
	if err != nil {
		return err
	}
	if _, err := untilAnswered(stream, func(r *mcpv1.InputRequests) *conformancev1.TestInputRequiredResultRequestStateResponse {
		return &conformancev1.TestInputRequiredResultRequestStateResponse{InputRequests: r}
	}, one("confirm", q), confirmed); err != nil {
		return err
	}
	return stream.Send(&conformancev1.TestInputRequiredResultRequestStateResponse{Content: texts(stateOK)})
}

// TestInputRequiredResultTamperedState asks for a confirmation ("confirm")
// until the user accepts, and answers [stateOK]. The edge refuses a retry
// whose requestState was tampered with before the call reaches it.
func (*Service) TestInputRequiredResultTamperedState(stream grpc.BidiStreamingServer[conformancev1.TestInputRequiredResultTamperedStateRequest, conformancev1.TestInputRequiredResultTamperedStateResponse]) error {
	if _, err := arguments(stream); err != nil {
		return err
	}
	q, err := elicit("Please confirm", confirmSchema)
	if err != nil {
		return err
	}
	if _, err := untilAnswered(stream, func(r *mcpv1.InputRequests) *conformancev1.TestInputRequiredResultTamperedStateResponse {
		return &conformancev1.TestInputRequiredResultTamperedStateResponse{InputRequests: r}
	}, one("confirm", q), confirmed); err != nil {
		return err
	}
	return stream.Send(&conformancev1.TestInputRequiredResultTamperedStateResponse{Content: texts(stateOK)})
}

// TestInputRequiredResultMultipleInputs asks in one round for the caller's
// name ("user_name"), a greeting from the client's LLM ("greeting") and the
// client's roots ("client_roots"), until all three are answered, and
// answers "<greeting> <name> — <n> root(s) visible".
func (*Service) TestInputRequiredResultMultipleInputs(stream grpc.BidiStreamingServer[conformancev1.TestInputRequiredResultMultipleInputsRequest, conformancev1.TestInputRequiredResultMultipleInputsResponse]) error {
	if _, err := arguments(stream); err != nil {
		return err
	}
	reqs := func() (map[string]*mcpv1.InputRequest, error) {
		name, err := elicit("What is your name?", nameSchema)
		if err != nil {
			return nil, err
		}
		return map[string]*mcpv1.InputRequest{
			"user_name":    name,
			"greeting":     sample("Generate a greeting", 50),
			"client_roots": listRoots(),
		}, nil
	}
	resps, err := untilAnswered(stream, func(r *mcpv1.InputRequests) *conformancev1.TestInputRequiredResultMultipleInputsResponse {
		return &conformancev1.TestInputRequiredResultMultipleInputsResponse{InputRequests: r}
	}, reqs, func(resps map[string]*mcpv1.InputResponse) bool {
		_, greeted := samplingText(resps, "greeting")
		_, rooted := rootURIs(resps, "client_roots")
		return acceptedString(resps, "user_name", "name") != "" && greeted && rooted
	})
	if err != nil {
		return err
	}
	greeting, _ := samplingText(resps, "greeting")
	uris, _ := rootURIs(resps, "client_roots")
	return stream.Send(&conformancev1.TestInputRequiredResultMultipleInputsResponse{Content: texts(
		fmt.Sprintf("%s %s — %d root(s) visible", greeting, acceptedString(resps, "user_name", "name"), len(uris)),
	)})
}

// TestInputRequiredResultMultiRound asks for a name ("step1"), then for a
// favourite colour ("step2"), and answers "Multi-round complete: <name>
// likes <color>"; an answer without a value counts as "unknown".
func (*Service) TestInputRequiredResultMultiRound(stream grpc.BidiStreamingServer[conformancev1.TestInputRequiredResultMultiRoundRequest, conformancev1.TestInputRequiredResultMultiRoundResponse]) error {
	if _, err := arguments(stream); err != nil {
		return err
	}
	wrap := func(r *mcpv1.InputRequests) *conformancev1.TestInputRequiredResultMultiRoundResponse {
		return &conformancev1.TestInputRequiredResultMultiRoundResponse{InputRequests: r}
	}
	q1, err := elicit("Step 1: What is your name?", nameSchema)
	if err != nil {
		return err
	}
	r1, err := ask(stream, wrap, map[string]*mcpv1.InputRequest{"step1": q1})
	if err != nil {
		return err
	}
	q2, err := elicit("Step 2: What is your favorite color?", colorSchema)
	if err != nil {
		return err
	}
	r2, err := ask(stream, wrap, map[string]*mcpv1.InputRequest{"step2": q2})
	if err != nil {
		return err
	}
	name := cmp.Or(acceptedString(r1, "step1", "name"), "unknown")
	color := cmp.Or(acceptedString(r2, "step2", "color"), "unknown")
	return stream.Send(&conformancev1.TestInputRequiredResultMultiRoundResponse{Content: texts(
		fmt.Sprintf("Multi-round complete: %s likes %s", name, color),
	)})
}

// TestInputRequiredResultCapabilities asks only for the kinds of input the
// client declared capabilities for (server.ClientCapability): its name
// ("user_name") with elicitation, a greeting ("greeting") with sampling,
// its roots ("client_roots") with roots. It answers at once when the
// client declared none of them.
func (*Service) TestInputRequiredResultCapabilities(stream grpc.BidiStreamingServer[conformancev1.TestInputRequiredResultCapabilitiesRequest, conformancev1.TestInputRequiredResultCapabilitiesResponse]) error {
	if _, err := arguments(stream); err != nil {
		return err
	}
	ctx := stream.Context()
	reqs := map[string]*mcpv1.InputRequest{}
	if server.ClientCapability(ctx, "elicitation") {
		q, err := elicit("What is your name?", nameSchema)
		if err != nil {
			return err
		}
		reqs["user_name"] = q
	}
	if server.ClientCapability(ctx, "sampling") {
		reqs["greeting"] = sample("Generate a short greeting", 50)
	}
	if server.ClientCapability(ctx, "roots") {
		reqs["client_roots"] = listRoots()
	}
	if len(reqs) == 0 {
		return stream.Send(&conformancev1.TestInputRequiredResultCapabilitiesResponse{Content: texts("No declared client capability supports an in-band input request")})
	}
	if _, err := ask(stream, func(r *mcpv1.InputRequests) *conformancev1.TestInputRequiredResultCapabilitiesResponse {
		return &conformancev1.TestInputRequiredResultCapabilitiesResponse{InputRequests: r}
	}, reqs); err != nil {
		return err
	}
	return stream.Send(&conformancev1.TestInputRequiredResultCapabilitiesResponse{Content: texts("Capability-aware input requests fulfilled")})
}
