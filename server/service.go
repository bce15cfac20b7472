package server

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"

	"google.golang.org/grpc"

	"github.com/toolwire/toolwire/internal/tlsfiles"
)

// ServiceConfig is how a backend command serves its gRPC service: where,
// with which TLS files, and whose credentials it requires. Every service
// command (echo-service, search-service) has the same flags for it.
type ServiceConfig struct {
	// Addr is the TCP address to listen on, HOST:PORT. Empty means the
	// service's default.
	Addr string
	// MetricsAddr, when set, is where Prometheus metrics are served at
	// /metrics, HOST:PORT.
	MetricsAddr string
	// CredentialKeys, when set, is a PEM file of the edge's public keys:
	// every call must then carry an internal credential the edge minted for
	// the service, with the scopes of the method's tool option.
	CredentialKeys string
	// TLSCert and TLSKey are the PEM certificate chain and private key gRPC
	// is served over TLS with (1.2 or later), reloaded when the files
	// change. Empty serves plaintext.
	TLSCert, TLSKey string
	// ClientCA, when set, is a PEM CA bundle: every client (the edge) must
	// then present a certificate signed by one of its CAs (mutual TLS). It
	// is reloaded when it changes, and needs TLSCert and TLSKey.
	ClientCA string
	// Logger receives the logs. Nil means slog.Default().
	Logger *slog.Logger
}

// RegisterFlags registers c's flags on fs, --addr defaulting to addr.
func (c *ServiceConfig) RegisterFlags(fs *flag.FlagSet, addr string) {
	fs.StringVar(&c.Addr, "addr", addr, "address to listen on, HOST:PORT")
	fs.StringVar(&c.MetricsAddr, "metrics-addr", "", "address to serve Prometheus /metrics on, HOST:PORT (default: off)")
	fs.StringVar(&c.CredentialKeys, "credential-keys", "",
		"PEM file of the edge's Ed25519 public keys; when set, every call must carry a credential the edge minted (default: off)")
	fs.StringVar(&c.TLSCert, "tls-cert", "", "PEM certificate chain to serve gRPC over TLS with (needs --tls-key; reloaded when the file changes; default: plaintext)")
	fs.StringVar(&c.TLSKey, "tls-key", "", "PEM private key of --tls-cert")
	fs.StringVar(&c.ClientCA, "client-ca", "", "PEM CA bundle: every client must present a certificate it signed (mutual TLS; needs --tls-cert)")
}

// Service is what [ServiceConfig.Run] serves.
type Service struct {
	// Name prefixes errors and logs ("echo").
	Name string
	// FullName is the gRPC service's full name, the audience of the
	// credentials it requires.
	FullName string
	// DefaultAddr is where it listens when ServiceConfig.Addr is empty.
	DefaultAddr string
	// Open readies the service once the TLS files have loaded and before
	// it listens: it returns the function registering it on a server, a
	// function run when serving has ended (nil for none), and attributes
	// for the "listening" log line.
	Open func(ctx context.Context, logger *slog.Logger) (register func(grpc.ServiceRegistrar), done func(), attrs []any, err error)
}

// Run serves svc as c says until ctx is done, then stops gracefully and
// returns nil. Bad TLS or credential files stop it before it opens the
// service or listens.
func (c ServiceConfig) Run(ctx context.Context, svc Service) error {
	addr := c.Addr
	if addr == "" {
		addr = svc.DefaultAddr
	}
	logger := c.Logger
	if logger == nil {
		logger = slog.Default()
	}
	wrap := func(err error) error { return fmt.Errorf("%s: %w", svc.Name, err) }
	creds, err := tlsfiles.ServerCredentialsFor(c.TLSCert, c.TLSKey, c.ClientCA, logger)
	if err != nil {
		return wrap(err)
	}
	opts := &Options{Logger: logger, StreamWorkers: DefaultStreamWorkers()}
	if creds != nil {
		opts.ServerOptions = []grpc.ServerOption{grpc.Creds(creds)}
	}
	if c.CredentialKeys != "" {
		if opts.Credentials, err = LoadCredentialVerifier(c.CredentialKeys, svc.FullName); err != nil {
			return wrap(err)
		}
	}
	register, done, attrs, err := svc.Open(ctx, logger)
	if err != nil {
		return err
	}
	if done != nil {
		defer done()
	}
	lis, err := (&net.ListenConfig{}).Listen(ctx, "tcp", addr)
	if err != nil {
		return wrap(err)
	}
	if err := StartMetrics(ctx, c.MetricsAddr); err != nil {
		_ = lis.Close()
		return fmt.Errorf("%s metrics: %w", svc.Name, err)
	}
	s := New(opts)
	register(s.GRPC())
	logger.InfoContext(ctx, svc.Name+" service listening", append([]any{slog.String("addr", lis.Addr().String()), slog.Bool("tls", creds != nil)}, attrs...)...)
	if err := s.Serve(ctx, lis); err != nil {
		return wrap(err)
	}
	return nil
}

// Main is the main function of a service command called name: it registers
// c's flags with defaultAddr, and --gogc, on the command line (a command
// with flags of its own registers them first), parses it, sets the GC
// target and a text logger on stderr, and runs run until SIGINT or SIGTERM.
// An error is printed and exits 1.
func Main(name string, c *ServiceConfig, defaultAddr string, run func(context.Context) error) {
	c.RegisterFlags(flag.CommandLine, defaultAddr)
	gogc := flag.Int("gogc", DefaultGCPercent, "Go GC target percentage (the GOGC environment variable wins when set)")
	flag.Parse()
	SetGCPercent(*gogc)
	c.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, name+":", err)
		stop()
		os.Exit(1)
	}
}
