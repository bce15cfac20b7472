package bridge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/toolwire/toolwire/edge/catalog"
)

// This file builds the results of tools whose responses carry content
// blocks (a repeated toolwire.mcp.v1.Content field) and of bidi-streaming
// tools. Tools with neither keep the JSON path of bridge.go, whose results
// are their payload as structured content and text.

// collector gathers a call's payload messages into its result.
type collector struct {
	bt *boundTool
	// content are the blocks of every payload message, in order.
	content []mcp.Content
	// items and last are the structured payloads (see catalog.StreamMode).
	items []json.RawMessage
	last  json.RawMessage
}

// add takes in one payload message; m is not kept.
func (c *collector) add(m protoreflect.Message) error {
	t := c.bt.tool
	if t.Content != nil {
		blocks, err := ContentList(m.Get(t.Content).List())
		if err != nil {
			return fmt.Errorf("content: %w", err)
		}
		c.content = append(c.content, blocks...)
		m.Clear(t.Content)
	}
	if !t.Structured {
		return nil
	}
	js, err := c.bt.marshal(m.Interface())
	if err != nil {
		return err
	}
	if t.Kind != catalog.Unary && t.StreamMode == catalog.StreamCollect {
		c.items = append(c.items, js)
	} else {
		c.last = js
	}
	return nil
}

// payload is the structured result, as the JSON path makes it.
func (c *collector) payload() (json.RawMessage, error) {
	t := c.bt.tool
	if t.Kind != catalog.Unary && t.StreamMode == catalog.StreamCollect {
		items := c.items
		if items == nil {
			items = []json.RawMessage{}
		}
		return json.Marshal(map[string][]json.RawMessage{"items": items})
	}
	if c.last == nil {
		return emptyArgs, nil
	}
	return c.last, nil
}

// result is the result of a tool with content blocks: the blocks as
// content, and, when the tool is Structured, the other fields as
// structuredContent (and as text too when there are no blocks, as MCP
// advises for clients that read only content).
func (c *collector) result(requestID string) (*mcp.CallToolResult, error) {
	r := &mcp.CallToolResult{Meta: mcp.Meta{MetaRequestID: requestID}, Content: c.content}
	if r.Content == nil {
		r.Content = []mcp.Content{}
	}
	if c.bt.tool.Structured {
		js, err := c.payload()
		if err != nil {
			return nil, err
		}
		r.StructuredContent = js
		if len(r.Content) == 0 {
			r.Content = []mcp.Content{&mcp.TextContent{Text: string(js)}}
		}
	}
	return r, nil
}

// callContent runs a call of a unary or server-streaming tool with content
// blocks.
func (bt *boundTool) callContent(ctx context.Context, sink Sink, in proto.Message, requestID string) (*mcp.CallToolResult, error) {
	col := &collector{bt: bt}
	if bt.tool.Kind == catalog.Unary {
		out := bt.tool.NewResponse()
		if err := bt.conn.Invoke(ctx, bt.tool.FullMethod, in, out); err != nil {
			return nil, err
		}
		if err := col.add(out.ProtoReflect()); err != nil {
			return nil, err
		}
		return col.result(requestID)
	}
	if sink == nil {
		sink = discardSink{}
	}
	cs, err := OpenServerStream(ctx, bt.conn, bt.tool.FullMethod, in)
	if err != nil {
		return nil, err
	}
	forwarded := false
	for {
		out := bt.tool.NewResponse()
		if err := cs.RecvMsg(out); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return nil, err
		}
		m := out.ProtoReflect()
		if bt.forwardEvent(ctx, sink, m) {
			forwarded = true
			continue
		}
		if err := col.add(m); err != nil {
			return nil, err
		}
	}
	if forwarded {
		sink.Settle(ctx)
	}
	return col.result(requestID)
}

// interact runs a call of a bidi-streaming tool (see [Interact]). It
// returns the payload of a tool without content blocks, as the JSON path
// does, or the result of one with them, or of a call that ended needing
// input (input_required).
func (bt *boundTool) interact(ctx context.Context, c *Call, sink Sink, in proto.Message, requestID string) (json.RawMessage, *mcp.CallToolResult, error) {
	asker := c.Asker
	if c.RoundTrip != nil {
		args, err := proto.MarshalOptions{Deterministic: true}.Marshal(in)
		if err != nil {
			return nil, nil, err
		}
		asker, err = bt.sealer.Asker(ctx, "tools/call "+bt.tool.Name, args, c.RoundTrip.State, c.RoundTrip.Responses, c.Caps)
		if err != nil {
			return nil, nil, err
		}
	}
	if sink == nil {
		sink = discardSink{}
	}
	col := &collector{bt: bt}
	forwarded := false
	err := Interact(ctx, bt.conn, bt.tool.FullMethod, in, bt.tool.NewRequest, bt.tool.NewResponse,
		bt.tool.Asks, bt.tool.Answers, asker, func(m protoreflect.Message) error {
			if bt.forwardEvent(ctx, sink, m) {
				forwarded = true
				return nil
			}
			return col.add(m)
		})
	if forwarded {
		sink.Settle(ctx)
	}
	var ir *InputRequiredError
	if errors.As(err, &ir) {
		return nil, &mcp.CallToolResult{
			Meta:          mcp.Meta{MetaRequestID: requestID},
			InputRequests: ir.Requests,
			RequestState:  ir.State,
		}, nil
	}
	if err != nil {
		return nil, nil, err
	}
	if bt.tool.Content == nil {
		js, err := col.payload()
		return js, nil, err
	}
	r, err := col.result(requestID)
	return nil, r, err
}

// discardSink drops the events of a call that has nobody to send them to.
type discardSink struct{}

func (discardSink) Progress(context.Context, float64, float64, string) error    { return nil }
func (discardSink) Log(context.Context, mcp.LoggingLevel, string, string) error { return nil }
func (discardSink) Settle(context.Context)                                      {}
