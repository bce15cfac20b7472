package edge_test

import (
	"bufio"
	"context"
	"io"
	"strings"
	"testing"
	"time"
)

// Over stdio, after notifications/cancelled, no response for that id is
// written: a raw client reads every line the edge writes.
func TestStdioNoResponseForCancelledRequest(t *testing.T) {
	f := newFixture(t)
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	go func() {
		_ = f.edge.ServeStdio(context.Background(), inR, outW)
		_ = outW.Close()
	}()
	defer inW.Close()
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(outR)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	send := func(s string) {
		if _, err := io.WriteString(inW, s+"\n"); err != nil {
			t.Fatal(err)
		}
	}
	var seen []string
	until := func(id string) {
		t.Helper()
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("stdout closed before the response %s", id)
				}
				seen = append(seen, l)
				if strings.Contains(l, `"id":`+id+`,`) || strings.Contains(l, `"id":`+id+`}`) {
					return
				}
			case <-time.After(waitBound):
				t.Fatalf("no response %s", id)
			}
		}
	}
	send(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}`)
	until("1")
	send(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	send(`{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"sleep","arguments":{"ms":30000}}}`)
	waitFor(t, f.backend.Echo.Started, "sleep to start")
	send(`{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":5,"reason":"test"}}`)
	waitFor(t, f.backend.Echo.Ended, "the backend's context to end")
	send(`{"jsonrpc":"2.0","id":6,"method":"ping"}`)
	until("6")
	time.Sleep(100 * time.Millisecond) // room for a late write of id 5, were there one
	send(`{"jsonrpc":"2.0","id":7,"method":"ping"}`)
	until("7")
	for _, l := range seen {
		if strings.Contains(l, `"id":5`) {
			t.Errorf("a response for the cancelled id was written: %s", l)
		}
	}
}
