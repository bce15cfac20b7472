package bridge

import (
	"context"
	"encoding/json"

	"google.golang.org/protobuf/proto"

	"github.com/toolwire/toolwire/edge/catalog"
)

// This file serves the edge's tasks extension (edge/tasks.go), which runs a
// tool's call detached from the request that started it, with a Sink and an
// Asker of its own.

// TaskTool returns the tool called name, of any kind, for a caller that
// supplies the call's Asker itself (the edge's tasks). Unlike [Bridge.Tool]
// it also returns bidi-streaming tools and tools that need client
// capabilities.
func (b *Bridge) TaskTool(name string) (Tool, bool) {
	for _, bt := range b.tools {
		if bt.tool.Name == name {
			return Tool{bt}, true
		}
	}
	return Tool{}, false
}

// RoundTripAsker returns the 2026-07-28 multi-round-trip asker (mrtr.go) of
// a call of t with args and rt, the one the bridge builds itself for
// [Call.RoundTrip], for a caller that wraps it in an Asker of its own. Its
// requestState is sealed for the same tool, arguments and principal (from
// ctx) as the bridge's. Arguments the call will refuse give a nil Asker and
// no error: the call reports them.
func (t Tool) RoundTripAsker(ctx context.Context, args json.RawMessage, rt *RoundTrip, caps Capabilities) (Asker, error) {
	bt := t.bt
	in, invalid := bt.request(args)
	if invalid != nil {
		return nil, nil
	}
	canonical, err := proto.MarshalOptions{Deterministic: true}.Marshal(in)
	recycle(&bt.requests, in)
	if err != nil {
		return nil, err
	}
	// The subject is interact's (result.go).
	return bt.sealer.Asker(ctx, "tools/call "+bt.tool.Name, canonical, rt.State, rt.Responses, caps)
}

// Bidi reports whether the tool is bidi-streaming: its calls may ask their
// client for input.
func (t Tool) Bidi() bool { return t.bt.tool.Kind == catalog.BidiStream }
