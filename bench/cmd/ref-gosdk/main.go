// Command ref-gosdk is the go-sdk reference server: the benchmark's echo,
// stream and sleep tools on github.com/modelcontextprotocol/go-sdk v1.8.0,
// served by the stateful Streamable HTTP handler with its defaults, in one
// process.
//
//	ref-gosdk --addr 127.0.0.1:PORT   # MCP at /mcp, Prometheus at /metrics
//	ref-gosdk --typed-echo ...        # echo registered with the typed mcp.AddTool
//
// echo, the tool of the throughput figure, is registered with
// Server.AddTool and raw JSON schemas, as toolwire registers its tools: the
// SDK then skips its schema-driven passes over arguments and result, which
// MCP-NOTES.md puts at about 30% of its per-call cost. That makes this the
// faster go-sdk baseline, the one issue 3's figures (~4,800 calls/s, ~245 µs
// a call) describe; --typed-echo gives the usual typed registration, for
// comparison. stream and sleep use the typed mcp.AddTool.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"net/http"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/toolwire/toolwire/bench/internal/ref"
)

type echoIn struct {
	Text string `json:"text" jsonschema:"the text to return"`
}

type echoOut struct {
	Text string `json:"text"`
}

type streamIn struct {
	N          int `json:"n" jsonschema:"how many progress notifications to send"`
	IntervalMs int `json:"interval_ms,omitempty" jsonschema:"milliseconds between notifications"`
}

type streamOut struct {
	Result string `json:"result"`
}

type sleepIn struct {
	Ms int `json:"ms" jsonschema:"milliseconds to wait"`
}

type sleepOut struct {
	SleptMs int64 `json:"slept_ms"`
}

func newServer(typedEcho bool) *mcp.Server {
	s := mcp.NewServer(&mcp.Implementation{Name: "ref-gosdk", Version: "v1.8.0"}, nil)
	if !typedEcho {
		s.AddTool(&mcp.Tool{
			Name:         "echo",
			Description:  "Returns the text it is given.",
			InputSchema:  json.RawMessage(`{"type":"object","properties":{"text":{"type":"string"}},"required":["text"]}`),
			OutputSchema: json.RawMessage(`{"type":"object","properties":{"text":{"type":"string"}},"required":["text"]}`),
		}, func(_ context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			var in echoIn
			if err := json.Unmarshal(req.Params.Arguments, &in); err != nil {
				return nil, err
			}
			return &mcp.CallToolResult{
				Content:           []mcp.Content{&mcp.TextContent{Text: in.Text}},
				StructuredContent: echoOut(in),
			}, nil
		})
	} else {
		mcp.AddTool(s, &mcp.Tool{Name: "echo", Description: "Returns the text it is given."},
			func(_ context.Context, _ *mcp.CallToolRequest, in echoIn) (*mcp.CallToolResult, echoOut, error) {
				return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: in.Text}}}, echoOut(in), nil
			})
	}
	mcp.AddTool(s, &mcp.Tool{Name: "stream", Description: "Sends n progress notifications, then returns done."},
		func(ctx context.Context, req *mcp.CallToolRequest, in streamIn) (*mcp.CallToolResult, streamOut, error) {
			token := req.Params.GetProgressToken()
			for i := 1; i <= in.N; i++ {
				if in.IntervalMs > 0 {
					if err := ref.Wait(ctx, time.Duration(in.IntervalMs)*time.Millisecond); err != nil {
						return nil, streamOut{}, err
					}
				}
				if token != nil {
					if err := req.Session.NotifyProgress(ctx, &mcp.ProgressNotificationParams{
						ProgressToken: token, Progress: float64(i), Total: float64(in.N),
					}); err != nil {
						return nil, streamOut{}, err
					}
				}
			}
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "done"}}}, streamOut{Result: "done"}, nil
		})
	mcp.AddTool(s, &mcp.Tool{Name: "sleep", Description: "Waits ms milliseconds, or stops when cancelled."},
		func(ctx context.Context, _ *mcp.CallToolRequest, in sleepIn) (*mcp.CallToolResult, sleepOut, error) {
			start := time.Now()
			if err := ref.Sleep(ctx, time.Duration(in.Ms)*time.Millisecond); err != nil {
				return nil, sleepOut{}, err
			}
			return nil, sleepOut{SleptMs: time.Since(start).Milliseconds()}, nil
		})
	return s
}

func main() {
	typedEcho := flag.Bool("typed-echo", false, "register echo with the typed mcp.AddTool instead of raw JSON schemas")
	ref.Main("ref-gosdk", func() http.Handler {
		s := newServer(*typedEcho)
		return mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s }, nil)
	})
}
