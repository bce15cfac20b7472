package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
)

// callLogger writes one line per finished call (see unaryOuter and stream): the line go-grpc-middleware's
// logging interceptor writes with WithLogOnEvents(FinishCall), the same
// message, fields and field order, at the level of codeToLevel.
//
// Unlike that interceptor, it builds the line only when the logger takes the
// call's level, so that a call whose line is dropped (any successful call at
// the default level) costs no allocation; and it puts no fields in the
// handler's context (logging.ExtractFields).
type callLogger struct{ l *slog.Logger }

func (c callLogger) stream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	start := time.Now()
	err := handler(srv, ss)
	c.finished(ss.Context(), info.FullMethod, streamType(info), start, err)
	return err
}

func streamType(info *grpc.StreamServerInfo) string {
	switch {
	case info.IsClientStream && !info.IsServerStream:
		return "client_stream"
	case !info.IsClientStream && info.IsServerStream:
		return "server_stream"
	}
	return "bidi_stream"
}

// finished logs the end of a call, if the logger takes its level.
func (c callLogger) finished(ctx context.Context, fullMethod, typ string, start time.Time, err error) {
	if errors.Is(err, io.EOF) {
		err = nil
	}
	code := status.Code(err)
	level := slog.Level(codeToLevel(code))
	if !c.l.Enabled(ctx, level) {
		return
	}
	service, method := splitMethod(fullMethod)
	fields := make([]any, 0, 24)
	fields = appendCallFields(fields, ctx)
	fields = append(fields,
		"protocol", "grpc",
		"grpc.component", "server",
		"grpc.service", service,
		"grpc.method", method,
		"grpc.method_type", typ,
	)
	if p, ok := peer.FromContext(ctx); ok {
		fields = append(fields, "peer.address", p.Addr.String())
	}
	fields = append(fields, "grpc.start_time", start.Format(time.RFC3339))
	if d, ok := ctx.Deadline(); ok {
		fields = append(fields, "grpc.request.deadline", d.Format(time.RFC3339))
	}
	fields = append(fields, "grpc.code", code.String())
	if err != nil {
		fields = append(fields, "grpc.error", fmt.Sprintf("%v", err))
	}
	ms := float32(time.Since(start).Nanoseconds()/1000) / 1000
	fields = append(fields, "grpc.time_ms", fmt.Sprintf("%v", ms))
	c.l.Log(ctx, level, "finished call", fields...)
}

// splitMethod splits "/pkg.Service/Method" as go-grpc-middleware does.
func splitMethod(fullMethod string) (service, method string) {
	fullMethod = strings.TrimPrefix(fullMethod, "/")
	if i := strings.Index(fullMethod, "/"); i >= 0 {
		return fullMethod[:i], fullMethod[i+1:]
	}
	return "unknown", "unknown"
}

// appendCallFields appends the caller's request id and W3C trace id, so
// that a backend's logs can be joined with the edge's. The edge sends them as
// x-request-id and traceparent metadata.
func appendCallFields(fields []any, ctx context.Context) []any {
	if v := metadata.ValueFromIncomingContext(ctx, "x-request-id"); len(v) == 1 {
		fields = append(fields, "request_id", v[0])
	}
	// traceparent: version-traceid-parentid-flags.
	if v := metadata.ValueFromIncomingContext(ctx, "traceparent"); len(v) == 1 && len(v[0]) == 55 && v[0][2] == '-' && v[0][35] == '-' {
		fields = append(fields, "trace_id", v[0][3:35])
	}
	return fields
}
