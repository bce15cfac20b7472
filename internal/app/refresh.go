package app

import (
	"context"
	"log/slog"
	"maps"
	"slices"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"

	"github.com/toolwire/toolwire/edge"
)

// The catalog follows the backends.
//
// A backend may be redeployed with services, or contracts, added or
// removed. The refresher reads every dialled backend's services again by
// gRPC reflection, as dialBackends did at start (the contracts of services
// not compiled in included), when one of their connections becomes ready
// again after it was not (a redeploy reconnects), and every
// Config.CatalogRefresh. When what it reads differs from what the edge
// serves, it builds the new catalog and hands it to the edge
// (edge.Edge.SetCatalog), which notifies the sessions.
//
// A backend that does not answer keeps its services: a backend down is no
// contract change. A compiled-in service keeps its compiled-in contract. A
// service that moves to another backend moves with its connection.
// Services new to the edge are served over MCP, not over the REST gateway,
// whose routes are fixed at start.

// DefaultCatalogRefresh is Config.CatalogRefresh when it is zero.
const DefaultCatalogRefresh = 30 * time.Second

// refresher keeps an edge's catalog in step with its backends.
type refresher struct {
	edge *edge.Edge
	log  *slog.Logger
	// cur is what the edge serves now; only run's goroutine uses it.
	cur *backends
	// kick asks for a refresh now.
	kick chan struct{}
}

// refreshCatalog keeps e's catalog in step with b's dialled backends until
// ctx ends; every is the period (negative: none, and no refresh on
// reconnect either).
func refreshCatalog(ctx context.Context, e *edge.Edge, b *backends, every time.Duration, log *slog.Logger) {
	if every < 0 || len(b.dialed) == 0 {
		return
	}
	if every == 0 {
		every = DefaultCatalogRefresh
	}
	r := &refresher{edge: e, log: log, cur: b, kick: make(chan struct{}, 1)}
	for _, d := range b.dialed {
		go r.watchConn(ctx, d.conn)
	}
	go r.run(ctx, every)
}

// watchConn asks for a refresh each time conn becomes ready after it was
// not.
func (r *refresher) watchConn(ctx context.Context, conn *grpc.ClientConn) {
	state := conn.GetState()
	for conn.WaitForStateChange(ctx, state) {
		next := conn.GetState()
		if next == connectivity.Ready && state != connectivity.Ready {
			select {
			case r.kick <- struct{}{}:
			default:
			}
		}
		state = next
	}
}

func (r *refresher) run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-r.kick:
		}
		r.refresh(ctx)
	}
}

// refresh reads the backends' services and, if they changed, swaps the
// edge's catalog.
func (r *refresher) refresh(ctx context.Context) {
	next := newBackends()
	next.dialed = r.cur.dialed
	for _, d := range r.cur.dialed {
		names, err := listOnce(ctx, d.conn)
		if err != nil {
			// Not answering: it keeps what it served.
			r.log.Debug("catalog refresh: a backend does not answer; keeping its services", "backend", d.addr, "error", err)
			for svc, conn := range r.cur.conns {
				if conn == d.conn {
					next.conns[svc] = conn
					if sd, ok := r.cur.reflected[svc]; ok {
						next.reflected[svc] = sd
					}
				}
			}
			continue
		}
		known, reflected := contracts(ctx, d.conn, names, d.addr, r.log, false)
		for _, svc := range known {
			if _, dup := next.conns[svc]; !dup {
				next.conns[svc] = d.conn
			}
		}
		maps.Copy(next.reflected, reflected)
	}
	next.all = r.cur.all
	if sameBackends(r.cur, next) {
		return
	}
	cat, err := next.catalog()
	if err == nil {
		err = r.edge.SetCatalog(cat, next.resolver())
	}
	if err != nil {
		r.log.Error("catalog refresh: the backends' new contracts cannot be served; keeping the catalog", "error", err)
		return
	}
	r.log.Info("catalog refreshed: the backends' services changed",
		"services", slices.Sorted(maps.Keys(next.conns)), "tools", len(cat.Tools()))
	r.cur = next
}

// sameBackends reports whether a and b route the same services to the
// same connections with the same contracts.
func sameBackends(a, b *backends) bool {
	if len(a.conns) != len(b.conns) || len(a.reflected) != len(b.reflected) {
		return false
	}
	for svc, conn := range a.conns {
		if b.conns[svc] != conn {
			return false
		}
	}
	for svc, sd := range a.reflected {
		other, ok := b.reflected[svc]
		if !ok {
			return false
		}
		if sd == other {
			continue
		}
		// Each read builds new descriptors: compare what they say.
		if !proto.Equal(protodesc.ToFileDescriptorProto(sd.ParentFile()), protodesc.ToFileDescriptorProto(other.ParentFile())) {
			return false
		}
	}
	return true
}
