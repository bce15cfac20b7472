package catalog

import (
	"encoding/json"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	mcpv1 "github.com/toolwire/toolwire/gen/go/toolwire/mcp/v1"
)

// Kind is the streaming shape of a tool's RPC.
type Kind int

const (
	// Unary is a request-response RPC.
	Unary Kind = iota
	// ServerStream is an RPC whose server sends a stream of messages.
	ServerStream
	// BidiStream is an RPC with streams both ways (elicitation, sampling).
	BidiStream
)

// StreamMode says how a server stream's payload messages become one result.
type StreamMode int

const (
	// StreamLast makes the last payload message the result.
	StreamLast StreamMode = iota
	// StreamCollect gathers every payload message into the result's "items".
	StreamCollect
)

// EventKind names a toolwire.mcp.v1 event type carried by a response field.
type EventKind int

const (
	// EventNone marks a payload field.
	EventNone EventKind = iota
	// EventProgress is a toolwire.mcp.v1.Progress field.
	EventProgress
	// EventLog is a toolwire.mcp.v1.Log field.
	EventLog
)

// Annotations are MCP tool hints; nil means unset.
type Annotations struct {
	ReadOnly    *bool
	Destructive *bool
	Idempotent  *bool
	OpenWorld   *bool
}

// Tool is one RPC served as an MCP tool. It is immutable once built.
type Tool struct {
	// Name is the MCP tool name, unique in its catalog.
	Name string
	// Title is the human-readable name; may be empty.
	Title string
	// Description is never empty: the RPC's leading comment, or a fallback.
	Description string
	// Annotations are the behaviour hints.
	Annotations Annotations

	// Method is the RPC.
	Method protoreflect.MethodDescriptor
	// FullMethod is the gRPC method path, "/pkg.Service/Method".
	FullMethod string
	// Kind is the RPC's streaming shape.
	Kind Kind
	// StreamMode applies to ServerStream tools.
	StreamMode StreamMode
	// DefaultTimeout and MaxTimeout come from the tool option; zero means
	// the edge's own default and maximum.
	DefaultTimeout, MaxTimeout time.Duration
	// Scopes are the OAuth scopes a caller must hold, every one, to see and
	// call the tool; empty means any authenticated caller.
	Scopes []string
	// RateClass is the rate-limit class of the tool's calls, never empty:
	// the option's rate_class, or [DefaultRateClass]. RateCost is the units
	// one call takes from the class's budget, at least 1.
	RateClass string
	RateCost  int
	// MaxConcurrency bounds the tool's calls in flight on one edge replica;
	// zero means the edge's default.
	MaxConcurrency int

	// Events maps each response field that carries an event to its kind;
	// fields absent from the map are payload.
	Events map[protoreflect.FieldNumber]EventKind

	// Content is the response field of type repeated toolwire.mcp.v1.Content,
	// nil if none: its blocks become the result's content.
	Content protoreflect.FieldDescriptor
	// Structured reports whether the response has payload fields besides
	// Content, the events and Asks: only then does a result carry
	// structuredContent (their protojson) and the tool an OutputSchema. A
	// tool without Content is always Structured.
	Structured bool
	// Asks is the response field of type toolwire.mcp.v1.InputRequests and
	// Answers the request field of type toolwire.mcp.v1.InputResponses: a
	// bidi tool asks the client for input in one and gets the answers in the
	// other. Both are nil for other tools. Answers is not in InputSchema.
	Asks, Answers protoreflect.FieldDescriptor
	// RequiredClientCapabilities are the client capabilities a caller must
	// have declared ("sampling", "elicitation", "roots").
	RequiredClientCapabilities []string
	// TaskSupport and TaskTTL place the tool in the tasks extension; a zero
	// TaskTTL means the edge's default.
	TaskSupport mcpv1.TaskSupport
	TaskTTL     time.Duration

	// InputSchema and OutputSchema are JSON Schema 2020-12 documents.
	InputSchema, OutputSchema json.RawMessage

	validator argsValidator
	// fast, when set, accepts the arguments validator certainly accepts,
	// without allocating (see fastvalidate.go).
	fast   *fastValidator
	newIn  func() proto.Message
	newOut func() proto.Message
}

// NewRequest returns an empty request message: the generated Go type when it
// is linked in, a dynamic message otherwise.
func (t *Tool) NewRequest() proto.Message { return t.newIn() }

// NewResponse returns an empty response message, like NewRequest.
func (t *Tool) NewResponse() proto.Message { return t.newOut() }

// Violation is one way a tool's arguments break its input schema.
type Violation struct {
	// Field is the JSON pointer of the offending value ("" for the root),
	// such as "/interval_ms".
	Field string
	// Message says what is wrong, in words a caller can act on.
	Message string
}

// argsValidator checks decoded JSON arguments against the input schema and
// returns every violation, not only the first.
type argsValidator interface {
	validate(args any) []Violation
}
