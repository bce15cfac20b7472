package limits_test

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/toolwire/toolwire/edge/policy/limits"
)

// serve runs srv on a loopback port until the test ends.
func serve(t *testing.T, srv *http.Server) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(l); !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
	}()
	t.Cleanup(func() {
		_ = srv.Close()
		<-done
	})
	return l.Addr().String()
}

func TestConfigureServerDefaults(t *testing.T) {
	srv := &http.Server{IdleTimeout: time.Minute}
	limits.ConfigureServer(srv, nil)
	if srv.ReadHeaderTimeout != 5*time.Second || srv.IdleTimeout != time.Minute || srv.MaxHeaderBytes != 64<<10 {
		t.Errorf("ReadHeaderTimeout %v, IdleTimeout %v, MaxHeaderBytes %d; want 5s, 1m (kept), 65536",
			srv.ReadHeaderTimeout, srv.IdleTimeout, srv.MaxHeaderBytes)
	}
	if srv.ReadTimeout != 0 || srv.WriteTimeout != 0 {
		t.Error("ConfigureServer set a whole-request timeout; streams need none")
	}
}

// TestSlowloris drips a request header one byte at a time; the server must
// close the connection after ReadHeaderTimeout, while a normal request on
// another connection is served meanwhile.
func TestSlowloris(t *testing.T) {
	const headerTimeout = 300 * time.Millisecond
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "ok")
	})}
	limits.ConfigureServer(srv, &limits.ServerOptions{ReadHeaderTimeout: headerTimeout})
	addr := serve(t, srv)

	slow, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	start := time.Now()
	closed := make(chan time.Duration, 1)
	go func() {
		header := "GET / HTTP/1.1\r\nHost: slow\r\nX-Slow: " + strings.Repeat("a", 10_000)
		for i := range len(header) {
			if _, err := slow.Write([]byte{header[i]}); err != nil {
				closed <- time.Since(start)
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
		closed <- -1
	}()
	// The connection must end: net/http writes a 400 and closes it when the
	// header deadline passes.
	ended := make(chan []byte, 1)
	go func() {
		got, _ := io.ReadAll(slow) // returns at EOF or reset
		ended <- got
	}()

	// A normal client is served while the slow one drips.
	client := newClient(t)
	resp, err := client.Get("http://" + addr)
	if err != nil {
		t.Fatalf("normal request during slowloris: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "ok" {
		t.Errorf("normal request: %d %q", resp.StatusCode, body)
	}

	select {
	case got := <-ended:
		t.Logf("slowloris connection closed %v after it opened (ReadHeaderTimeout %v); server wrote %q",
			time.Since(start).Round(time.Millisecond), headerTimeout, got)
		if bytes.Contains(got, []byte(" 200 ")) {
			t.Error("the server answered 200 to a header that never ended")
		}
	case <-time.After(20 * headerTimeout):
		t.Fatalf("slowloris connection still open after %v", 20*headerTimeout)
	}
	_ = slow.Close()
	<-closed
}

func TestMaxBytes(t *testing.T) {
	const limit = 1024
	var got []byte
	calls := 0
	h := limits.MaxBytes(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		got, _ = io.ReadAll(r.Body)
		w.WriteHeader(http.StatusNoContent)
	}), limit)
	addr := serve(t, &http.Server{Handler: h})
	client := newClient(t)

	for _, tc := range []struct {
		name    string
		size    int
		chunked bool
		want    int
	}{
		{"declared, at the limit", limit, false, 204},
		{"declared, over", limit + 1, false, 413},
		{"chunked, under", 512, true, 204},
		{"chunked, at the limit", limit, true, 204},
		{"chunked, over", 4 * limit, true, 413},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls, got = 0, nil
			payload := bytes.Repeat([]byte("x"), tc.size)
			var body io.Reader = bytes.NewReader(payload)
			if tc.chunked {
				body = io.MultiReader(body) // hides the length: sent chunked
			}
			resp, err := client.Post("http://"+addr, "application/json", body)
			if err != nil {
				t.Fatal(err)
			}
			msg, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d; want %d (body %q)", resp.StatusCode, tc.want, msg)
			}
			if tc.want == 413 {
				if calls != 0 {
					t.Error("the handler ran for an oversized body")
				}
				if !strings.Contains(string(msg), `"error":"request_too_large"`) || !strings.Contains(string(msg), "1024 bytes") {
					t.Errorf("413 body %q does not say what happened", msg)
				}
				return
			}
			if !bytes.Equal(got, payload) {
				t.Errorf("handler read %d bytes; want %d", len(got), len(payload))
			}
		})
	}
}
