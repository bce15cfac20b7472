package server

import (
	"context"
	"errors"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/grpc"
)

// InFlightMetric is the name of the gauge of running handlers. Its one label,
// "method", is the full gRPC method, such as
// "/examples.echo.v1.EchoService/Sleep".
const InFlightMetric = "toolwire_server_handlers_in_flight"

// registerInFlight registers the in-flight gauge on reg, or returns the one
// already registered there. If reg holds an incompatible collector under the
// same name, the gauge still counts but is not exported.
func registerInFlight(reg prometheus.Registerer, logger *slog.Logger) *prometheus.GaugeVec {
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: InFlightMetric,
		Help: "Number of gRPC handlers running, by full method.",
	}, []string{"method"})
	err := reg.Register(g)
	if err == nil {
		return g
	}
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(*prometheus.GaugeVec); ok {
			return existing
		}
	}
	logger.Warn("in-flight gauge not registered", slog.String("metric", InFlightMetric), slog.Any("error", err))
	return g
}

func (s *Server) unaryInFlight(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	g := s.gauge(info.FullMethod)
	g.Inc()
	defer g.Dec()
	return handler(ctx, req)
}

func (s *Server) streamInFlight(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	g := s.gauge(info.FullMethod)
	g.Inc()
	defer g.Dec()
	return handler(srv, ss)
}

// gauge returns the in-flight series of fullMethod, looked up in the vector
// once per method and then cached, so that a call does no label hashing.
func (s *Server) gauge(fullMethod string) prometheus.Gauge {
	if g, ok := s.gauges.Load(fullMethod); ok {
		return g.(prometheus.Gauge)
	}
	g, _ := s.gauges.LoadOrStore(fullMethod, s.inFlight.WithLabelValues(fullMethod))
	return g.(prometheus.Gauge)
}

// InFlight returns how many handlers of fullMethod (such as
// "/examples.echo.v1.EchoService/Sleep") this server's gauge counts as
// running. Servers sharing a registerer share the gauge, so the figure
// covers them all.
func (s *Server) InFlight(fullMethod string) float64 {
	return gaugeValue(s.gauge(fullMethod))
}

// InFlight returns the value of the in-flight gauge for fullMethod in
// prometheus.DefaultGatherer: the number of running handlers of that method
// across every [Server] that uses the default registerer. It returns 0 when
// the gauge or the method is absent. It is meant for tests; servers built
// with [Options.Registerer] are read with [Server.InFlight].
func InFlight(fullMethod string) float64 {
	families, err := prometheus.DefaultGatherer.Gather()
	if err != nil && families == nil {
		return 0
	}
	for _, f := range families {
		if f.GetName() != InFlightMetric {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "method" && l.GetValue() == fullMethod {
					return m.GetGauge().GetValue()
				}
			}
		}
	}
	return 0
}

func gaugeValue(g prometheus.Gauge) float64 {
	var m dto.Metric
	if err := g.Write(&m); err != nil {
		return 0
	}
	return m.GetGauge().GetValue()
}
