package limits

import (
	"net"
	"sync"

	"github.com/toolwire/toolwire/edge/observe"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/net/netutil"
)

// Overflow is what a [LimitListener] does with a connection past its bound.
type Overflow int

const (
	// OverflowReject accepts the excess connection and closes it at once,
	// so its client fails fast (EOF or reset) and can retry elsewhere, and
	// counts it in toolwire_connections_rejected_total. This is the default:
	// the edge serves long-lived streams, so a slot may not come back for
	// minutes, and a client left waiting would see only a hang.
	OverflowReject Overflow = iota
	// OverflowWait stops accepting while the bound is reached
	// (golang.org/x/net/netutil.LimitListener): excess connections wait in
	// the kernel's accept queue, unseen by metrics, until a slot frees or the
	// client gives up. Fits short requests behind a balancer that does not
	// retry.
	OverflowWait
)

// ListenerOptions configures [LimitListener]. nil means the defaults.
type ListenerOptions struct {
	Overflow Overflow // zero: OverflowReject
	// Registerer receives toolwire_connections_open and
	// toolwire_connections_rejected_total; nil means
	// prometheus.DefaultRegisterer.
	Registerer prometheus.Registerer
}

// LimitListener returns a listener that keeps at most max connections open
// from l; max <= 0 means no bound, only the gauge. Excess connections are
// closed or left waiting, as opts.Overflow says.
func LimitListener(l net.Listener, max int, opts *ListenerOptions) net.Listener {
	var o ListenerOptions
	if opts != nil {
		o = *opts
	}
	reg := o.Registerer
	if reg == nil {
		reg = prometheus.DefaultRegisterer
	}
	open := observe.Register(reg, prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: "toolwire", Subsystem: "connections", Name: "open",
		Help: "Connections accepted and not yet closed.",
	}))
	rejected := observe.Register(reg, prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: "toolwire", Subsystem: "connections", Name: "rejected_total",
		Help: "Connections closed at once because the connection limit was reached.",
	}))
	switch {
	case max <= 0:
		return &countingListener{Listener: l, open: open}
	case o.Overflow == OverflowWait:
		return &countingListener{Listener: netutil.LimitListener(l, max), open: open}
	}
	return &rejectingListener{Listener: l, slots: make(chan struct{}, max), open: open, rejected: rejected}
}

// countingListener keeps the open-connections gauge.
type countingListener struct {
	net.Listener
	open prometheus.Gauge
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.open.Inc()
	return &releasingConn{Conn: c, release: l.open.Dec}, nil
}

// rejectingListener closes connections past its bound. It is written here
// because netutil.LimitListener can only make them wait.
type rejectingListener struct {
	net.Listener
	slots    chan struct{} // one element per open connection
	open     prometheus.Gauge
	rejected prometheus.Counter
}

func (l *rejectingListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		select {
		case l.slots <- struct{}{}:
			l.open.Inc()
			return &releasingConn{Conn: c, release: func() {
				<-l.slots
				l.open.Dec()
			}}, nil
		default:
			_ = c.Close() // nothing was read or written: the client sees EOF or a reset
			l.rejected.Inc()
		}
	}
}

// releasingConn gives its slot back on the first Close.
type releasingConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *releasingConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
