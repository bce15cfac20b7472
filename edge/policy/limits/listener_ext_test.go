package limits_test

import (
	"errors"
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/toolwire/toolwire/edge/policy/limits"
)

// acceptAll accepts from l until it is closed, sending each connection on
// the returned channel.
func acceptAll(t *testing.T, l net.Listener) <-chan net.Conn {
	conns := make(chan net.Conn, 16)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns <- c
		}
	}()
	t.Cleanup(func() {
		_ = l.Close()
		<-done
		close(conns)
		for c := range conns {
			_ = c.Close()
		}
	})
	return conns
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// closedByPeer reports whether the peer closed c (EOF or reset) within 5 s.
func closedByPeer(c net.Conn) bool {
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err := c.Read(make([]byte, 1))
	return errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET)
}

func TestLimitListenerReject(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := limits.LimitListener(inner, 2, &limits.ListenerOptions{Registerer: prometheus.NewRegistry()})
	conns := acceptAll(t, l)
	addr := inner.Addr().String()

	dial(t, addr)
	dial(t, addr)
	first, second := <-conns, <-conns

	excess := dial(t, addr)
	if !closedByPeer(excess) {
		t.Fatal("the connection past the bound was not closed")
	}

	// A closed connection frees its slot, once, however often it is closed.
	_ = first.Close()
	_ = first.Close()
	dial(t, addr)
	select {
	case <-conns:
	case <-time.After(5 * time.Second):
		t.Fatal("no slot after a connection closed")
	}
	excess = dial(t, addr)
	if !closedByPeer(excess) {
		t.Fatal("a double Close freed two slots")
	}
	_ = second.Close()
}

func TestLimitListenerWait(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := limits.LimitListener(inner, 1, &limits.ListenerOptions{Overflow: limits.OverflowWait, Registerer: prometheus.NewRegistry()})
	conns := acceptAll(t, l)
	addr := inner.Addr().String()

	dial(t, addr)
	first := <-conns
	dial(t, addr) // completes in the kernel, waits for Accept
	select {
	case <-conns:
		t.Fatal("a second connection was accepted past a bound of 1")
	case <-time.After(100 * time.Millisecond):
	}
	_ = first.Close()
	select {
	case c := <-conns:
		_ = c.Close()
	case <-time.After(5 * time.Second):
		t.Fatal("the waiting connection was not accepted after a slot freed")
	}
}
