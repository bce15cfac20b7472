package limits_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/toolwire/toolwire/edge/policy/limits"
)

type streamResult struct {
	cause    error // context.Cause of the work's context
	writeErr error
	accepted int
	closeErr error
}

// streamHandler writes chunks through a guard until a write fails, the
// work's context ends, or total bytes are written; it reports on res.
func streamHandler(opts *limits.StreamOptions, chunk []byte, total int, res chan<- streamResult) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithCancelCause(r.Context())
		defer cancel(nil)
		g := limits.NewStreamGuard(w, cancel, opts)
		g.Header().Set("Content-Type", "text/plain")
		var out streamResult
		for i := 0; ctx.Err() == nil && (total == 0 || out.accepted < total); i++ {
			if _, err := g.Write(chunk); err != nil {
				out.writeErr = err
				break
			}
			out.accepted += len(chunk)
		}
		out.closeErr = g.Close()
		out.cause = context.Cause(ctx)
		res <- out
	})
}

// TestStreamGuardAbandonedStream serves a client that sends a request and
// never reads the response: the guard must cancel the work's context and
// the handler must return.
func TestStreamGuardAbandonedStream(t *testing.T) {
	res := make(chan streamResult, 1)
	const maxPending = 64 << 10
	opts := &limits.StreamOptions{MaxPending: maxPending, WriteTimeout: 200 * time.Millisecond}
	srv := &http.Server{Handler: streamHandler(opts, bytes.Repeat([]byte("x"), 4096), 0, res)}
	addr := serve(t, srv)

	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, "GET /stream HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	select {
	case r := <-res:
		t.Logf("handler returned %v after the request; %d bytes accepted before the kernel's buffers filled; cause: %v",
			time.Since(start).Round(time.Millisecond), r.accepted, r.cause)
		// net/http cancels r.Context() itself when a connection write fails,
		// which may reach the work's context before the guard's cause does.
		if !errors.Is(r.cause, limits.ErrStreamAbandoned) && !errors.Is(r.cause, context.Canceled) {
			t.Errorf("context cause %v; want the work cancelled", r.cause)
		}
		if !errors.Is(r.writeErr, limits.ErrStreamAbandoned) || !errors.Is(r.closeErr, limits.ErrStreamAbandoned) {
			t.Errorf("write error %v, Close error %v; want ErrStreamAbandoned", r.writeErr, r.closeErr)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the handler still runs 30 s after its client stopped reading")
	}
}

// TestStreamGuardDelivers has a fast producer, a small bound and a client
// that reads: every line arrives, in order, and nothing is abandoned.
func TestStreamGuardDelivers(t *testing.T) {
	res := make(chan streamResult, 1)
	var lines bytes.Buffer
	const n = 2000
	for i := range n {
		fmt.Fprintf(&lines, "%06d %s\n", i, strings.Repeat("y", 90))
	}
	// The whole payload as one repeated chunk would hide reordering, so the
	// handler writes numbered lines one by one.
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithCancelCause(r.Context())
		defer cancel(nil)
		g := limits.NewStreamGuard(w, cancel, &limits.StreamOptions{MaxPending: 4 << 10, WriteTimeout: 5 * time.Second})
		sc := bufio.NewScanner(bytes.NewReader(lines.Bytes()))
		var out streamResult
		for sc.Scan() {
			if _, err := g.Write(append(sc.Bytes(), '\n')); err != nil {
				out.writeErr = err
				break
			}
			out.accepted += len(sc.Bytes()) + 1
		}
		out.closeErr = g.Close()
		out.cause = context.Cause(ctx)
		res <- out
	})
	addr := serve(t, &http.Server{Handler: h})
	resp, err := newClient(t).Get("http://" + addr)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	r := <-res
	if r.writeErr != nil || r.closeErr != nil || r.cause != nil {
		t.Errorf("write error %v, Close error %v, cause %v; want none", r.writeErr, r.closeErr, r.cause)
	}
	if !bytes.Equal(got, lines.Bytes()) {
		t.Errorf("client got %d bytes; want the %d bytes written, in order", len(got), lines.Len())
	}
}

func TestWithMaxDuration(t *testing.T) {
	ctx, cancel := limits.WithMaxDuration(context.Background(), 20*time.Millisecond)
	defer cancel()
	<-ctx.Done()
	if !errors.Is(context.Cause(ctx), limits.ErrMaxDuration) || !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Errorf("Err %v, Cause %v; want DeadlineExceeded, ErrMaxDuration", ctx.Err(), context.Cause(ctx))
	}

	// A client's cancel keeps its own cause.
	parent, cancelParent := context.WithCancelCause(context.Background())
	ctx, cancel = limits.WithMaxDuration(parent, time.Hour)
	defer cancel()
	clientGone := errors.New("client went away")
	cancelParent(clientGone)
	<-ctx.Done()
	if !errors.Is(context.Cause(ctx), clientGone) {
		t.Errorf("Cause %v; want the parent's", context.Cause(ctx))
	}

	// No maximum.
	ctx, cancel = limits.WithMaxDuration(context.Background(), 0)
	if _, ok := ctx.Deadline(); ok {
		t.Error("a deadline with d = 0")
	}
	cancel()
}
