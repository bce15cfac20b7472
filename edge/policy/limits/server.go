package limits

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"
)

// Defaults of [ConfigureServer] and [MaxBytes].
const (
	DefaultReadHeaderTimeout = 5 * time.Second
	DefaultIdleTimeout       = 120 * time.Second
	DefaultMaxHeaderBytes    = 64 << 10 // 64 KiB
	DefaultMaxBodyBytes      = 4 << 20  // 4 MiB
)

// ServerOptions configures [ConfigureServer]; zero fields, or nil, mean the
// defaults.
type ServerOptions struct {
	// ReadHeaderTimeout bounds the time to read a request's headers, which is
	// what stops a slowloris client that sends them a byte at a time.
	ReadHeaderTimeout time.Duration
	// IdleTimeout bounds how long a keep-alive connection waits for its next
	// request.
	IdleTimeout time.Duration
	// MaxHeaderBytes bounds the size of a request's headers.
	MaxHeaderBytes int
}

// ConfigureServer gives srv the edge's safe defaults: ReadHeaderTimeout 5 s,
// IdleTimeout 120 s, MaxHeaderBytes 64 KiB, or the values in opts. A field
// srv already sets is kept.
//
// It leaves ReadTimeout and WriteTimeout alone: they bound a whole request
// body or response, and the edge streams responses for as long as a tool
// runs. Streams are bounded by [StreamGuard] and [WithMaxDuration] instead,
// and bodies by [MaxBytes].
func ConfigureServer(srv *http.Server, opts *ServerOptions) {
	var o ServerOptions
	if opts != nil {
		o = *opts
	}
	if srv.ReadHeaderTimeout == 0 {
		srv.ReadHeaderTimeout = orDuration(o.ReadHeaderTimeout, DefaultReadHeaderTimeout)
	}
	if srv.IdleTimeout == 0 {
		srv.IdleTimeout = orDuration(o.IdleTimeout, DefaultIdleTimeout)
	}
	if srv.MaxHeaderBytes == 0 {
		srv.MaxHeaderBytes = DefaultMaxHeaderBytes
		if o.MaxHeaderBytes > 0 {
			srv.MaxHeaderBytes = o.MaxHeaderBytes
		}
	}
}

// MaxBytes wraps next so that a request body over limit bytes (0 means
// [DefaultMaxBodyBytes]) is answered 413 Content Too Large with a JSON body
// that says so, and never reaches next:
//
//	{"error":"request_too_large","message":"request body exceeds the limit of 4194304 bytes","limit":4194304}
//
// A declared Content-Length over limit is refused before any byte is read.
// A body of unknown length (chunked) is read first, up to limit, so that the
// limit is known to hold before next runs; MCP messages are read whole
// anyway. Either way the body is wrapped in http.MaxBytesReader, which also
// has the server close the connection after an oversized body.
func MaxBytes(next http.Handler, limit int64) http.Handler {
	if limit <= 0 {
		limit = DefaultMaxBodyBytes
	}
	tooLarge := []byte(`{"error":"request_too_large","message":"request body exceeds the limit of ` +
		strconv.FormatInt(limit, 10) + ` bytes","limit":` + strconv.FormatInt(limit, 10) + "}\n")
	refuse := func(w http.ResponseWriter) {
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Connection", "close")
		w.WriteHeader(http.StatusRequestEntityTooLarge)
		_, _ = w.Write(tooLarge) // the client may be gone; nothing to do then
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > limit {
			refuse(w)
			return
		}
		if r.Body == nil || r.Body == http.NoBody {
			next.ServeHTTP(w, r)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		if r.ContentLength < 0 {
			var buf bytes.Buffer
			if _, err := buf.ReadFrom(r.Body); err != nil {
				if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
					refuse(w)
					return
				}
				http.Error(w, "cannot read request body", http.StatusBadRequest)
				return
			}
			r.Body = io.NopCloser(&buf)
			r.ContentLength = int64(buf.Len())
		}
		next.ServeHTTP(w, r)
	})
}

func orDuration(v, def time.Duration) time.Duration {
	if v > 0 {
		return v
	}
	return def
}
