package echo

import (
	"context"
	"fmt"
	"time"

	"google.golang.org/grpc"

	echov1 "github.com/toolwire/toolwire/gen/go/examples/echo/v1"
	"github.com/toolwire/toolwire/server"
)

// Service implements [echov1.EchoServiceServer]. The zero value is ready to
// use; it holds no state.
type Service struct {
	echov1.UnimplementedEchoServiceServer
}

// Register registers a [Service] on s. It also registers the
// [SleepCancelledMetric] gauge on prometheus.DefaultRegisterer, once.
func Register(s grpc.ServiceRegistrar) {
	sleepCancelledAt()
	echov1.RegisterEchoServiceServer(s, &Service{})
}

// Echo returns the text it is given.
func (*Service) Echo(_ context.Context, req *echov1.EchoRequest) (*echov1.EchoResponse, error) {
	return &echov1.EchoResponse{Text: req.GetText()}, nil
}

// Stream sends n progress events, progress 1 to n out of n, each after
// interval_ms milliseconds (none between them when 0), then the result
// "done". It stops as soon as the call ends, with codes.Canceled or
// codes.DeadlineExceeded.
func (*Service) Stream(req *echov1.StreamRequest, stream grpc.ServerStreamingServer[echov1.StreamResponse]) error {
	ctx := stream.Context()
	n := req.GetN()
	interval := time.Duration(req.GetIntervalMs()) * time.Millisecond
	var timer *time.Timer
	if interval > 0 {
		timer = time.NewTimer(interval)
		defer timer.Stop()
	}
	for i := uint32(1); i <= n; i++ {
		if timer != nil {
			if i > 1 {
				timer.Reset(interval)
			}
			select {
			case <-timer.C:
			case <-ctx.Done():
				return server.ContextError(ctx)
			}
		} else if err := server.ContextError(ctx); err != nil {
			return err
		}
		msg := &echov1.StreamResponse{Kind: &echov1.StreamResponse_Progress{
			Progress: server.Progress(float64(i), float64(n), fmt.Sprintf("%d of %d", i, n)),
		}}
		if err := stream.Send(msg); err != nil {
			return err
		}
	}
	if err := server.ContextError(ctx); err != nil {
		return err
	}
	return stream.Send(&echov1.StreamResponse{Kind: &echov1.StreamResponse_Result{Result: "done"}})
}

// Sleep waits ms milliseconds and reports how long it waited. It returns at
// once when the call ends, with codes.Canceled or codes.DeadlineExceeded,
// and records when that happened in the [SleepCancelledMetric] gauge.
func (*Service) Sleep(ctx context.Context, req *echov1.SleepRequest) (*echov1.SleepResponse, error) {
	start := time.Now()
	timer := time.NewTimer(time.Duration(req.GetMs()) * time.Millisecond)
	defer timer.Stop()
	select {
	case <-timer.C:
		return &echov1.SleepResponse{SleptMs: uint32(time.Since(start).Milliseconds())}, nil
	case <-ctx.Done():
		sleepCancelledAt().Set(unixSeconds(time.Now()))
		return nil, server.ContextError(ctx)
	}
}
