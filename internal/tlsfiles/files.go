package tlsfiles

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultInterval is the least time between two checks of the files, when
// [Options.Interval] is zero.
const DefaultInterval = time.Second

// Options say which files a [Files] loads.
type Options struct {
	// CertFile and KeyFile are the PEM certificate chain (leaf first) and
	// private key this side presents. They go together. A server needs
	// them; a client presents them, for mutual TLS, only if they are set.
	CertFile, KeyFile string
	// CAFile is a PEM bundle of CA certificates. A server requires every
	// client to present a certificate signed by one of them (mutual TLS);
	// a client verifies the server's certificate against them instead of
	// the system roots.
	CAFile string
	// Interval is the least time between two checks of the files for a
	// change. Zero means [DefaultInterval].
	Interval time.Duration
	// Logger receives reloads and failed reloads. Nil means slog.Default().
	Logger *slog.Logger
}

// Files is a set of TLS files, reloaded when they change on disk. Create
// one with [Load]; it is safe for concurrent use.
//
// The files are checked from the handshakes themselves, at most once per
// [Options.Interval], with a stat of each (modification time, size,
// identity): no goroutine, ticker or file watcher to start and stop, and
// no dependency. A watcher (inotify) would see a change sooner, but it
// misses the symlink swap of Kubernetes secret volumes unless it watches
// the directory; a stat follows the symlink, and a second of delay is
// nothing next to a certificate's lifetime. A handshake that finds
// another one checking does not wait for it: it uses the current set.
type Files struct {
	opts     Options
	interval time.Duration
	log      *slog.Logger
	now      func() time.Time // time.Now; tests replace it

	cur  atomic.Pointer[loaded]
	next atomic.Int64 // no check before this time (UnixNano)

	mu   sync.Mutex // held by the one handshake checking the files
	seen []stamp    // the files as last loaded or tried, under mu
}

// loaded is one consistent set of parsed files.
type loaded struct {
	cert *tls.Certificate // nil without CertFile
	pool *x509.CertPool   // nil without CAFile
}

// Load reads the files opts names and returns a [Files] that serves them
// and their later versions. It fails if a file cannot be read or parsed,
// or the key does not match the certificate: a process should not start
// with TLS it cannot serve.
func Load(opts Options) (*Files, error) {
	if (opts.CertFile == "") != (opts.KeyFile == "") {
		return nil, errors.New("tls: a certificate file needs a key file, and a key file a certificate file")
	}
	if opts.CertFile == "" && opts.CAFile == "" {
		return nil, errors.New("tls: no certificate, key or CA file given")
	}
	f := &Files{opts: opts, interval: opts.Interval, log: opts.Logger, now: time.Now}
	if f.interval <= 0 {
		f.interval = DefaultInterval
	}
	if f.log == nil {
		f.log = slog.Default()
	}
	// Stat before reading: a file replaced in between is then seen as
	// changed at the next check, and loaded again, rather than missed.
	f.seen = f.stat()
	l, err := f.load()
	if err != nil {
		return nil, err
	}
	f.cur.Store(l)
	f.next.Store(f.now().Add(f.interval).UnixNano())
	return f, nil
}

// current returns the files to use for a handshake starting now, after
// loading them again if they changed since the last check and that check
// is at least an interval old.
func (f *Files) current() *loaded {
	now := f.now()
	if now.UnixNano() < f.next.Load() || !f.mu.TryLock() {
		return f.cur.Load()
	}
	defer f.mu.Unlock()
	if now.UnixNano() < f.next.Load() { // another handshake just checked
		return f.cur.Load()
	}
	f.next.Store(now.Add(f.interval).UnixNano())
	st := f.stat()
	if slices.EqualFunc(st, f.seen, stamp.same) {
		return f.cur.Load()
	}
	// Remember what was tried, good or bad: a broken set is reported once,
	// and tried again only when a file changes again (the rest of a
	// half-written file, the matching key).
	f.seen = st
	l, err := f.load()
	if err != nil {
		f.log.Error("TLS files changed but do not load; still serving the previous ones", f.attrs(slog.Any("error", err))...)
		return f.cur.Load()
	}
	f.cur.Store(l)
	f.log.Info("TLS files reloaded", f.attrs(leafAttrs(l.cert)...)...)
	return l
}

// load reads and parses every configured file.
func (f *Files) load() (*loaded, error) {
	var l loaded
	if f.opts.CertFile != "" {
		c, err := tls.LoadX509KeyPair(f.opts.CertFile, f.opts.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("tls: certificate %s, key %s: %w", f.opts.CertFile, f.opts.KeyFile, err)
		}
		l.cert = &c
	}
	if f.opts.CAFile != "" {
		pem, err := os.ReadFile(f.opts.CAFile)
		if err != nil {
			return nil, fmt.Errorf("tls: CA file: %w", err)
		}
		l.pool = x509.NewCertPool()
		if !l.pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls: CA file %s: no PEM certificate in it", f.opts.CAFile)
		}
	}
	return &l, nil
}

// stamp is what a check compares of one file.
type stamp struct {
	info os.FileInfo // nil if the stat failed
	err  string
}

func (f *Files) stat() []stamp {
	var st []stamp
	for _, p := range []string{f.opts.CertFile, f.opts.KeyFile, f.opts.CAFile} {
		if p == "" {
			continue
		}
		// os.Stat follows symlinks: a Kubernetes secret volume swaps the
		// ..data symlink, and the file it reaches is a new one.
		fi, err := os.Stat(p)
		if err != nil {
			st = append(st, stamp{err: err.Error()})
			continue
		}
		st = append(st, stamp{info: fi})
	}
	return st
}

// same reports whether a and b are the same version of a file. The size
// tells a half-written file from the finished one even within one tick of
// a coarse modification-time clock; the identity (device and inode) tells
// a file renamed into place, as atomic writers do.
func (a stamp) same(b stamp) bool {
	if a.info == nil || b.info == nil {
		return a.info == nil && b.info == nil && a.err == b.err
	}
	return os.SameFile(a.info, b.info) && a.info.ModTime().Equal(b.info.ModTime()) && a.info.Size() == b.info.Size()
}

func (f *Files) attrs(extra ...any) []any {
	var a []any
	if f.opts.CertFile != "" {
		a = append(a, slog.String("cert", f.opts.CertFile), slog.String("key", f.opts.KeyFile))
	}
	if f.opts.CAFile != "" {
		a = append(a, slog.String("ca", f.opts.CAFile))
	}
	return append(a, extra...)
}

func leafAttrs(c *tls.Certificate) []any {
	if c == nil || c.Leaf == nil {
		return nil
	}
	return []any{
		slog.String("subject", c.Leaf.Subject.String()),
		slog.String("serial", c.Leaf.SerialNumber.Text(16)),
		slog.Time("not_after", c.Leaf.NotAfter),
	}
}
