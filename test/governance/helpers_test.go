package governance

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// toolwireBin and echoBin are the binaries TestMain builds.
var toolwireBin, echoBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "toolwire-governance")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	toolwireBin, echoBin = filepath.Join(dir, "toolwire"), filepath.Join(dir, "echo-service")
	build := exec.Command("go", "build", "-o", dir+"/", "github.com/toolwire/toolwire/cmd/toolwire", "github.com/toolwire/toolwire/cmd/echo-service")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building toolwire:", err)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// requireOrSkip skips the test for a missing dependency, or fails it when
// CI=true, where every proof must run.
func requireOrSkip(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("CI=true requires this test: "+format, args...)
	}
	t.Skipf(format+" (with CI=true this is a failure)", args...)
}

// sharedRedis returns REDIS_URL, checked to answer.
func sharedRedis(t *testing.T) (string, *redis.Client) {
	t.Helper()
	url := os.Getenv("REDIS_URL")
	if url == "" {
		requireOrSkip(t, "REDIS_URL is not set; set it (e.g. REDIS_URL=redis://127.0.0.1:6379/0)")
	}
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatalf("REDIS_URL: %v", err)
	}
	c := redis.NewClient(opt)
	t.Cleanup(func() { _ = c.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("REDIS_URL is set but Redis does not answer: %v", err)
	}
	return url, c
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// syncBuffer collects a process's stderr.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// edgeProc is a running `toolwire demo`.
type edgeProc struct {
	base   string // http://127.0.0.1:PORT
	pid    int
	stderr *syncBuffer
}

var mcpURL = regexp.MustCompile(`http://127\.0\.0\.1:[0-9]+/mcp`)

// startEdge runs `toolwire demo` on a free loopback port with args, and
// stops it (SIGTERM, then SIGKILL) when the test ends.
func startEdge(t *testing.T, args ...string) *edgeProc {
	t.Helper()
	cmd := exec.Command(toolwireBin, append([]string{"demo", "--addr", "127.0.0.1:0"}, args...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &edgeProc{stderr: &syncBuffer{}}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p.pid = cmd.Process.Pid
	exited := make(chan struct{})
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if u := mcpURL.FindString(sc.Text()); u != "" {
				select {
				case urls <- strings.TrimSuffix(u, "/mcp"):
				default:
				}
			}
		}
	}()
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			t.Errorf("the edge did not stop within 10s of SIGTERM")
			_ = cmd.Process.Kill()
			<-exited
		}
	})
	select {
	case p.base = <-urls:
		return p
	case <-exited:
		t.Fatalf("toolwire demo %v exited: %s", args, p.stderr)
	case <-time.After(30 * time.Second):
		t.Fatalf("toolwire demo %v printed no URL: %s", args, p.stderr)
	}
	return nil
}

// startEcho runs echo-service on a free loopback port until the test ends,
// and returns its address once it serves.
func startEcho(t *testing.T) string {
	t.Helper()
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	cmd := exec.Command(echoBin, "--addr", addr)
	stderr := &syncBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	})
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if strings.Contains(stderr.String(), "echo service listening") {
			return addr
		}
		select {
		case <-exited:
			t.Fatalf("echo-service exited: %s", stderr)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("echo-service did not start: %s", stderr)
		}
	}
}

// scrape reads the edge's /metrics, series by series ("name{labels}" or
// "name") to value.
func scrape(t *testing.T, base string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatalf("scraping metrics: %v", err)
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err == nil {
			out[line[:i]] = v
		}
	}
	return out
}

// sum adds the series of metric name.
func sum(m map[string]float64, name string) float64 {
	var s float64
	for k, v := range m {
		if k == name || strings.HasPrefix(k, name+"{") {
			s += v
		}
	}
	return s
}

// newClient is an HTTP client whose connections come from the loopback
// address from (such as 127.0.0.2): without authentication the edge's
// principal is the client's address.
func newClient(from string, conns int) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
	return &http.Client{Transport: &http.Transport{
		DialContext:         d.DialContext,
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
	}}
}

// meta2026 is the _meta a 2026-07-28 request carries.
const meta2026 = `"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"governance","version":"1"}%s}`

