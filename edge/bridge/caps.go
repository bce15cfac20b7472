package bridge

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Capabilities are the MCP client capabilities of a call's client, as the
// backend learns them in the metadata server.MDClientCapabilities.
type Capabilities uint8

const (
	// CapsKnown says the call comes from an MCP client whose capabilities
	// are the other bits. A call without it (an internal caller) carries no
	// capabilities metadata to the backend.
	CapsKnown Capabilities = 1 << iota
	// CapElicitation: the client declared elicitation.
	CapElicitation
	// CapSampling: the client declared sampling.
	CapSampling
	// CapRoots: the client declared roots.
	CapRoots
	// CapTasks: the client declared the io.modelcontextprotocol/tasks
	// extension.
	CapTasks
)

// ExtensionTasks is the client capabilities' extension key of the tasks
// extension.
const ExtensionTasks = "io.modelcontextprotocol/tasks"

// capNames are the names server.MDClientCapabilities uses, by bit.
var capNames = [...]struct {
	c    Capabilities
	name string
}{
	{CapElicitation, "elicitation"},
	{CapSampling, "sampling"},
	{CapRoots, "roots"},
	{CapTasks, "tasks"},
}

// capStrings holds the metadata value of every combination, so that a call
// builds none.
var capStrings = func() (s [1 << 5]string) {
	for i := range s {
		var names []string
		for _, n := range capNames {
			if Capabilities(i)&n.c != 0 {
				names = append(names, n.name)
			}
		}
		s[i] = strings.Join(names, ",")
	}
	return s
}()

// CapabilitiesOf returns the capabilities c declares; nil declares none.
// Either way the result is [CapsKnown]: c is an MCP client's.
func CapabilitiesOf(c *mcp.ClientCapabilities) Capabilities {
	caps := CapsKnown
	if c == nil {
		return caps
	}
	if c.Elicitation != nil {
		caps |= CapElicitation
	}
	if c.Sampling != nil {
		caps |= CapSampling
	}
	if c.RootsV2 != nil {
		caps |= CapRoots
	}
	if _, ok := c.Extensions[ExtensionTasks]; ok {
		caps |= CapTasks
	}
	return caps
}

// Has reports whether the capability called name ("elicitation",
// "sampling", "roots", "tasks") is among c.
func (c Capabilities) Has(name string) bool {
	for _, n := range capNames {
		if n.name == name {
			return c&n.c != 0
		}
	}
	return false
}

// String is the comma-separated list of c's names, as the metadata
// carries it.
func (c Capabilities) String() string { return capStrings[c&(1<<5-1)] }

// MissingCapabilities returns the JSON-RPC error of a request that needs
// capabilities its client did not declare: code
// mcp.CodeMissingRequiredClientCapabilities (-32021), with data
// {"requiredCapabilities": {"sampling": {}}} naming the missing ones. On
// 2026-07-28 the SDK answers it with HTTP 400. It is nil when nothing of
// required is missing.
func MissingCapabilities(what string, required []string, c Capabilities) error {
	var missing []string
	for _, r := range required {
		if !c.Has(r) {
			missing = append(missing, r)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	caps := make(map[string]struct{}, len(missing))
	for _, m := range missing {
		caps[m] = struct{}{}
	}
	data, _ := json.Marshal(map[string]any{"requiredCapabilities": caps})
	return &jsonrpc.Error{
		Code:    mcp.CodeMissingRequiredClientCapabilities,
		Message: fmt.Sprintf("%s: the client must declare the capabilities %s", what, strings.Join(missing, ", ")),
		Data:    data,
	}
}
