package edge

import (
	"context"
	"log/slog"
)

// quietHandler passes on records at or above min. The SDK logs every session
// start and end at INFO, and a sessionless (2026-07-28) request is a session
// of its own, so the SDK gets the edge's logger raised to WARN. slog has no
// level filter for an existing handler, hence these few lines.
type quietHandler struct {
	slog.Handler
	min slog.Level
}

func (h quietHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h quietHandler) WithAttrs(a []slog.Attr) slog.Handler {
	return quietHandler{h.Handler.WithAttrs(a), h.min}
}

func (h quietHandler) WithGroup(name string) slog.Handler {
	return quietHandler{h.Handler.WithGroup(name), h.min}
}
