// Command ref-mcpgo is the mcp-go reference server: the benchmark's echo,
// stream and sleep tools on github.com/mark3labs/mcp-go, served by its
// streamable HTTP server (stateful sessions), in one process.
//
//	ref-mcpgo --addr 127.0.0.1:PORT   # MCP at /mcp, Prometheus at /metrics
package main

import (
	"context"
	"net/http"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/toolwire/toolwire/bench/internal/ref"
)

func newServer() *server.MCPServer {
	s := server.NewMCPServer("ref-mcpgo", "v1.2.1", server.WithToolCapabilities(false))
	s.AddTool(mcp.NewTool("echo",
		mcp.WithDescription("Returns the text it is given."),
		mcp.WithString("text", mcp.Required(), mcp.Description("the text to return")),
	), func(_ context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		text := req.GetString("text", "")
		return mcp.NewToolResultStructured(map[string]any{"text": text}, text), nil
	})
	s.AddTool(mcp.NewTool("stream",
		mcp.WithDescription("Sends n progress notifications, then returns done."),
		mcp.WithNumber("n", mcp.Required(), mcp.Description("how many progress notifications to send")),
		mcp.WithNumber("interval_ms", mcp.Description("milliseconds between notifications")),
	), func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		n := req.GetInt("n", 0)
		interval := time.Duration(req.GetInt("interval_ms", 0)) * time.Millisecond
		var token mcp.ProgressToken
		if req.Params.Meta != nil {
			token = req.Params.Meta.ProgressToken
		}
		srv := server.ServerFromContext(ctx)
		for i := 1; i <= n; i++ {
			if interval > 0 {
				if err := ref.Wait(ctx, interval); err != nil {
					return nil, err
				}
			}
			if token != nil {
				if err := srv.SendNotificationToClient(ctx, "notifications/progress", map[string]any{
					"progressToken": token, "progress": i, "total": n,
				}); err != nil {
					return nil, err
				}
			}
		}
		return mcp.NewToolResultStructured(map[string]any{"result": "done"}, "done"), nil
	})
	s.AddTool(mcp.NewTool("sleep",
		mcp.WithDescription("Waits ms milliseconds, or stops when cancelled."),
		mcp.WithNumber("ms", mcp.Required(), mcp.Description("milliseconds to wait")),
	), func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		start := time.Now()
		if err := ref.Sleep(ctx, time.Duration(req.GetInt("ms", 0))*time.Millisecond); err != nil {
			return mcp.NewToolResultError(err.Error()), nil
		}
		return mcp.NewToolResultStructured(map[string]any{"slept_ms": time.Since(start).Milliseconds()}, "slept"), nil
	})
	return s
}

func main() {
	ref.Main("ref-mcpgo", func() http.Handler {
		return server.NewStreamableHTTPServer(newServer(), server.WithStateful(true))
	})
}