// callRequest builds a sessionless (2026-07-28) tools/call POST: one HTTP
// request, one unit of the principal's budget.
func callRequest(ctx context.Context, base, tool, args, extraMeta string) *http.Request {
	body := fmt.Sprintf(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":%q,"arguments":%s,`+meta2026+`}}`, tool, args, extraMeta)
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/mcp", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Mcp-Protocol-Version", "2026-07-28")
	req.Header.Set("Mcp-Method", "tools/call")
	req.Header.Set("Mcp-Name", tool)
	return req
}

// answer is what a tools/call POST got.
type answer struct {
	status  int
	header  http.Header
	body    []byte
	result  json.RawMessage // the JSON-RPC result, if any
	errCode int64           // the JSON-RPC error code, if any
	errData json.RawMessage
	events  int // events before the response, on an event stream
}

// call sends a tools/call and reads the whole answer: a JSON body, or an
// event stream whose last message is the response.
func call(c *http.Client, req *http.Request) (answer, error) {
	resp, err := c.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return answer{}, err
	}
	a := answer{status: resp.StatusCode, header: resp.Header, body: body}
	if resp.StatusCode != http.StatusOK {
		return a, nil
	}
	data := body
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		data = nil
		for l := range strings.SplitSeq(string(body), "\n") {
			if d, ok := strings.CutPrefix(l, "data: "); ok {
				if data != nil {
					a.events++
				}
				data = []byte(d)
			}
		}
	}
	var msg struct {
		Result json.RawMessage `json:"result"`
		Error  *struct {
			Code int64           `json:"code"`
			Data json.RawMessage `json:"data"`
		} `json:"error"`
	}
	if err := json.Unmarshal(data, &msg); err != nil {
		return a, fmt.Errorf("response %q: %w", body, err)
	}
	a.result = msg.Result
	if msg.Error != nil {
		a.errCode, a.errData = msg.Error.Code, msg.Error.Data
	}
	return a, nil
}

// latencies summarises durations: count, p50, p99, max.
type latencies []time.Duration

func (l latencies) String() string {
	if len(l) == 0 {
		return "no calls"
	}
	s := slices.Clone(l)
	slices.Sort(s)
	q := func(p float64) time.Duration { return s[int(p*float64(len(s)-1))].Round(10 * time.Microsecond) }
	return fmt.Sprintf("%d calls, p50 %v, p99 %v, max %v", len(s), q(0.5), q(0.99), q(1))
}

func (l latencies) quantile(p float64) time.Duration {
	s := slices.Clone(l)
	slices.Sort(s)
	return s[int(p*float64(len(s)-1))]
}

// hammerResult counts the answers of a hammering.
type hammerResult struct {
	mu                   sync.Mutex
	admitted, limited    int
	other                map[string]int
	lat                  latencies
	first, lastRequested time.Time
}

func (h *hammerResult) String() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return fmt.Sprintf("admitted %d, 429 %d, other %v; %s", h.admitted, h.limited, h.other, h.lat)
}

// hammer sends echo calls to base from workers goroutines for d, and counts
// 200s with a result, 429s and anything else.
func hammer(t *testing.T, c *http.Client, base string, workers int, d time.Duration, into *hammerResult) {
	t.Helper()
	if into.other == nil {
		into.other = map[string]int{}
	}
	end := time.Now().Add(d)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				start := time.Now()
				if start.After(end) {
					return
				}
				into.mu.Lock()
				if into.first.IsZero() || start.Before(into.first) {
					into.first = start
				}
				if start.After(into.lastRequested) {
					into.lastRequested = start
				}
				into.mu.Unlock()
				a, err := call(c, callRequest(context.Background(), base, "echo", `{"text":"hi"}`, ""))
				el := time.Since(start)
				into.mu.Lock()
				into.lat = append(into.lat, el)
				switch {
				case err != nil:
					into.other["error: "+err.Error()]++
				case a.status == http.StatusOK && a.result != nil:
					into.admitted++
				case a.status == http.StatusTooManyRequests:
					into.limited++
				default:
					into.other[fmt.Sprintf("HTTP %d %s", a.status, a.body)]++
				}
				into.mu.Unlock()
			}
		})
	}
	wg.Wait()
}
