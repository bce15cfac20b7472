package bridge

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/toolwire/toolwire/edge/observe"
	"github.com/toolwire/toolwire/edge/policy/authn"
)

// JSON-RPC error codes the edge uses beyond the JSON-RPC 2.0 set. They are in
// the implementation-defined server-error range and are documented in the
// README.
const (
	// CodeUnauthenticated: the caller's identity was missing or not accepted.
	CodeUnauthenticated int64 = -32001
	// CodePermissionDenied: the caller may not do this.
	CodePermissionDenied int64 = -32003
)

// mapping says how one gRPC code reaches an MCP client.
type mapping struct {
	// rpcCode, when non-zero, makes the status a JSON-RPC error with this
	// code. Otherwise it is a tool failure: an isError result the model can
	// read and act on.
	rpcCode int64
	// featureCode is the JSON-RPC error code of the status for requests
	// other than tool calls (resources, prompts, completions), which have
	// no isError result; zero means internal error (-32603).
	featureCode int64
	// hint tells the caller what to do about it; it follows the message.
	hint string
}

// statusTable is the one place that decides how a gRPC status becomes an
// MCP answer. Tool failures are isError results, so that the model sees them;
// only failures of the caller's right to call are protocol errors.
var statusTable = map[codes.Code]mapping{
	codes.Canceled:           {hint: "the call was cancelled"},
	codes.Unknown:            {hint: "the backend failed"},
	codes.InvalidArgument:    {hint: "fix the arguments and call again", featureCode: jsonrpc.CodeInvalidParams},
	codes.DeadlineExceeded:   {hint: "the backend ran out of time; ask for less work or a longer timeout"},
	codes.NotFound:           {hint: "nothing matches; check the ids or names given", featureCode: jsonrpc.CodeInvalidParams},
	codes.AlreadyExists:      {hint: "it exists already"},
	codes.PermissionDenied:   {rpcCode: CodePermissionDenied},
	codes.ResourceExhausted:  {hint: "a limit was reached; retry later"},
	codes.FailedPrecondition: {hint: "the system is not in a state to do this", featureCode: jsonrpc.CodeInvalidParams},
	codes.Aborted:            {hint: "the operation was aborted by a conflict; retry"},
	codes.OutOfRange:         {hint: "a value is out of range", featureCode: jsonrpc.CodeInvalidParams},
	codes.Unimplemented:      {hint: "the backend does not implement this tool"},
	codes.Internal:           {hint: "the backend failed"},
	codes.Unavailable:        {hint: "the backend is unavailable; retry later"},
	codes.DataLoss:           {hint: "the backend lost data"},
	codes.Unauthenticated:    {rpcCode: CodeUnauthenticated},
}

// fromStatus maps a backend's status for tool to an MCP result or a JSON-RPC
// error, and names the outcome for metrics.
func fromStatus(tool string, st *status.Status) (*mcp.CallToolResult, error, string) {
	m, ok := statusTable[st.Code()]
	if !ok {
		m = statusTable[codes.Unknown]
	}
	msg := st.Message()
	if m.rpcCode != 0 {
		return nil, &jsonrpc.Error{Code: m.rpcCode, Message: fmt.Sprintf("%s: %s", tool, msg)}, observe.OutcomeRPCError
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s failed (%s)", tool, codeName(st.Code()))
	if msg != "" {
		b.WriteString(": ")
		b.WriteString(msg)
	}
	if m.hint != "" {
		b.WriteString(" — ")
		b.WriteString(m.hint)
	}
	return toolError(b.String()), nil, observe.OutcomeToolError
}

// codeName is the canonical upper-case name, e.g. INVALID_ARGUMENT.
func codeName(c codes.Code) string {
	var b strings.Builder
	for i, r := range c.String() {
		if i > 0 && r >= 'A' && r <= 'Z' {
			b.WriteByte('_')
		}
		b.WriteRune(r)
	}
	return strings.ToUpper(b.String())
}

func toolError(text string) *mcp.CallToolResult {
	return &mcp.CallToolResult{IsError: true, Content: []mcp.Content{&mcp.TextContent{Text: text}}}
}

// authorize refuses a call whose principal may not call the tool: none when
// one is required, or an expired one ([CodeUnauthenticated]), or one without every scope the
// tool requires ([CodePermissionDenied], with the missing and required
// scopes in the error's data, for a client to step up).
func (bt *boundTool) authorize(p *authn.Principal) error {
	if p == nil {
		if bt.requirePrincipal {
			return &jsonrpc.Error{Code: CodeUnauthenticated, Message: bt.tool.Name + ": authentication required"}
		}
		return nil
	}
	// A long-lived stream (HTTP+SSE) outlives the token that opened it.
	if !p.Expiry.IsZero() && time.Now().After(p.Expiry) {
		return &jsonrpc.Error{Code: CodeUnauthenticated, Message: bt.tool.Name + ": the access token has expired"}
	}
	missing := p.MissingScopes(bt.tool.Scopes)
	if len(missing) == 0 {
		return nil
	}
	data, _ := json.Marshal(ScopeError{Missing: missing, Required: bt.tool.Scopes})
	return &jsonrpc.Error{
		Code:    CodePermissionDenied,
		Message: fmt.Sprintf("%s: missing scope: %s", bt.tool.Name, strings.Join(missing, " ")),
		Data:    data,
	}
}

// ScopeError is the data of a [CodePermissionDenied] error for missing
// scopes.
type ScopeError struct {
	// Missing are the required scopes the caller was not granted.
	Missing []string `json:"missing_scopes"`
	// Required are all the scopes the tool requires.
	Required []string `json:"required_scopes"`
}
