package server_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc/metadata"

	echov1 "github.com/toolwire/toolwire/gen/go/examples/echo/v1"
	"github.com/toolwire/toolwire/server"
	"github.com/toolwire/toolwire/server/servertest"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestCallLogsCarryRequestAndTraceIDs(t *testing.T) {
	var logs lockedBuffer
	s := server.New(&server.Options{
		Registerer: prometheus.NewRegistry(),
		Logger:     slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	echov1.RegisterEchoServiceServer(s.GRPC(), &testEcho{})
	client := echov1.NewEchoServiceClient(servertest.Dial(t, s))
	ctx := metadata.AppendToOutgoingContext(context.Background(),
		"x-request-id", "req-42",
		"traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
	if _, err := client.Echo(ctx, &echov1.EchoRequest{Text: "x"}); err != nil {
		t.Fatal(err)
	}
	line := logs.String()
	for _, want := range []string{"request_id=req-42", "trace_id=0af7651916cd43dd8448eb211c80319c"} {
		if !strings.Contains(line, want) {
			t.Errorf("call log lacks %s:\n%s", want, line)
		}
	}
}
